import { registry } from "@web/core/registry";

// A customer changes their subscription's quantity, the saved card it is
// charged to, and how often it comes, on its portal page.
registry.category("web_tour.tours").add("retention_subscription_customer_tour", {
    steps: () => [
        {
            content: "Order 3 from the next order on",
            trigger: ".o_retention_subscription_quantities input[type='number']",
            run: "edit 3",
        },
        {
            content: "Save the quantity",
            trigger: "button.o_retention_save_quantities",
            run: "click",
        },
        {
            content: "The page shows the new quantity",
            trigger: ".o_retention_subscription_quantities input[type='number']:value(3)",
        },
        {
            content: "Charged to the card ending in 1111 so far",
            trigger: ".o_retention_current_token:contains(1111)",
        },
        {
            content: "Choose the other saved card",
            trigger: ".o_retention_subscription_payment select[name='token_id']",
            run: "selectByLabel 2222",
        },
        {
            content: "Use it",
            trigger: ".o_retention_subscription_payment button[type='submit']",
            run: "click",
        },
        {
            content: "The subscription is charged to the new card",
            trigger: ".o_retention_current_token:contains(2222)",
        },
        {
            content: "Come every 3 months instead of every month",
            trigger: ".o_retention_subscription_recurrence select[name='recurrence']",
            run: "selectByLabel Every 3 months",
        },
        {
            content: "Change it",
            trigger: "button.o_retention_change_recurrence",
            run: "click",
        },
        {
            content: "The subscription now comes every 3 months, without an error",
            trigger:
                ".o_portal_retention_subscription:not(:has(.alert-danger)) .o_retention_recurrence:contains(Every 3 months)",
        },
    ],
});

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("retention_subscription_self_service_tour", {
    steps: () => [
        {
            content: "The quantity can be changed",
            trigger: ".o_retention_subscription_quantities input[type='number']",
            run: "edit 3",
        },
        {
            content: "Save it",
            trigger: "button.o_retention_save_quantities",
            run: "click",
        },
        {
            content: "The new quantity is kept",
            trigger: ".o_retention_subscription_quantities input[type='number']:value(3)",
        },
        {
            content: "Skip the next order",
            trigger: "button.o_retention_skip",
            run: "click",
        },
        {
            content: "One order at a time: no second skip is offered",
            trigger: ".o_portal_retention_subscription:not(:has(button.o_retention_skip))",
        },
    ],
});

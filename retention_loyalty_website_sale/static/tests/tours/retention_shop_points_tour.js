import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("retention_shop_points_tour", {
    url: "/shop/cart",
    steps: () => [
        {
            content: "The cart tells the points it earns",
            trigger: ".o_retention_points_earned_value:contains(/^100$/)",
        },
        {
            content: "The customer has 500 points to use",
            trigger: ".o_retention_points_balance:contains(/^500$/)",
        },
        {
            content: "Use 300 points",
            trigger: "form.o_retention_use_points input[name='points']",
            run: "edit 300",
        },
        {
            content: "Apply them",
            trigger: ".o_retention_use_points_button",
            run: "click",
        },
        {
            content: "The points pay 30.00: 70.00 is left to pay",
            trigger: ".o_retention_points_used:contains('300')",
        },
        {
            trigger: "tr#order_total .oe_currency_value:contains(/^70.00$/)",
        },
        {
            content: "Go to checkout: the address is complete, payment comes next",
            trigger: "a[name='website_sale_main_button']",
            run: "click",
        },
        {
            content: "The payment step still shows 70.00",
            trigger: "tr#order_total .oe_currency_value:contains(/^70.00$/)",
        },
        {
            content: "Pay with the demo provider",
            trigger: "input[name='o_payment_radio'][data-payment-method-code='demo']",
            run: "click",
        },
        {
            trigger: "input[name='customer_input']",
            run: "edit 4242424242424242",
        },
        {
            trigger: "button[name='o_payment_submit_button']:enabled",
            run: "click",
        },
        {
            content: "The payment went through",
            trigger:
                ".oe_website_sale_tx_status:contains('Your payment has been successfully processed.')",
        },
    ],
});

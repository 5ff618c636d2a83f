import { registry } from "@web/core/registry";

/** A day 40 days from now, as a date input takes it (YYYY-MM-DD). */
function inFortyDays() {
    const day = new Date();
    day.setDate(day.getDate() + 40);
    return day.toISOString().slice(0, 10);
}

registry.category("web_tour.tours").add("retention_portal_tour", {
    steps: () => [
        {
            content: "The customer sees their points",
            trigger: ".o_loyalty_card:contains('Tour Points'):contains('120 points')",
        },
        {
            content: "and when some of them expire",
            trigger: ".o_retention_points_expiry:contains('120 points expire on')",
        },
        {
            content: "and their club level",
            trigger: ".o_retention_clubs strong:contains('Tour Silver')",
        },
        {
            content: "Open their subscriptions",
            trigger: ".o_portal_index_card a[href='/my/subscriptions']",
            run: "click",
        },
        {
            content: "Open the monthly one",
            trigger: ".o_portal_my_doc_table tr:contains('Every month') a",
            run: "click",
        },
        {
            content: "The breadcrumb leads back to the list",
            trigger: ".o_portal_submenu a[href='/my/subscriptions']",
        },
        {
            content: "Pause it",
            trigger: ".o_portal_retention_subscription:contains('Next order on') button.o_retention_pause",
            run: "click",
        },
        {
            content: "Choose when it resumes",
            trigger: "#retention_pause_modal input[name='resume_date']",
            run() {
                this.anchor.value = inFortyDays();
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "Confirm the pause",
            trigger: "#retention_pause_modal button.o_retention_pause_confirm",
            run: "click",
        },
        {
            content: "The subscription is paused until that day",
            trigger: ".o_retention_subscription_status:contains('Paused until')",
        },
        {
            content: "Resume it",
            trigger: "button.o_retention_resume",
            run: "click",
        },
        {
            content: "It runs again",
            trigger:
                ".o_portal_retention_subscription:has(.badge:contains('Active')) .o_retention_subscription_status:contains('Next order on')",
        },
    ],
});

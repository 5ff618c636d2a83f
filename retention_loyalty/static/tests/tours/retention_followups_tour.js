import { registry } from "@web/core/registry";

const CUSTOMER = "Tour Customer Wholesale Coffee Roasters";

registry.category("web_tour.tours").add("retention_followups_tour", {
    steps: () => [
        {
            content: "The follow-up is in the list, with a phone number to call",
            trigger: `.o_list_view .o_data_row:contains('${CUSTOMER}') .o_field_phone a[href^='tel:']`,
        },
        {
            content: "and an e-mail address to write to",
            trigger: `.o_data_row:contains('${CUSTOMER}') .o_field_email a[href^='mailto:']`,
        },
        {
            content: "The customer's name is shown in full",
            trigger: `.o_data_row td[name='retention_partner_id']:contains('${CUSTOMER}')`,
            run() {
                const cell = this.anchor;
                if (cell.scrollWidth > cell.clientWidth + 1) {
                    const widths = [...document.querySelectorAll(".o_list_table thead th")].map(
                        (th) => `${th.dataset.name}:${th.getBoundingClientRect().width}`
                    );
                    throw new Error(
                        `The customer's name is cut: ${cell.scrollWidth} > ${cell.clientWidth} (${widths}) window ${window.innerWidth}`
                    );
                }
            },
        },
        {
            content: "Open the customer from the list",
            trigger: `.o_data_row td[name='retention_partner_id']:contains('${CUSTOMER}')`,
            run: "click",
        },
        {
            content: "The customer opens, under the follow-ups",
            trigger: `.o_breadcrumb:contains('My Retention Follow-ups') .o_last_breadcrumb_item:contains('${CUSTOMER}')`,
        },
        {
            content: "See why: the playbook's note, with the points about to expire",
            trigger: ".o-mail-Activity:contains('Tour playbook') .o-mail-Activity-note:contains('145 points expire on')",
        },
        {
            content: "Mark the call done",
            trigger: ".o-mail-Activity:contains('Tour playbook') .o-mail-Activity-markDone",
            run: "click",
        },
        {
            content: "Log the outcome",
            trigger: ".o-mail-ActivityMarkAsDone textarea",
            run: "edit Voicemail; they reorder next week",
        },
        {
            content: "Done, and schedule the next step",
            trigger: ".o-mail-ActivityMarkAsDone button[aria-label='Done and Schedule Next']",
            run: "click",
        },
        {
            content: "Describe the next step",
            trigger: ".modal .o_form_view div[name='summary'] input",
            run: "edit Call back about the order",
        },
        {
            content: "Schedule it",
            trigger: ".modal .modal-footer button[name='action_close_dialog']",
            run: "click",
        },
        {
            content: "The outcome is in the customer's history",
            trigger: ".o-mail-Message:contains('Voicemail; they reorder next week')",
        },
        {
            content: "and the next step is planned",
            trigger: ".o-mail-Activity:contains('Call back about the order')",
        },
        {
            content: "Back to the follow-ups",
            trigger: ".o_breadcrumb a:contains('My Retention Follow-ups')",
            run: "click",
        },
        {
            content: "The follow-ups as cards",
            trigger: ".o_control_panel .o_switch_view.o_kanban",
            run: "click",
        },
        {
            content: "A card shows the customer's tier, risk and value at stake",
            trigger: `.o_kanban_record:contains('${CUSTOMER}'):contains('Tour playbook'):contains('High'):contains('1,234.00') div[name='retention_value_tier_id']`,
        },
        {
            content: "Back to the list",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        {
            content: "The next step is a follow-up too: mark it done from the list",
            trigger: `.o_data_row:contains('${CUSTOMER}') button[name='action_retention_log_outcome']`,
            run: "click",
        },
        {
            content: "The dialog shows the customer and asks for the outcome",
            trigger: `.modal .o_form_view:contains('${CUSTOMER}') div[name='retention_outcome'] textarea`,
            run: "edit Ordered three bags",
        },
        {
            content: "Done",
            trigger: ".modal .modal-footer button[name='action_retention_done']",
            run: "click",
        },
        {
            content: "Nothing left to do",
            trigger: ".o_view_nocontent",
        },
    ],
});

registry.category("web_tour.tours").add("retention_month_to_date_tour", {
    steps: () => [
        {
            content: "A salesperson asks for this month's scorecard so far",
            trigger: ".o_control_panel button[name='action_month_to_date']",
            run: "click",
        },
        {
            content: "Their scorecard of the month opens, to be approved by an administrator",
            trigger: ".o_form_view:contains('Tour Seller') .o_statusbar_status .o_arrow_button_current:contains('To Approve')",
        },
        {
            content: "which a salesperson cannot approve",
            trigger: ".o_form_view:not(:has(button[name='action_approve']))",
        },
        {
            content: "Back to the scorecards: theirs is in the list",
            trigger: ".o_breadcrumb a:contains('Salesperson Scorecards')",
            run: "click",
        },
        {
            content: "Only their own",
            trigger: ".o_list_view:not(:has(.o_data_row:not(:contains('Tour Seller')))) .o_data_row:contains('Tour Seller')",
        },
    ],
});

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("retention_followups_tour", {
    steps: () => [
        {
            content: "The follow-up of the tour customer is in the list",
            trigger: ".o_list_view .o_data_row:contains('Tour Customer')",
        },
        {
            content: "Open the customer",
            trigger: ".o_data_row:contains('Tour Customer') button[name='action_retention_open_customer']",
            run: "click",
        },
        {
            content: "The customer form shows their retention figures",
            trigger: ".o_form_view .o_notebook a:contains('Retention')",
        },
        {
            content: "Back to the follow-ups",
            trigger: ".o_breadcrumb a:contains('My Retention Follow-ups')",
            run: "click",
        },
        {
            content: "Mark the follow-up done",
            trigger: ".o_data_row:contains('Tour Customer') button[name='action_done']",
            run: "click",
        },
        {
            content: "Nothing left to do",
            trigger: ".o_view_nocontent, .o_list_view:not(:has(.o_data_row))",
        },
    ],
});

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("retention_home_tour", {
    steps: () => [
        {
            content: "The home counts the customers at risk",
            trigger: ".o_retention_tile_at_risk .o_retention_tile_value:contains('1')",
        },
        {
            content: "Follow-ups, revenue, points, MRR and churn are there too",
            trigger:
                ".o_retention_home:has(.o_retention_tile_followups):has(.o_retention_tile_retained_revenue):has(.o_retention_tile_points_liability):has(.o_retention_tile_mrr):has(.o_retention_tile_churn)",
        },
        {
            content: "Open the customers at risk",
            trigger: ".o_retention_tile_at_risk",
            run: "click",
        },
        {
            content: "The list shows the customer the figure counted, and only them",
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains('Home Tour Safe'))) .o_data_row:contains('Home Tour At Risk')",
        },
        {
            content: "Back home",
            trigger: ".o_breadcrumb a:contains('Retention')",
            run: "click",
        },
        {
            content: "Open the playbooks",
            trigger: ".o_menu_sections button:contains('Configuration')",
            run: "click",
        },
        {
            trigger: ".dropdown-item:contains('Playbooks')",
            run: "click",
        },
        {
            content: "Open the playbook that called the customers",
            trigger: ".o_data_row td:contains('Home Tour Call')",
            run: "click",
        },
        {
            content: "See its effect",
            trigger: ".o_form_view button[name='action_view_effect']",
            run: "click",
        },
        {
            content: "Reached customers against the control group",
            trigger: ".o_list_view .o_data_row:contains('Home Tour Call')",
        },
    ],
});

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("retention_dashboard_tour", {
    steps: () => [
        {
            content: "The overview pivot shows the active customers of each month",
            trigger: ".o_pivot th.o_pivot_measure_row:contains('Active Customers')",
        },
        {
            content: "Open the customers behind the grand total",
            trigger: ".o_pivot tbody tr:first-child td.o_pivot_cell_value",
            run: "click",
        },
        {
            content: "The customer-months behind the figure are listed",
            trigger: ".o_list_view .o_data_row:contains('Tour Dashboard Customer')",
        },
    ],
});

registry.category("web_tour.tours").add("retention_scorecard_tour", {
    steps: () => [
        {
            content: "The salesperson sees their own scorecard only",
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains('Tour Other Seller'))) .o_data_row:contains('Tour Seller')",
        },
        {
            content: "Open it",
            trigger: ".o_data_row:contains('Tour Seller') td[name='date_start']",
            run: "click",
        },
        {
            content: "The scorecard lists the customers behind its figures",
            trigger: ".o_form_view .o_field_widget[name='line_ids'] .o_data_row:contains('Tour Dashboard Customer')",
        },
    ],
});

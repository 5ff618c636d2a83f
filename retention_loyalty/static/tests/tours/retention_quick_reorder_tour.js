import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("retention_quick_reorder_tour", {
    steps: () => [
        {
            content: "Open Quick reorder from the portal home",
            trigger: ".o_portal_index_card a[href='/my/reorder']",
            run: "click",
        },
        {
            content: "The usual beans are proposed with the usual quantity",
            trigger: "tr.o_retention_usual:contains('Route Beans') input.o_retention_reorder_qty",
        },
        {
            content: "Order more beans this time",
            trigger: "tr:contains('Route Beans') input.o_retention_reorder_qty",
            run: "edit 6",
        },
        {
            content: "Get the quotation",
            trigger: "button.o_retention_quick_reorder_submit",
            run: "click",
        },
        {
            content: "The quotation's own portal page opens, ready to sign or pay",
            trigger: "#quote_content:contains('Route Beans')",
        },
    ],
});

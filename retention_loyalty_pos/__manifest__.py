{
    "name": "Customer Retention & Loyalty - Point of Sale",
    "summary": "Point of Sale orders count as purchases; points at the till go through the ledger",
    "version": "18.0.1.1.0",
    "category": "Sales/Point of Sale",
    "website": "https://github.com/retention-loyalty/retention_loyalty",
    "author": "retention_loyalty developers",
    "license": "LGPL-3",
    "depends": ["retention_loyalty", "pos_loyalty"],
    "auto_install": True,
    "data": [
        "views/retention_points_entry_views.xml",
        "views/retention_playbook_run_views.xml",
    ],
    "demo": [
        "demo/retention_pos_demo.xml",
    ],
    "assets": {
        "point_of_sale._assets_pos": [
            "retention_loyalty_pos/static/src/**/*",
        ],
        "web.assets_tests": [
            "retention_loyalty_pos/static/tests/tours/**/*",
        ],
    },
    "post_init_hook": "post_init_hook",
}

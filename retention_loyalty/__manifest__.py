{
    "name": "Customer Retention & Loyalty",
    "summary": "Know, reward and keep your customers: value tiers, churn risk, "
    "loyalty points, clubs, subscriptions and follow-ups",
    "version": "18.0.1.1.0",
    "category": "Sales/Sales",
    "website": "https://github.com/retention-loyalty/retention_loyalty",
    "author": "retention_loyalty developers",
    "license": "LGPL-3",
    "application": True,
    "depends": ["sale_management", "sale_loyalty", "mail"],
    "external_dependencies": {"python": ["numpy", "scipy"]},
    "data": [
        "security/retention_security.xml",
        "security/ir.model.access.csv",
        "security/retention_rules.xml",
        "data/ir_cron_data.xml",
        "views/retention_customer_stat_views.xml",
        "views/retention_config_views.xml",
        "views/res_partner_views.xml",
        "views/sale_order_views.xml",
        "views/retention_menus.xml",
    ],
    "demo": [
        "demo/retention_demo.xml",
    ],
}

{
    "name": "Customer Retention & Loyalty",
    "summary": "Know, reward and keep your customers: value tiers, churn risk, "
    "loyalty points, clubs, subscriptions and follow-ups",
    "version": "18.0.1.0.0",
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
        "views/retention_menus.xml",
    ],
    "demo": [
        "demo/retention_demo.xml",
    ],
}

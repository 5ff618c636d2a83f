{
    "name": "Customer Retention & Loyalty - Deliveries",
    "summary": "Late deliveries and returns start retention playbooks",
    "version": "18.0.1.0.0",
    "category": "Inventory/Delivery",
    "website": "https://github.com/retention-loyalty/retention_loyalty",
    "author": "retention_loyalty developers",
    "license": "LGPL-3",
    "depends": ["retention_loyalty", "sale_stock"],
    "auto_install": True,
    "data": [
        "data/retention_playbook_data.xml",
    ],
    "demo": [
        "demo/retention_demo.xml",
    ],
}

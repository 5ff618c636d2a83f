{
    "name": "Customer Retention & Loyalty - Mailing Lists",
    "summary": "Retention playbooks subscribe customers to mailing lists",
    "version": "18.0.1.0.0",
    "category": "Marketing/Email Marketing",
    "website": "https://github.com/retention-loyalty/retention_loyalty",
    "author": "retention_loyalty developers",
    "license": "LGPL-3",
    "depends": ["retention_loyalty", "mass_mailing"],
    "auto_install": True,
    "data": [
        "data/retention_playbook_data.xml",
        "views/retention_playbook_views.xml",
        "views/loyalty_program_views.xml",
    ],
}

{
    "name": "Customer Retention & Loyalty - Events",
    "summary": "Retention playbooks invite customers to events",
    "version": "18.0.1.0.0",
    "category": "Marketing/Events",
    "website": "https://github.com/retention-loyalty/retention_loyalty",
    "author": "retention_loyalty developers",
    "license": "LGPL-3",
    "depends": ["retention_loyalty", "event"],
    "auto_install": True,
    "data": [
        "data/mail_template_data.xml",
        "data/retention_playbook_tiers.xml",
        "views/retention_playbook_views.xml",
    ],
}

{
    "name": "Customer Retention & Loyalty - Surveys",
    "summary": "Retention playbooks send satisfaction surveys; detractors get a call",
    "version": "18.0.1.0.0",
    "category": "Marketing/Surveys",
    "website": "https://github.com/retention-loyalty/retention_loyalty",
    "author": "retention_loyalty developers",
    "license": "LGPL-3",
    "depends": ["retention_loyalty", "survey"],
    "auto_install": True,
    "data": [
        "security/ir.model.access.csv",
        "security/retention_survey_rules.xml",
        "data/retention_playbook_data.xml",
        "views/retention_playbook_views.xml",
        "views/retention_nps_answer_views.xml",
    ],
}

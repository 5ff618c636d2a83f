def post_init_hook(env):
    """Bring the balances of existing loyalty cards into the ledger, order by
    order where Odoo's records allow it, and give existing loyalty programs
    the default expiry reminder."""
    programs = (
        env["loyalty.program"]
        .with_context(active_test=False)
        .search([("program_type", "=", "loyalty")])
    )
    template = env.ref("retention_loyalty.mail_template_points_expiry_reminder")
    programs.filtered(lambda program: not program.retention_reminder_template_id).write(
        {"retention_reminder_template_id": template.id}
    )
    env["loyalty.card"].with_context(active_test=False).search(
        [("program_id", "in", programs.ids)]
    )._retention_open_ledger_from_orders()

def post_init_hook(env):
    """Companies counting sales orders count their Point of Sale orders too
    from now on: their figures are recomputed in full at the next run."""
    companies = env["res.company"].search([("retention_revenue_source", "=", "orders")])
    companies.write(
        {
            "retention_revenue_source": "orders_pos",
            "retention_full_run_requested": True,
            "retention_dashboard_requested": True,
        }
    )

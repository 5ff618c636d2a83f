def migrate(cr, version):
    """The portal rules of subscriptions come from a noupdate file, which an
    update does not apply to existing records: drop them, so that the update
    creates them again, now without draft subscriptions."""
    if not version:
        return
    cr.execute(
        """
        DELETE FROM ir_rule
         WHERE id IN (
               SELECT res_id FROM ir_model_data
                WHERE module = 'retention_loyalty' AND model = 'ir.rule'
                  AND name IN ('retention_subscription_portal_rule',
                               'retention_subscription_line_portal_rule'))
        """
    )
    cr.execute(
        """
        DELETE FROM ir_model_data
         WHERE module = 'retention_loyalty' AND model = 'ir.rule'
           AND name IN ('retention_subscription_portal_rule',
                        'retention_subscription_line_portal_rule')
        """
    )

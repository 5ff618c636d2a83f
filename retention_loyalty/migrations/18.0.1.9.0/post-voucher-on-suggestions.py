def migrate(cr, version):
    """The ready-made thank-you playbook's voucher now applies to the products
    suggested for the customer, so its program's reward is a discount on
    specific products (any product when a card is not limited). Data is
    noupdate: changed only while that playbook is still archived, as shipped."""
    if not version:
        return
    cr.execute(
        """
        WITH thank_you AS (
            SELECT action.id AS action_id, action.program_id
              FROM retention_playbook_action action
              JOIN retention_playbook playbook ON playbook.id = action.playbook_id
              JOIN ir_model_data data
                ON data.module = 'retention_loyalty' AND data.name = 'playbook_thank_you'
               AND data.model = 'retention.playbook' AND data.res_id = playbook.id
             WHERE NOT playbook.active AND action.kind = 'coupon'
        ), rewards AS (
            UPDATE loyalty_reward reward
               SET discount_applicability = 'specific'
              FROM thank_you
             WHERE reward.program_id = thank_you.program_id
               AND reward.reward_type = 'discount'
               AND reward.discount_applicability = 'order'
        )
        UPDATE retention_playbook_action action
           SET coupon_products = 'suggested'
          FROM thank_you
         WHERE action.id = thank_you.action_id
        """
    )

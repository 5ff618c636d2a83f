from odoo import fields, models


class RetentionPlaybookRun(models.Model):
    _inherit = "retention.playbook.run"

    pos_order_id = fields.Many2one(
        "pos.order",
        string="Triggering PoS Order",
        index="btree_not_null",
        ondelete="set null",
        help="The paid Point of Sale order that triggered this run.",
    )

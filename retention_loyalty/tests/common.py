from datetime import date, datetime, time, timedelta

from odoo import SUPERUSER_ID, Command, api
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, new_test_user

TODAY = date(2026, 6, 30)


class RetentionCase(TransactionCase):
    """A company's customers with hand-made order histories."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, tracking_disable=True, sale_no_log_for_new_lines=True)
        )
        cls.company = cls.env.company
        cls.product = make_product(cls.env, "Retention Coffee", 10.0)
        cls.salesman = new_test_user(
            cls.env, login="rl_stat_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.other_salesman = new_test_user(
            cls.env, login="rl_stat_other", groups="sales_team.group_sale_salesman"
        )
        cls.Stat = cls.env["retention.customer.stat"]

    @classmethod
    def _customer(cls, name, **values):
        return cls.env["res.partner"].create({"name": name, **values})

    @classmethod
    def _orders(cls, partner, days_ago, amount=100.0, **values):
        """Confirmed orders of ``amount`` each, ``days_ago`` days before TODAY."""
        return cls.env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "date_order": datetime.combine(TODAY - timedelta(days=ago), time(10)),
                    "state": "sale",
                    "order_line": [
                        Command.create(
                            {
                                "product_id": cls.product.id,
                                "product_uom_qty": 1,
                                "price_unit": amount,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                    **values,
                }
                for ago in days_ago
            ]
        )

    @classmethod
    def _regular_customers(cls, count, prefix="Regular", gap=30, since=720, **values):
        """``count`` customers buying every ``gap`` days (shifted a little each)."""
        partners = cls.env["res.partner"].create(
            [{"name": f"{prefix} {index}", **values} for index in range(count)]
        )
        for index, partner in enumerate(partners):
            cls._orders(partner, range(since - index, index % 7, -gap), amount=50 + index)
        return partners

    def _stat(self, partner, company=None):
        return self.Stat.search(
            [("partner_id", "=", partner.id), ("company_id", "=", (company or self.company).id)]
        )

    def _recompute(self, company=None, **kwargs):
        return self.Stat._recompute_company(company or self.company, today=TODAY, **kwargs)


def make_product(env, name, price, **values):
    """A product without taxes, so that amounts are what the tests say."""
    return env["product.product"].create(
        {
            "name": name,
            "list_price": price,
            "taxes_id": [Command.clear()],
            # No delivery: Inventory's pickings (the deliveries bridge) are not ours to count.
            "type": "service",
            **values,
        }
    )


def pos_sale_queries(env):
    """Queries Odoo's ``pos_sale`` (auto-installed with Point of Sale and
    Sales, as the PoS bridge brings) adds to confirming an order paid with
    points: 63 queries without it, 64 with it, our code the same."""
    return int("pos_order_line_ids" in env["sale.order.line"]._fields)


def website_sale_queries(env):
    """Queries eCommerce (``website_sale``, which the shop bridge brings) adds
    to creating a batch of orders: the website and its base URL are read."""
    return int("website_id" in env["sale.order"]._fields)


def inventory_queries(env):
    """Queries Inventory (``sale_stock``, which the deliveries bridge brings)
    adds to confirming one order, even of services: not ours to save."""
    return int("picking_ids" in env["sale.order"]._fields)


def make_playbook(env, trigger, **values):
    """A playbook of ``trigger`` that schedules a call, without a control group."""
    call = env.ref("mail.mail_activity_data_call")
    return env["retention.playbook"].create(
        {
            "name": f"Playbook {trigger}",
            "trigger": trigger,
            "control_percent": 0,
            "action_ids": [Command.create({"kind": "activity", "activity_type_id": call.id})],
            **values,
        }
    )


def make_order(env, partner, product, amount, day=None, confirm=True, **values):
    """A sales order of one untaxed line. With ``day``, it is created
    confirmed at that date (history); else confirmed through action_confirm
    when ``confirm`` is set, as a user would."""
    vals = {
        "partner_id": partner.id,
        "order_line": [
            Command.create(
                {
                    "product_id": product.id,
                    "product_uom_qty": 1,
                    "price_unit": amount,
                    "tax_id": [Command.clear()],
                }
            )
        ],
        **values,
    }
    if day:
        vals.update({"date_order": datetime.combine(day, time(10)), "state": "sale"})
    order = env["sale.order"].create(vals)
    if confirm and not day:
        order.action_confirm()
    return order


def make_points_program(env, name, reward=None, **values):
    """A loyalty program on current and future orders earning 1 point per
    unit of currency, with one discount ``reward`` (values of a
    loyalty.reward) on the whole order if given, else Odoo's default one."""
    if reward:
        values["reward_ids"] = [
            Command.create({"reward_type": "discount", "discount_applicability": "order", **reward})
        ]
    return env["loyalty.program"].create(
        {
            "name": name,
            "program_type": "loyalty",
            "applies_on": "both",
            "trigger": "auto",
            "portal_point_name": "points",
            "rule_ids": [
                Command.create(
                    {"reward_point_mode": "money", "reward_point_amount": 1, "minimum_amount": 0}
                )
            ],
            **values,
        }
    )


class PointsCardMixin:
    """Reads of the customer's card of ``self.program`` and its ledger."""

    # Order of _entries(); None is the ledger's own (newest first).
    entries_order = None

    def _card(self, partner=None):
        return self.env["loyalty.card"].search(
            [
                ("partner_id", "=", (partner or self.customer).id),
                ("program_id", "=", self.program.id),
            ]
        )

    def _entries(self, card=None):
        return self.env["retention.points.entry"].search(
            [("card_id", "=", (card or self._card()).id)], order=self.entries_order
        )


def own_cursor_env(case, uid=SUPERUSER_ID, **context):
    """An environment on a database connection of its own, as a second worker
    has (its transactions commit apart from the test's); closed when ``case``
    ends."""
    cursor = db_connect(case.env.cr.dbname).cursor()
    case.addCleanup(cursor.close)
    return api.Environment(cursor, uid, {"tracking_disable": True, **context})

import logging
import random
import time as clock
from collections import defaultdict
from datetime import datetime, time, timedelta

from odoo import Command, api, fields, models
from odoo.tools import SQL

from ..engine import demo_history
from ..engine.customer_movement import month_start
from ..engine.dates import add_months
from .loyalty_card import ledger_posting

DEMO_XMLID_PREFIX = "retention_loyalty.demo_"
DEMO_SEED = 42
DEMO_CUSTOMERS = 300
PRODUCT_CODE_PREFIX = "RL-"
# Ready-made playbooks the demo turns on and runs over past months. Playbooks
# that send emails stay off: a demo database has no mail server. The welcome
# call is turned on for the orders to come only: new customers reorder soon
# anyway, so a few months of it measure mostly the control group's luck.
DEMO_PLAYBOOKS = (
    "retention_loyalty.playbook_a_tier_cadence",
    "retention_loyalty.playbook_high_value_at_risk",
    "retention_loyalty.playbook_points_expiring",
)
DEMO_LIVE_PLAYBOOKS = ("retention_loyalty.playbook_welcome_call",)
# A demo playbook that does not pay: bonus points to overdue customers, with
# nobody calling them, cost their face value and bring no more orders than the
# control group places anyway (Reporting > Playbook ROI).
DEMO_WIN_BACK_POINTS = 600
DEMO_COST_SHARE = 0.6
# A subscriber (see _demo_subscriptions) who signs in to the portal.
DEMO_PORTAL_CUSTOMER = 43
# A larger control group than the default 10 %: with a few hundred customers
# the effect is then measured on more than a handful of them. The effect is
# measured over three weeks: most good customers reorder within 60 days anyway.
DEMO_CONTROL_PERCENT = 25.0
DEMO_EFFECT_WINDOW_DAYS = 21
# The playbooks ran every 30 days, the last time 5 days ago, after the nightly
# statistics of that day; then once more today.
DEMO_ROUNDS = 7
DEMO_ROUND_DAYS = 30
DEMO_LAST_ROUND_DAYS_AGO = 5
# Salespeople leave some follow-ups open; most of the customers they call who
# would not have ordered within the effect window order a few days after the
# call (the control group is not called).
DEMO_FORGOTTEN_SHARE = 0.15
DEMO_CANCEL_AFTER_DAYS = 45
# The newest customers came by referral from long-standing ones.
DEMO_REFERRALS = 8
DEMO_REORDER_SHARE = 0.7
# Regular customers the demo gives a service failure to (an invoice 15 days
# overdue, a cancelled quotation): their risk rises, with the reason.
DEMO_OVERDUE_INVOICES = 8
DEMO_LOST_QUOTATIONS = 4
# Customers with a complete profile (half of them celebrate their birthday
# on the demo's day), and the demo program's bonuses for both.
DEMO_PROFILES = 6
DEMO_PROFILE_BONUS = 50.0
DEMO_BIRTHDAY_BONUS = 100.0
DEMO_FEEDBACK = (
    "Called: they will order next week.",
    "Left a voicemail and sent our new catalogue.",
    "Spoke to the buyer: happy, stock is running low.",
)

_logger = logging.getLogger(__name__)


class RetentionDemoGenerator(models.AbstractModel):
    """Turns the engine's synthetic history into partners, products, users,
    confirmed sales orders and loyalty cards, in a few batched creates."""

    _name = "retention.demo.generator"
    _description = "Retention Demo Data Generator"

    @api.model
    def _demo_dashboard(self, company):
        """A bonus plan, the dashboard and last month's scorecards."""
        company.write(
            {
                "retention_bonus_expansion_percent": 5.0,
                "retention_bonus_per_reactivated": 50.0,
                "retention_bonus_churn_penalty": 100.0,
                "retention_bonus_high_value_threshold": 1000.0,
            }
        )
        self.env["retention.customer.month"]._rebuild_company(company)
        last_month = add_months(month_start(fields.Date.context_today(self)), -1)
        self.env["retention.scorecard"]._compute_period(company, "month", last_month)

    @api.model
    def _generate_demo_data(self):
        """Entry point of the demo XML: create the demo base once and give
        its records XML ids, so module uninstall removes them."""
        if self.env.ref(f"{DEMO_XMLID_PREFIX}customer_0000", raise_if_not_found=False):
            return False
        # Two years of past orders were delivered long ago: with Inventory
        # installed, none of them gets a delivery waiting in the warehouse.
        return self.with_context(skip_procurement=True)._create_demo_database()

    @api.model
    def _create_demo_database(self):
        started = clock.monotonic()
        history = demo_history.generate_demo_history(
            seed=DEMO_SEED,
            n_customers=DEMO_CUSTOMERS,
            today=fields.Date.context_today(self),
        )
        created = self._create_demo_history(history)
        # noupdate: records that no data file declares would otherwise be
        # deleted as "removed from the module" at its next update.
        xmlids = [
            {"xml_id": f"{DEMO_XMLID_PREFIX}customer_{key}", "record": partner, "noupdate": True}
            for key, partner in created["customers"].items()
        ]
        xmlids += [
            {"xml_id": f"{DEMO_XMLID_PREFIX}product_{key}", "record": product, "noupdate": True}
            for key, product in created["products"].items()
        ]
        xmlids.append(
            {
                "xml_id": f"{DEMO_XMLID_PREFIX}loyalty_program",
                "record": created["program"],
                "noupdate": True,
            }
        )
        xmlids += [
            {"xml_id": f"{DEMO_XMLID_PREFIX}{key}", "record": created[key], "noupdate": True}
            for key in ("vip_tag", "campaign")
        ]
        self.env["ir.model.data"]._update_xmlids(xmlids)
        # Past months of statistics, segment changes and follow-ups, then
        # today's: demo databases open with every screen alive.
        playbooks = self._demo_followup_history(self.env.company, created)
        self.env["retention.customer.stat"]._recompute_company(self.env.company, full=True)
        clubs = self._demo_clubs(self.env, self.env.company, created["customers"])
        clubs.update(self._demo_subscriptions(self.env, created["customers"], created["products"]))
        self.env["ir.model.data"]._update_xmlids(
            [
                {"xml_id": f"{DEMO_XMLID_PREFIX}{key}", "record": record, "noupdate": True}
                for key, record in clubs.items()
            ]
        )
        today = fields.Date.context_today(self)
        self._demo_playbook_round(
            playbooks, today, since=today - timedelta(days=DEMO_LAST_ROUND_DAYS_AGO)
        )
        self.env["retention.playbook"].browse(
            [self.env.ref(xmlid).id for xmlid in DEMO_LIVE_PLAYBOOKS]
        ).write({"active": True, "control_percent": DEMO_CONTROL_PERCENT})
        self._demo_dashboard(self.env.company)
        self._demo_reorders_and_portal(self.env.company, created)
        self._demo_service_and_hand_over(self.env.company)
        self._demo_referrals(self.env.company, created)
        self._demo_bonus_points(created)
        _logger.info(
            "Retention demo data: %s customers, %s confirmed orders in %.1f s",
            len(created["customers"]),
            len(created["orders"]),
            clock.monotonic() - started,
        )
        return True

    @api.model
    def _demo_reorders_and_portal(self, company, created):
        """Products bought together, today's usual-basket proposals, and a
        portal customer (a key account with a subscription and points) to
        sign in as."""
        self.env["retention.product.affinity"]._refresh_company(company)
        reorder = self.env.ref("retention_loyalty.playbook_reorder_due")
        reorder.write({"active": True, "control_percent": DEMO_CONTROL_PERCENT})
        reorder._evaluate(fields.Date.context_today(self))
        customer = list(created["customers"].values())[DEMO_PORTAL_CUSTOMER]
        customer.retention_key_account = True
        login = "retention.demo.portal"
        if (
            not self.env["res.users"]
            .with_context(active_test=False)
            .search_count([("login", "=", login)])
        ):
            self.env["res.users"].with_context(no_reset_password=True).create(
                {
                    "name": customer.name,
                    "login": login,
                    # Demo databases only: lets a tester sign in as a customer.
                    "password": login,
                    "partner_id": customer.id,
                    "company_id": company.id,
                    "company_ids": [Command.link(company.id)],
                    "groups_id": [Command.set([self.env.ref("base.group_portal").id])],
                }
            )

    @api.model
    def _demo_service_and_hand_over(self, company):
        """Service failures of regular customers (invoices 15 days overdue, a
        cancelled quotation) that raise their risk with the reason, the two
        service recovery playbooks run on them today, and a customer handed
        over to another salesperson with their open follow-ups."""
        today = fields.Date.context_today(self)
        regulars = (
            self.env["retention.customer.stat"]
            .search(
                [("company_id", "=", company.id), ("risk_level", "=", "low")],
                order="value_at_stake desc, id",
            )
            .partner_id.filtered("user_id")
        )
        portal_customer = self.env["res.users"].search([("login", "=", "retention.demo.portal")])
        regulars -= portal_customer.partner_id
        Order = self.env["sale.order"]
        last_orders = {
            customer: Order.search(
                [("partner_id", "child_of", customer.id), ("state", "=", "sale")],
                order="date_order desc",
                limit=1,
            )
            for customer in regulars[: DEMO_OVERDUE_INVOICES + DEMO_LOST_QUOTATIONS]
        }
        overdue = list(last_orders.items())[:DEMO_OVERDUE_INVOICES]
        # Invoiced for what was ordered: the demo's goods are invoiced on
        # delivery, and its past orders have no deliveries.
        invoices = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": order.partner_id.id,
                    "invoice_date": today - timedelta(days=45),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": line.product_id.id,
                                "quantity": line.product_uom_qty,
                                "price_unit": line.price_unit,
                                "tax_ids": [Command.set(line.tax_id.ids)],
                                "sale_line_ids": [Command.link(line.id)],
                            }
                        )
                        for line in order.order_line.filtered("product_id")
                    ],
                }
                for _customer, order in overdue
            ]
        )
        invoices.action_post()
        # Posting sets the due dates from the payment terms.
        invoices.invoice_date_due = today - timedelta(days=15)
        quotations = Order.create(
            [
                {
                    "partner_id": order.partner_id.id,
                    "user_id": customer.user_id.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": 5})
                        for product in order.order_line.product_id[:2]
                    ],
                }
                for customer, order in list(last_orders.items())[DEMO_OVERDUE_INVOICES:]
            ]
        )
        quotations._action_cancel()
        self.env["retention.customer.stat"]._recompute_company(company, full=True)
        playbooks = self.env.ref("retention_loyalty.playbook_invoice_overdue") | self.env.ref(
            "retention_loyalty.playbook_quotation_lost"
        )
        playbooks.write({"active": True, "control_percent": DEMO_CONTROL_PERCENT})
        self._demo_playbook_round(playbooks, today, since=today - timedelta(days=1))
        # A customer with open follow-ups moves to another salesperson.
        followup = self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("retention_playbook_id", "!=", False),
                ("res_id", "in", regulars.ids),
            ],
            order="date_deadline, id",
            limit=1,
        )
        customer = self.env["res.partner"].browse(followup.res_id)
        colleagues = self.env["res.users"].search(
            [("login", "=like", "retention.demo.%"), ("share", "=", False)], order="login"
        )
        colleague = (colleagues - customer.user_id)[:1]
        if customer and colleague:
            customer.user_id = colleague

    @api.model
    def _demo_bonus_points(self, created):
        """Points for more than purchases: a few customers told us their
        birthday, interests and marketing consent (a complete profile), and
        some of them celebrate their birthday today; the daily job gives the
        birthday bonus, saving the profile the profile bonus."""
        today = fields.Date.context_today(self)
        # People: a company has no birthday.
        people = [customer for customer in created["customers"].values() if not customer.is_company]
        customers = people[-DEMO_PROFILES:]
        categories = self.env["product.category"].search(
            [("name", "in", [product.categ_id.name for product in created["products"].values()])]
        )
        for index, customer in enumerate(customers):
            celebrates = index % 2 == 0
            birthday = today if celebrates else today - timedelta(days=40 + index)
            customer.write(
                {
                    "retention_birthday": add_months(birthday, -12 * (30 + index)),
                    "retention_preference_ids": [Command.set(categories[index % 3 :][:2].ids)],
                    "retention_marketing_consent": "yes" if index % 3 else "no",
                }
            )
        self.env["res.partner"]._cron_retention_bonus()

    @api.model
    def _demo_referrals(self, company, created):
        """The newest customers were referred by long-standing ones: most were
        rewarded (100 points for the referrer, 50 for them) on the day of
        their first order, one still waits for its payment and one was
        refused as a self-referral."""
        env = self._demo_env(loyalty_no_mail=True)
        program = created["program"].with_env(env)
        program.write({"retention_referrer_points": 100, "retention_referred_points": 50})
        first_orders = {}
        for order in created["orders"].sorted(lambda order: (order.date_order, order.id)):
            first_orders.setdefault(order.partner_id.commercial_partner_id, order)
        by_age = sorted(first_orders.items(), key=lambda item: item[1].date_order)
        referrers = [partner for partner, _order in by_age[:DEMO_REFERRALS]]
        newcomers = by_age[-DEMO_REFERRALS:]
        codes = env["res.partner"].union(*referrers)._retention_referral_codes()
        Referral = env["retention.referral"]
        Card = env["loyalty.card"]
        point_cost = 150 * program.retention_point_value
        for index, (referrer, (newcomer, order)) in enumerate(
            zip(referrers, newcomers, strict=True)
        ):
            day = order.date_order.date()
            referral = Referral.create(
                {
                    "referrer_id": referrer.id,
                    "referred_id": newcomer.id,
                    "code": codes[referrer.id],
                    "company_id": company.id,
                    "date": day,
                    "source": "signup" if index % 2 else "salesperson",
                    "first_order_id": order.id,
                    "state": "pending" if index == 0 else "cancelled" if index == 1 else "rewarded",
                    "reason": env._("Self-referral: same address as the referrer.")
                    if index == 1
                    else False,
                }
            )
            if referral.state != "rewarded":
                continue
            entries = Card._retention_post(
                [
                    {
                        "card": program._retention_card_of(partner),
                        "kind": "bonus",
                        "points": points,
                        "date": day,
                        "description": env._("Referral: %(name)s", name=other.name),
                    }
                    for partner, other, points in (
                        (referrer, newcomer, 100),
                        (newcomer, referrer, 50),
                    )
                ],
                write_history=True,
            )
            referral.write(
                {
                    "entry_ids": [Command.set(entries.ids)],
                    "rewarded_on": day,
                    "referrer_points": 100,
                    "referred_points": 50,
                    "reward_cost": point_cost,
                }
            )

    @api.model
    def _demo_followup_history(self, company, created):
        """Turn on a few ready-made playbooks and replay their past rounds with
        the real code: the statistics as of each round's day (whose changes
        fill the segment history), the playbooks run as of that day (control
        group included), the salespeople's follow-ups done in the following
        days, some forgotten, and reorders of some customers they called.
        Returns the playbooks."""
        env = self._demo_env(mail_activity_quick_update=True)
        playbooks = env["retention.playbook"].browse(
            [env.ref(xmlid).id for xmlid in DEMO_PLAYBOOKS]
        ) | self._demo_win_back_playbook(env, company, created["program"])
        playbooks.write(
            {
                "active": True,
                "control_percent": DEMO_CONTROL_PERCENT,
                "effect_window_days": DEMO_EFFECT_WINDOW_DAYS,
            }
        )
        today = fields.Date.context_today(self)
        rng = random.Random(DEMO_SEED)
        forgotten = set()
        previous = None
        for rounds_ago in range(DEMO_ROUNDS - 1, -1, -1):
            day = today - timedelta(days=DEMO_LAST_ROUND_DAYS_AGO + DEMO_ROUND_DAYS * rounds_ago)
            if previous:
                self._demo_work_followups(env, day, rng, forgotten, created)
            env["retention.customer.stat"]._recompute_company(company, today=day, full=True)
            self._demo_playbook_round(playbooks, day, since=previous)
            previous = day
        # The last round's follow-ups due before today are done (or forgotten) too.
        self._demo_work_followups(env, today, rng, forgotten, created)
        return playbooks

    @api.model
    def _demo_win_back_playbook(self, env, company, program):
        playbook = env["retention.playbook"].create(
            {
                "name": env._(
                    "Win back overdue customers with %(points)s bonus points",
                    points=DEMO_WIN_BACK_POINTS,
                ),
                "company_id": company.id,
                "trigger": "overdue",
                "cooldown_days": 90,
                "action_ids": [
                    Command.create(
                        {"kind": "points", "program_id": program.id, "points": DEMO_WIN_BACK_POINTS}
                    )
                ],
            }
        )
        env["ir.model.data"]._update_xmlids(
            [
                {
                    "xml_id": f"{DEMO_XMLID_PREFIX}playbook_win_back_points",
                    "record": playbook,
                    "noupdate": True,
                }
            ]
        )
        return playbook

    @api.model
    def _demo_playbook_round(self, playbooks, day, since):
        """Run the time-based ``playbooks`` as of ``day`` as the daily job
        would have, over the days after ``since``."""
        for playbook in playbooks:
            playbook.sudo().last_evaluated = since
            playbook._evaluate(day)

    @api.model
    def _demo_work_followups(self, env, end, rng, forgotten, created):
        """The open follow-ups due before ``end`` done by their salesperson
        by their deadline or a little later (a few forgotten, left open),
        dated as if done then; some called customers order again a few days
        later."""
        # Forgotten follow-ups are cancelled after a while.
        stale = (
            env["mail.activity"]
            .browse(forgotten)
            .exists()
            .filtered(
                lambda activity: (
                    activity.date_deadline < end - timedelta(days=DEMO_CANCEL_AFTER_DAYS)
                )
            )
        )
        for user, batch in stale.grouped("user_id").items():
            batch.with_user(user).action_cancel()
        forgotten.difference_update(stale.ids)
        activities = env["mail.activity"].search(
            [
                ("retention_playbook_id", "!=", False),
                ("id", "not in", list(forgotten)),
                ("date_deadline", "<", end),
            ],
            order="id",
        )
        Run = env["retention.playbook.run"]
        runs = {run.activity_id: run for run in Run.search([("activity_id", "in", activities.ids)])}
        order_days = self._demo_order_days(env, Run.union(*runs.values()).partner_id)
        to_do = defaultdict(lambda: env["mail.activity"])
        done_on_of = {}
        done_days = defaultdict(list)  # (customer id, activity type id): days done
        reorders = []
        for activity in activities:
            if rng.random() < DEMO_FORGOTTEN_SHARE:
                forgotten.add(activity.id)
                continue
            run = runs[activity]
            lateness = (activity.date_deadline - run.date).days + 2
            done_on = min(
                run.date + timedelta(days=rng.randint(0, lateness)), end - timedelta(days=1)
            )
            to_do[activity.user_id] |= activity
            done_days[activity.res_id, activity.activity_type_id.id].append(done_on)
            done_on_of[run] = done_on
            window_end = run.date + timedelta(days=run.playbook_id.effect_window_days)
            ordering = any(run.date <= day <= window_end for day in order_days[run.partner_id])
            if rng.random() < DEMO_REORDER_SHARE and not ordering:
                reorders.append((run.partner_id, done_on + timedelta(days=rng.randint(1, 10))))
        # One call per salesperson (the salesperson's name on the messages);
        # the runs and the messages then get the day each follow-up was done.
        for user, batch in to_do.items():
            messages, _next = batch.with_user(user)._action_done(
                feedback=DEMO_FEEDBACK[rng.randrange(len(DEMO_FEEDBACK))]
            )
            for activity in batch:
                run = runs[activity]
                run.activity_done_date = done_on_of[run]
            for message in messages.sudo().sorted("id"):
                done_on = done_days[message.res_id, message.mail_activity_type_id.id].pop(0)
                message.date = datetime.combine(done_on, time(11))
        self._demo_reorders(env, reorders, created)

    @api.model
    def _demo_order_days(self, env, customers):
        """{customer: days of their confirmed orders}, contacts' included."""
        days = defaultdict(set)
        for order in env["sale.order"].search(
            [("partner_id", "child_of", customers.ids), ("state", "=", "sale")]
        ):
            days[order.partner_id.commercial_partner_id].add(order.date_order.date())
        return days

    @api.model
    def _demo_reorders(self, env, reorders, created):
        """Orders of ``reorders`` (customer, day) repeating the customer's
        previous order, with the points they earn, added to ``created``."""
        today = fields.Date.context_today(self)
        reorders = [(partner, day) for partner, day in reorders if day <= today]
        if not reorders:
            return
        line_values = self._demo_line_values(env, created["products"])
        values_of = {created["products"][key].id: values for key, values in line_values.items()}
        customers = env["res.partner"].union(*(partner for partner, _day in reorders))
        history = defaultdict(list)
        for order in env["sale.order"].search(
            [("partner_id", "child_of", customers.ids), ("state", "=", "sale")],
            order="date_order, id",
        ):
            history[order.partner_id.commercial_partner_id].append(order)

        def latest(partner, day):
            return [order for order in history[partner] if order.date_order.date() < day][-1]

        orders = env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "user_id": partner.user_id.id,
                    "date_order": datetime.combine(day, time(10)),
                    "state": "sale",
                    "order_line": [
                        Command.create(
                            {
                                **values_of[line.product_id.id],
                                "product_uom_qty": line.product_uom_qty,
                            }
                        )
                        for line in latest(partner, day).order_line
                    ],
                }
                for partner, day in reorders
            ]
        )
        created["orders"] |= orders
        card_of = {card.partner_id: card for card in created["cards"]}
        env["loyalty.card"]._retention_post(
            [
                {
                    "card": card_of[order.partner_id],
                    "kind": "earn",
                    "points": int(order.amount_untaxed),
                    "date": order.date_order.date(),
                    "order_id": order.id,
                    "description": f"Earned on {order.name}",
                }
                for order in orders
                if order.partner_id in card_of
            ]
        )

    @api.model
    def _demo_env(self, **context):
        """The environment the demo writes in: no tracking, chatter logs or
        followers (orders are created confirmed: no "extra line" message per
        line either)."""
        return self.env(
            context=dict(
                self.env.context,
                tracking_disable=True,
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
                mail_notrack=True,
                sale_no_log_for_new_lines=True,
                **context,
            )
        )

    @api.model
    def _create_demo_history(self, history):
        """Create the records of ``history`` (a ``DemoHistory``) in the current
        company and return them, keyed by the history's own keys."""
        env = self._demo_env(loyalty_no_mail=True)
        company = env.company
        products = self._demo_products(env, history.products)
        salespeople = self._demo_salespeople(env, history.salespeople, company)
        customers = self._demo_customers(env, history.customers, salespeople)
        contacts = self._demo_contacts(env, history.customers, customers)
        orders = self._demo_orders(env, history, customers, contacts, products, salespeople)
        program = self._demo_loyalty_program(env, company)
        cards = self._demo_loyalty_cards(env, program, orders)
        vip_tag, campaign = self._demo_points_incentives(env, program, customers)
        return {
            "vip_tag": vip_tag,
            "campaign": campaign,
            "products": products,
            "salespeople": salespeople,
            "customers": customers,
            "contacts": contacts,
            "orders": orders,
            "program": program,
            "cards": cards,
        }

    @api.model
    def _demo_products(self, env, demo_products):
        """Products and categories, reused when they already exist."""
        parent = env.ref("product.product_category_all", raise_if_not_found=False)
        Category = env["product.category"]
        categories = {}
        for name in dict.fromkeys(product.category for product in demo_products):
            domain = [("name", "=", name), ("parent_id", "=", parent.id if parent else False)]
            categories[name] = Category.search(domain, limit=1) or Category.create(
                {"name": name, "parent_id": parent.id if parent else False}
            )
        codes = {
            product.key: f"{PRODUCT_CODE_PREFIX}{product.key.upper()}" for product in demo_products
        }
        Product = env["product.product"].with_context(active_test=False)
        existing = {
            product.default_code: product
            for product in Product.search([("default_code", "in", list(codes.values()))])
        }
        to_create = [product for product in demo_products if codes[product.key] not in existing]
        created = Product.create(
            [
                {
                    "name": product.name,
                    "default_code": codes[product.key],
                    "categ_id": categories[product.category].id,
                    "list_price": product.list_price,
                    # A 40 % margin, so that values in margin and playbook returns show.
                    "standard_price": round(product.list_price * DEMO_COST_SHARE, 2),
                    "type": "consu",
                    "sale_ok": True,
                }
                for product in to_create
            ]
        )
        existing.update(zip((codes[product.key] for product in to_create), created, strict=True))
        return {product.key: existing[codes[product.key]] for product in demo_products}

    @api.model
    def _demo_salespeople(self, env, names, company):
        logins = {name: "retention.demo." + ".".join(name.lower().split()) for name in names}
        Users = env["res.users"].with_context(active_test=False, no_reset_password=True)
        existing = {
            user.login: user for user in Users.search([("login", "in", list(logins.values()))])
        }
        salesman_group = env.ref("sales_team.group_sale_salesman")
        missing = [name for name in names if logins[name] not in existing]
        created = Users.create(
            [
                {
                    "name": name,
                    "login": logins[name],
                    # Demo databases only: lets a tester sign in as a salesperson.
                    "password": logins[name],
                    "email": logins[name].removeprefix("retention.demo.") + "@example.com",
                    "company_id": company.id,
                    "company_ids": [Command.link(company.id)],
                    "groups_id": [Command.link(salesman_group.id)],
                }
                for name in missing
            ]
        )
        existing.update(zip((logins[name] for name in missing), created, strict=True))
        return {name: existing[logins[name]] for name in names}

    @api.model
    def _demo_customers(self, env, demo_customers, salespeople):
        codes = {customer.country_code for customer in demo_customers}
        countries = {
            country.code.lower(): country.id
            for country in env["res.country"].search([("code", "in", [c.upper() for c in codes])])
        }
        partners = env["res.partner"].create(
            [
                {
                    "name": customer.name,
                    "is_company": customer.is_company,
                    "email": customer.email,
                    "city": customer.city,
                    "country_id": countries.get(customer.country_code, False),
                    "user_id": salespeople[customer.salesperson].id,
                    "customer_rank": 1,
                }
                for customer in demo_customers
            ]
        )
        return dict(zip((customer.key for customer in demo_customers), partners, strict=True))

    @api.model
    def _demo_contacts(self, env, demo_customers, customers):
        vals_list, owners = [], []
        for customer in demo_customers:
            company = customers[customer.key]
            for name in customer.contacts:
                login = ".".join(name.lower().split())
                vals_list.append(
                    {
                        "name": name,
                        "parent_id": company.id,
                        "type": "contact",
                        "email": f"{login}@{customer.email.split('@')[0]}.example.com",
                    }
                )
                owners.append(customer.key)
        contacts = defaultdict(lambda: env["res.partner"])
        for key, contact in zip(owners, env["res.partner"].create(vals_list), strict=True):
            contacts[key] |= contact
        return dict(contacts)

    @api.model
    def _demo_orders(self, env, history, customers, contacts, products, salespeople):
        """Confirmed orders at their historical dates. They are created in
        state ``sale`` directly: confirming through ``action_confirm`` would
        date them today and grant loyalty points twice."""
        salesperson_of = {c.key: salespeople[c.salesperson] for c in history.customers}
        line_values = self._demo_line_values(env, products)
        vals_list = []
        for index, order in enumerate(history.orders):
            partner = customers[order.customer_key]
            # Companies order through their contacts half of the time.
            people = contacts.get(order.customer_key)
            if people and index % 2:
                partner = people[index % len(people)]
            moment = datetime.combine(order.order_date, time(9)) + timedelta(
                minutes=(index * 37) % 480
            )
            vals_list.append(
                {
                    "partner_id": partner.id,
                    "user_id": salesperson_of[order.customer_key].id,
                    "date_order": moment,
                    "state": "sale",
                    "order_line": [
                        Command.create({**line_values[key], "product_uom_qty": qty})
                        for key, qty in order.lines
                    ],
                }
            )
        return env["sale.order"].create(vals_list)

    @api.model
    def _demo_line_values(self, env, products):
        """Order line values known per product. Giving them saves each line the
        price, tax and analytic look-ups, which would find the same values."""
        company = env.company
        return {
            key: {
                "product_id": product.id,
                "name": product.display_name,
                "product_uom": product.uom_id.id,
                "price_unit": product.lst_price,
                "tax_id": [
                    Command.set(
                        product.taxes_id.filtered(
                            lambda tax: tax.company_id in company.parent_ids
                        ).ids
                    )
                ],
                "analytic_distribution": False,
            }
            for key, product in products.items()
        }

    @api.model
    def _demo_loyalty_program(self, env, company):
        program = env["loyalty.program"].create(
            {
                "name": "Coffee Club Points",
                "program_type": "loyalty",
                "company_id": company.id,
                "applies_on": "both",
                "trigger": "auto",
                "portal_visible": True,
                "portal_point_name": "Points",
                "retention_expiry_policy": "earned",
                "retention_expiry_months": 12,
                "retention_bonus_profile_points": DEMO_PROFILE_BONUS,
                "retention_bonus_birthday_points": DEMO_BIRTHDAY_BONUS,
                "retention_reminder_days": 30,
                "rule_ids": [
                    Command.create(
                        {
                            "reward_point_mode": "money",
                            "reward_point_amount": 1,
                            "minimum_amount": 0,
                        }
                    )
                ],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount_mode": "per_order",
                            "discount": 10,
                            "required_points": 200,
                        }
                    ),
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount_mode": "per_point",
                            "discount": 0.05,
                            "required_points": 1,
                            "description": "Pay with points",
                        }
                    ),
                ],
            }
        )
        program.retention_redeem_reward_id = program.reward_ids.filtered(
            lambda reward: reward.discount_mode == "per_point"
        )
        return program

    @api.model
    def _demo_clubs(self, env, company, customers):
        """A Silver / Gold / Platinum ladder on 12-month revenue with rising
        perks, evaluated at once, and a paid Barista Club with a few members,
        one of them due for renewal."""
        env = env(context=dict(env.context, retention_club_no_mail=True, tracking_disable=True))
        pricelists = env["product.pricelist"].create(
            [
                {
                    "name": f"{name} member prices",
                    "company_id": company.id,
                    "sequence": 50,
                    "item_ids": [
                        Command.create({"compute_price": "percentage", "percent_price": percent})
                    ],
                }
                for name, percent in (("Gold", 5.0), ("Platinum", 10.0))
            ]
        )
        ladder = env["retention.club.ladder"].create(
            {"name": "Coffee Club Levels", "company_id": company.id}
        )
        silver, gold, platinum = env["retention.club"].create(
            [
                {
                    "name": name,
                    "company_id": company.id,
                    "ladder_id": ladder.id,
                    "sequence": sequence,
                    "color": color,
                    "qualification_threshold": threshold,
                    "window_days": 365,
                    "grace_days": 30,
                    "points_multiplier": multiplier,
                    "pricelist_id": pricelist.id,
                    "perks_description": perks,
                }
                for name, sequence, color, threshold, multiplier, pricelist, perks in (
                    ("Silver", 1, 9, 500.0, 1.25, env["product.pricelist"], "<p>1.25x points</p>"),
                    ("Gold", 2, 3, 1500.0, 1.5, pricelists[0], "<p>5% off, 1.5x points</p>"),
                    ("Platinum", 3, 4, 3000.0, 2.0, pricelists[1], "<p>10% off, 2x points</p>"),
                )
            ]
        )
        product = env["product.product"].create(
            {
                "name": "Barista Club membership (1 year)",
                "type": "service",
                "list_price": 49.0,
                "invoice_policy": "order",
                "company_id": company.id,
            }
        )
        barista = env["retention.club"].create(
            {
                "name": "Barista Club",
                "company_id": company.id,
                "policy": "paid",
                "product_id": product.id,
                "duration_months": 12,
                "renewal_days": 30,
                "points_multiplier": 1.5,
                "color": 2,
                "perks_description": "<p>Monthly tasting, 1.5x points</p>",
            }
        )
        today = fields.Date.context_today(self)
        members = list(customers.values())[20:24]
        env["retention.club.membership"].create(
            [
                {
                    "partner_id": partner.id,
                    "club_id": barista.id,
                    "origin": "purchase",
                    "date_start": today - timedelta(days=340 - 60 * index),
                    "date_end": today - timedelta(days=340 - 60 * index) + timedelta(days=364),
                }
                for index, partner in enumerate(members)
            ]
        )
        # A free club customers join and leave themselves on My rewards.
        tasting = env["retention.club"].create(
            {
                "name": "Tasting Notes",
                "company_id": company.id,
                "policy": "free",
                "portal_joinable": True,
                "color": 4,
                "perks_description": "<p>Our tasting notes and an invitation to each cupping</p>",
                "portal_terms": "<p>We e-mail you about once a month. Leave any time.</p>",
            }
        )
        env["retention.club.membership"]._evaluate_qualified(today, company_ids=company.ids)
        env["retention.club.membership"]._create_renewals(company, today)
        return {
            "club_tasting": tasting,
            "club_ladder": ladder,
            "club_silver": silver,
            "club_gold": gold,
            "club_platinum": platinum,
            "club_barista": barista,
            "club_barista_product": product,
        }

    @api.model
    def _demo_subscriptions(self, env, customers, products):
        """Monthly coffee for a dozen customers since three months ago, with
        their orders; one paused and two closed with a reason."""
        today = fields.Date.context_today(self)
        product = next(iter(products.values()))
        partners = list(customers.values())[40:52]
        subscriptions = env["retention.subscription"].create(
            [
                {
                    "partner_id": partner.id,
                    "user_id": partner.user_id.id,
                    "interval": 1,
                    "interval_unit": "month",
                    "date_start": today - timedelta(days=95 - index),
                    "line_ids": [
                        Command.create({"product_id": product.id, "quantity": 1 + index % 3})
                    ],
                }
                for index, partner in enumerate(partners)
            ]
        )
        subscriptions.action_activate()
        subscriptions._generate_orders()
        self._demo_backdate_points(subscriptions.order_ids)
        subscriptions[0].action_pause()
        subscriptions[1:3]._close(
            env.ref("retention_loyalty.subscription_close_reason_price"), "Found it cheaper"
        )
        return {
            f"subscription_{index}": subscription
            for index, subscription in enumerate(subscriptions)
        }

    @api.model
    def _demo_backdate_points(self, orders):
        """The demo creates months of subscription orders at once: date the
        points they earned on their orders' days, as if each period had been
        confirmed on time, with the same validity."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE retention_points_entry entry
                      SET date = so.date_order::date,
                          expiry_date = (
                              so.date_order::date + age(entry.expiry_date, entry.date)
                          )::date
                     FROM sale_order so
                    WHERE so.id = entry.order_id AND so.id IN %s""",
                tuple(orders.ids) or (0,),
            )
        )
        self.env["retention.points.entry"].invalidate_model(["date", "expiry_date"])

    @api.model
    def _demo_points_incentives(self, env, program, customers):
        """A tag that earns 1.5x points for a few customers, and double points
        on orders in the two weeks before the next Christmas."""
        vip_tag = env["res.partner.category"].create(
            {"name": "Loyalty VIP", "retention_points_multiplier": 1.5}
        )
        env["res.partner"].union(*list(customers.values())[:12]).write(
            {"category_id": [Command.link(vip_tag.id)]}
        )
        today = fields.Date.context_today(self)
        christmas = today.replace(month=12, day=25)
        if christmas < today:
            christmas = christmas.replace(year=christmas.year + 1)
        campaign = env["retention.points.campaign"].create(
            {
                "name": "Double points before Christmas",
                "program_id": program.id,
                "date_from": christmas - timedelta(days=14),
                "date_to": christmas - timedelta(days=1),
                "multiplier": 2.0,
            }
        )
        return vip_tag, campaign

    @api.model
    def _demo_loyalty_cards(self, env, program, orders):
        """One card per customer whose ledger holds what each past order
        earned (one point per unit of untaxed amount, as the program's rule
        says) on the order's date; points older than the program's expiry
        have expired, and every third customer has spent 200 points."""
        orders = orders.sorted("date_order")
        customers = orders.partner_id.commercial_partner_id
        cards = env["loyalty.card"].create(
            [{"program_id": program.id, "partner_id": partner.id} for partner in customers]
        )
        card_of = dict(zip(customers, cards, strict=True))
        with ledger_posting():
            entries = (
                env["retention.points.entry"]
                .sudo()
                .create(
                    [
                        {
                            "card_id": card_of[order.partner_id.commercial_partner_id].id,
                            "kind": "earn",
                            "date": order.date_order.date(),
                            "points": int(order.amount_untaxed),
                            "remaining": int(order.amount_untaxed),
                            "expiry_date": program._retention_expiry_from(order.date_order.date()),
                            "order_id": order.id,
                            "description": f"Earned on {order.name}",
                        }
                        for order in orders
                        if int(order.amount_untaxed) > 0
                    ]
                )
            )
            balances = defaultdict(float)
            for entry in entries:
                balances[entry.card_id] += entry.points
            for card, points in balances.items():
                card.points = points
        # Odoo's history of the cards (form, portal) tells the same, on the same days.
        entries._retention_write_loyalty_history()
        while env["loyalty.card"]._retention_expire_due(batch_size=50000)[0]:
            pass
        cards.invalidate_recordset(["points"])
        spend_day = fields.Date.context_today(self) - timedelta(days=60)
        env["loyalty.card"]._retention_post(
            [
                {
                    "card": card,
                    "kind": "spend",
                    "points": -200,
                    "date": spend_day,
                    "description": "Reward: 10 off an order",
                }
                for index, card in enumerate(cards)
                if index % 3 == 0 and card.points >= 200
            ],
            write_history=True,
        )
        return cards

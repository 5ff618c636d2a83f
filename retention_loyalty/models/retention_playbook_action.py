from datetime import timedelta

from markupsafe import Markup, escape

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..engine.baskets import usual_basket

# Points expiring within this many days are worth a word in a follow-up's note.
EXPIRING_SOON_DAYS = 30


class RetentionPlaybookAction(models.Model):
    """One thing a playbook does for each customer it reaches."""

    _name = "retention.playbook.action"
    _description = "Retention Playbook Action"
    _order = "playbook_id, sequence, id"
    _check_company_auto = True

    playbook_id = fields.Many2one(
        "retention.playbook", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="playbook_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        [
            ("activity", "Schedule an activity"),
            ("email", "Send an email"),
            ("coupon", "Issue a coupon"),
            ("points", "Grant bonus points"),
            ("club", "Enrol in a club"),
            ("basket", "Propose the usual basket"),
        ],
        required=True,
        default="activity",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type", default=lambda self: self.env.ref("mail.mail_activity_data_call")
    )
    assignee = fields.Selection(
        [
            ("salesperson", "The customer's salesperson"),
            ("team_leader", "The sales team leader"),
            ("user", "A fixed user"),
        ],
        default="salesperson",
    )
    user_id = fields.Many2one("res.users", domain=[("share", "=", False)])
    deadline_days = fields.Integer(string="Deadline (days)", default=3)
    note = fields.Html(
        help="Placeholders: {customer}, {tier}, {risk}, {clv}, {revenue}, {last_order}, "
        "{p_alive}, {products} (bought recently), {suggestions} (products bought together with "
        "theirs that they do not buy yet)."
    )
    mail_template_id = fields.Many2one(
        "mail.template", string="Email Template", domain=[("model", "=", "res.partner")]
    )
    program_id = fields.Many2one("loyalty.program", string="Loyalty Program", check_company=True)
    validity_days = fields.Integer(string="Valid (days)", default=60)
    coupon_products = fields.Selection(
        [
            ("any", "Any product"),
            ("suggested", "The products suggested for the customer"),
        ],
        string="Valid On",
        default="any",
        required=True,
        help="Suggested: the voucher's discount applies only to the products bought together "
        "with theirs that the customer does not buy yet (Reporting > Product Affinities). A "
        "customer without suggestions gets a voucher valid on any product.",
    )
    points = fields.Float(string="Bonus Points")
    club_id = fields.Many2one("retention.club", check_company=True)
    basket_min_orders = fields.Integer(
        string="Bought in at Least",
        default=2,
        help="A product is in the usual basket when the customer bought it in at least this "
        "many of their last orders.",
    )
    basket_last_orders = fields.Integer(
        string="Of Their Last Orders",
        default=4,
        help="How many of the customer's most recent orders are looked at.",
    )
    basket_send = fields.Boolean(
        string="Email the Quotation",
        default=True,
        help="Send the quotation with its link to review, sign, pay and confirm online.",
    )
    basket_reminder_days = fields.Integer(
        string="Remind After (days)",
        default=5,
        help="An activity for the salesperson when the quotation is still not confirmed "
        "this many days later. 0: no reminder.",
    )

    @api.constrains(
        "kind",
        "deadline_days",
        "mail_template_id",
        "program_id",
        "points",
        "club_id",
        "validity_days",
        "coupon_products",
        "basket_min_orders",
        "basket_last_orders",
        "basket_reminder_days",
        "assignee",
        "user_id",
    )
    def _check_action(self):
        # Archived (ready-made) playbooks may wait for their settings.
        for action in self.filtered(lambda action: action.playbook_id.active):
            problem = action._problem()
            if problem:
                raise ValidationError(
                    self.env._(
                        "Playbook %(playbook)s: %(problem)s",
                        playbook=action.playbook_id.name,
                        problem=problem,
                    )
                )

    def _problem(self):
        self.ensure_one()
        if self.kind == "activity":
            if self.deadline_days < 0:
                return self.env._("the activity deadline cannot be in the past.")
            if not self.activity_type_id:
                return self.env._("an activity needs a type.")
            if self.assignee == "user" and not self.user_id:
                return self.env._("choose the user who gets the activity.")
        if self.kind == "email" and (
            not self.mail_template_id or self.mail_template_id.model != "res.partner"
        ):
            return self.env._("the email needs a template for contacts (res.partner).")
        if self.kind == "coupon" and (not self.program_id or self.validity_days <= 0):
            return self.env._("a coupon needs a loyalty program and a validity of at least a day.")
        if self.kind == "coupon" and self.coupon_products == "suggested":
            rewards = self.program_id.reward_ids
            if not rewards or any(
                reward.reward_type != "discount" or reward.discount_applicability != "specific"
                for reward in rewards
            ):
                return self.env._(
                    "a voucher valid on the suggested products needs a program whose rewards "
                    "are discounts on specific products (%(program)s has others).",
                    program=self.program_id.name,
                )
        if self.kind == "points" and (
            self.points <= 0 or self.program_id.program_type != "loyalty"
        ):
            return self.env._("bonus points need a positive number and a loyalty program.")
        if self.kind == "club" and not self.club_id:
            return self.env._("choose the club to enrol customers in.")
        if self.kind == "basket" and not (
            1 <= self.basket_min_orders <= self.basket_last_orders
            and self.basket_reminder_days >= 0
        ):
            return self.env._(
                "the usual basket needs products bought in at least one of the last orders "
                "looked at, and a reminder delay that is not negative."
            )
        return False

    # ------------------------------------------------------------------ running

    def _run(self, partners, today, results, notes):
        """Do this action for ``partners`` in one pass; record created ids in
        ``results`` and skipped reasons in ``notes`` (per partner id)."""
        self.ensure_one()
        getattr(self, f"_run_{self.kind}")(partners, today, results, notes)

    def _assignees(self, partners):
        """Who gets each customer's activity: the salesperson, else (archived
        or without access) the team leader, else the playbook's creator."""
        fallback = self.playbook_id.create_uid
        result = {}
        for partner in partners:
            if self.assignee == "user":
                candidates = [self.user_id]
            elif self.assignee == "team_leader":
                candidates = [partner.user_id.sale_team_id.user_id]
            else:
                candidates = [partner.user_id, partner.user_id.sale_team_id.user_id]
            user = next(
                (
                    candidate
                    for candidate in candidates
                    if candidate
                    and candidate.active
                    and partner.with_user(candidate).has_access("read")
                ),
                fallback,
            )
            result[partner.id] = user
        return result

    def _figures(self, partners):
        stats = (
            self.env["retention.customer.stat"]
            .sudo()
            .search([("partner_id", "in", partners.ids), ("company_id", "=", self.company_id.id)])
        )
        return {stat.partner_id.id: stat for stat in stats}

    def _render_note(self, partner, stat, products, suggestions=""):
        """The note with the customer's figures in place of the placeholders,
        escaped: a customer's name is text, never HTML."""
        risk_labels = dict(self.env["retention.customer.stat"]._fields["risk_level"].selection)
        values = {
            "{customer}": partner.display_name,
            "{tier}": stat.value_tier_id.name or "" if stat else "",
            "{risk}": risk_labels.get(stat.risk_level, "") if stat else "",
            "{clv}": f"{stat.clv:.2f}" if stat else "",
            "{revenue}": f"{stat.revenue_12m:.2f}" if stat else "",
            "{last_order}": str(stat.last_order_date or "") if stat else "",
            "{p_alive}": f"{stat.p_alive:.0%}" if stat else "",
            "{products}": products,
            "{suggestions}": suggestions,
        }
        note = self.note or Markup()
        for placeholder, value in values.items():
            note = note.replace(placeholder, escape(str(value)))
        return note

    def _expiring_points(self, partners, today):
        """``{customer id: "145 points expire on 2026-12-07"}``: each customer's
        next points to expire soon (per loyalty program, contacts' cards
        included), read in one query for all the customers of the run. Soon is
        within a month, or within a points-expiring playbook's own window."""
        horizon = EXPIRING_SOON_DAYS
        if self.playbook_id.trigger == "points_expiring":
            horizon = max(horizon, self.playbook_id.trigger_days)
        self.env["retention.points.entry"].flush_model(
            ["partner_id", "program_id", "company_id", "remaining", "expiry_date"]
        )
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (partner.commercial_partner_id, entry.program_id)
                       partner.commercial_partner_id, entry.expiry_date,
                       SUM(entry.remaining) OVER (
                           PARTITION BY partner.commercial_partner_id, entry.program_id,
                                        entry.expiry_date
                       )
                  FROM retention_points_entry entry
                  JOIN res_partner partner ON partner.id = entry.partner_id
                 WHERE partner.commercial_partner_id = ANY(%(partners)s)
                   AND entry.company_id = %(company)s
                   AND entry.remaining > 0
                   AND entry.expiry_date > %(today)s
                   AND entry.expiry_date <= %(until)s
                 ORDER BY partner.commercial_partner_id, entry.program_id, entry.expiry_date
                """,
                partners=partners.ids,
                company=self.company_id.id,
                today=today,
                until=today + timedelta(days=horizon),
            )
        )
        lines = {}
        for partner_id, expiry_date, points in rows:
            # Computed apart: the translation extractor reads the call's arguments.
            amount = f"{points:.2f}".rstrip("0").rstrip(".")
            lines.setdefault(partner_id, []).append(
                self.env._("%(points)s points expire on %(date)s", points=amount, date=expiry_date)
            )
        return {partner_id: "; ".join(texts) for partner_id, texts in lines.items()}

    def _suggested_products(self, partners):
        """The three products each customer bought most recently in the
        playbook's company (the till's too, with its bridge), in one query."""
        lines = self.env["retention.customer.stat"]._purchased_lines_query(
            self.company_id, customer_ids=partners.ids
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT customer_id, product_id FROM (
                    SELECT customer_id, product_id, row_number() OVER (
                               PARTITION BY customer_id
                               ORDER BY max(date_order) DESC, product_id
                           ) AS rank
                      FROM (%s) line
                  GROUP BY customer_id, product_id
                ) ranked
                 WHERE rank <= 3
              ORDER BY customer_id, rank
                """,
                lines,
            )
        )
        products = self.env["product.product"].sudo().browse({row[1] for row in rows})
        names = dict(zip(products.ids, products.mapped("display_name"), strict=True))
        bought = {}
        for customer_id, product_id in rows:
            bought.setdefault(customer_id, []).append(names[product_id])
        return {customer_id: ", ".join(items) for customer_id, items in bought.items()}

    def _run_activity(self, partners, today, results, notes):
        stats = self._figures(partners)
        assignees = self._assignees(partners)
        products = self._suggested_products(partners) if "{products}" in str(self.note) else {}
        suggestions = {}
        if "{suggestions}" in str(self.note):
            suggestions = {
                partner_id: ", ".join(related.mapped("display_name"))
                for partner_id, related in self.env["retention.product.affinity"]
                .sudo()
                ._suggestions(self.company_id, partners.ids)
                .items()
            }
        expiring = self._expiring_points(partners, today)
        model_id = self.env["ir.model"]._get_id("res.partner")
        activities = (
            # No "you have been assigned" email per activity: salespeople work
            # through their follow-ups list.
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
            .create(
                [
                    {
                        "res_model_id": model_id,
                        "res_id": partner.id,
                        "activity_type_id": self.activity_type_id.id,
                        "user_id": assignees[partner.id].id,
                        "date_deadline": today + timedelta(days=self.deadline_days),
                        "summary": self.playbook_id.name,
                        "note": self._render_note(
                            partner,
                            stats.get(partner.id),
                            products.get(partner.id, ""),
                            suggestions.get(partner.id, ""),
                        )
                        + (
                            Markup("<p>%s.</p>") % expiring[partner.id]
                            if partner.id in expiring
                            else Markup()
                        ),
                        "retention_playbook_id": self.playbook_id.id,
                        "retention_value_at_stake": stats[partner.id].value_at_stake
                        if partner.id in stats
                        else 0.0,
                    }
                    for partner in partners
                ]
            )
        )
        for activity in activities:
            results[activity.res_id]["activity_id"] = activity.id

    def _run_email(self, partners, today, results, notes):
        reachable = partners.filtered("email")
        for partner in partners - reachable:
            notes[partner.id].append(self.env._("No email address: email not sent."))
        if reachable:
            self.mail_template_id.send_mail_batch(
                reachable.ids, email_layout_xmlid="mail.mail_notification_light"
            )
        for partner in reachable:
            results[partner.id]["email_sent"] = True

    def _run_coupon(self, partners, today, results, notes):
        points = min(self.program_id.reward_ids.mapped("required_points") or [1.0])
        suggestions = {}
        if self.coupon_products == "suggested":
            suggestions = (
                self.env["retention.product.affinity"]
                .sudo()
                ._suggestions(self.company_id, partners.ids)
            )
            for partner in partners.filtered(lambda partner: partner.id not in suggestions):
                notes[partner.id].append(
                    self.env._("No suggested products yet: the voucher is valid on any product.")
                )
        cards = (
            self.env["loyalty.card"]
            .sudo()
            .create(
                [
                    {
                        "program_id": self.program_id.id,
                        "partner_id": partner.id,
                        "points": points,
                        "expiration_date": today + timedelta(days=self.validity_days),
                        "retention_product_ids": [
                            Command.set(
                                suggestions[partner.id].ids if partner.id in suggestions else []
                            )
                        ],
                    }
                    for partner in partners
                ]
            )
        )
        value = self._voucher_value(today)
        for card in cards:
            results[card.partner_id.id]["card_id"] = card.id
            self._add_cost(results[card.partner_id.id], value)

    @staticmethod
    def _add_cost(result, value):
        result["incentive_cost"] = result.get("incentive_cost", 0.0) + value

    def _in_company_currency(self, amount, day):
        return self.program_id.currency_id._convert(
            amount, self.company_id.currency_id, self.company_id, day
        )

    def _voucher_value(self, day):
        """Face value of the voucher issued: its cheapest reward, a fixed
        discount or a free product at cost (a percentage is worth nothing
        until the order it applies to is known)."""
        rewards = self.program_id.reward_ids.sorted("required_points")[:1]
        if rewards.reward_type == "product":
            return rewards.reward_product_qty * rewards.reward_product_id.standard_price
        value = {
            "per_order": rewards.discount,
            "per_point": rewards.discount * rewards.required_points,
        }.get(rewards.discount_mode, 0.0)
        return self._in_company_currency(value, day)

    def _run_points(self, partners, today, results, notes):
        Card = self.env["loyalty.card"].sudo()
        cards = {
            card.partner_id.id: card
            for card in Card.search(
                [("program_id", "=", self.program_id.id), ("partner_id", "in", partners.ids)]
            )
        }
        missing = partners.filtered(lambda partner: partner.id not in cards)
        for card in Card.create(
            [{"program_id": self.program_id.id, "partner_id": partner.id} for partner in missing]
        ):
            cards[card.partner_id.id] = card
        entries = Card._retention_post(
            [
                {
                    "card": cards[partner.id],
                    "kind": "bonus",
                    "points": self.points,
                    "description": self.playbook_id.name,
                }
                for partner in partners
            ],
            write_history=True,
        )
        value = self._in_company_currency(
            self.points * self.program_id.retention_point_value, today
        )
        for entry in entries:
            results[entry.card_id.partner_id.id]["points_entry_id"] = entry.id
            self._add_cost(results[entry.card_id.partner_id.id], value)

    def _run_club(self, partners, today, results, notes):
        current = self.env["res.partner"].browse(partners.ids)._retention_current_clubs()
        slot = self.club_id.ladder_id or self.club_id
        enrol = partners.filtered(
            lambda partner: (
                not any((club.ladder_id or club) == slot for club in current[partner.id])
            )
        )
        for partner in partners - enrol:
            notes[partner.id].append(self.env._("Already a member: not enrolled again."))
        memberships = (
            self.env["retention.club.membership"]
            .sudo()
            .create(
                [
                    {"partner_id": partner.id, "club_id": self.club_id.id, "origin": "invitation"}
                    for partner in enrol
                ]
            )
        )
        for membership in memberships:
            results[membership.partner_id.id]["membership_id"] = membership.id

    def _run_basket(self, partners, today, results, notes):
        """A quotation of each customer's usual basket, at their current
        prices (pricelist, member and key-account prices included), e-mailed
        with its link to confirm online. Archived or unsellable products are
        left out and noted."""
        company = self.company_id
        history = {
            customer_id: [order.quantities for order in orders]
            for customer_id, orders in partners._retention_recent_orders(
                company, self.basket_last_orders
            ).items()
        }
        products = (
            self.env["product.product"]
            .sudo()
            .browse(
                {product for orders in history.values() for order in orders for product in order}
            )
        )
        sellable = products._retention_sellable_in(company)
        quotation_values = []
        for partner in partners:
            basket = usual_basket(
                history.get(partner.id, []), self.basket_min_orders, self.basket_last_orders
            )
            left_out = [product for product, _quantity in basket if product not in sellable.ids]
            if left_out:
                notes[partner.id].append(
                    self.env._(
                        "Left out (archived or no longer sold): %(products)s",
                        products=", ".join(products.browse(left_out).mapped("display_name")),
                    )
                )
            lines = [
                Command.create({"product_id": product, "product_uom_qty": quantity})
                for product, quantity in basket
                if product in sellable.ids
            ]
            if not lines:
                notes[partner.id].append(
                    self.env._("No usual basket yet: no product bought regularly.")
                )
                continue
            quotation_values.append(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "user_id": partner.user_id.id,
                    "origin": self.playbook_id.name,
                    "order_line": lines,
                }
            )
        quotations = (
            self.env["sale.order"]
            .sudo()
            .with_company(company)
            .with_context(mail_create_nosubscribe=True)
            .create(quotation_values)
        )
        template = self.env.ref("sale.email_template_edi_sale", raise_if_not_found=False)
        for quotation in quotations:
            customer = quotation.partner_id
            results[customer.id]["quotation_id"] = quotation.id
            if not self.basket_send or not template:
                continue
            if not customer.email:
                notes[customer.id].append(
                    self.env._("No email address: the quotation waits for the salesperson.")
                )
                continue
            # Odoo's quotation e-mail without its PDF: the link to review, sign
            # and pay online is the offer, and a server without wkhtmltopdf
            # must not fail the whole run.
            values = template._generate_template(
                quotation.ids,
                ("subject", "body_html", "email_from", "partner_to", "email_to", "email_cc"),
                find_or_create_partners=True,
            )[quotation.id]
            quotation.message_post(
                subject=values.get("subject"),
                body=values.get("body_html"),
                email_from=values.get("email_from"),
                partner_ids=values.get("partner_ids", []),
                email_layout_xmlid="mail.mail_notification_layout_with_responsible_signature",
                subtype_xmlid="mail.mt_comment",
                message_type="comment",
            )
            quotation.action_quotation_sent()

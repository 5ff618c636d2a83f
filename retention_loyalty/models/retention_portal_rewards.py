from collections import defaultdict

from odoo import fields, models
from odoo.exceptions import MissingError, UserError
from odoo.tools import is_html_empty

from ..engine.points import round_points
from .retention_club import ACTIVE_STATES

# Next expiry dates shown per card.
EXPIRIES_SHOWN = 3


class RetentionPortalRewards(models.AbstractModel):
    """The portal's rewards page for the current user's customer (their
    commercial partner: a company and its contacts are one customer): its
    loyalty cards, the ledger in the customer's words, ways to earn, rewards
    to claim and clubs to join. Records are read and changed with sudo only
    after the check that they belong to that customer and to a company the
    user may see; what the client sends never widens that."""

    _name = "retention.portal.rewards"
    _description = "Customer Rewards Page"

    def _customer(self):
        return self.env.user.partner_id.commercial_partner_id

    def _company_domain(self):
        return [
            "|",
            ("company_id", "=", False),
            ("company_id", "in", self.env.user.company_ids.ids),
        ]

    def _cards(self):
        """The customer's points cards of active loyalty programs."""
        return (
            self.env["loyalty.card"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", self._customer().id),
                    ("program_id.program_type", "=", "loyalty"),
                    ("program_id.active", "=", True),
                    *self._company_domain(),
                ],
                order="program_id, id",
            )
        )

    # ------------------------------------------------------------------ reading

    def _overview(self):
        """Everything on the page but the ledger."""
        cards = self._cards()
        expiries = self._next_expiries(cards)
        rewards_by_program = {
            program: program.reward_ids._retention_portal_claimable().sorted(
                lambda reward: (reward.required_points, reward.id)
            )
            for program in cards.program_id
        }
        card_lines = []
        for card in cards:
            program = card.program_id
            card_lines.append(
                {
                    "card": card,
                    "expiries": [
                        (day, card._format_points(points)) for day, points in expiries[card.id]
                    ],
                    "ways": [
                        rule._retention_portal_sentence()
                        for rule in program.rule_ids.filtered("active")
                    ],
                    "point_value": program.retention_redeem_reward_id.filtered("active")
                    and program.retention_point_value,
                    "rewards": [
                        {
                            "reward": reward,
                            "cost": card._format_points(reward.required_points),
                            "missing": round_points(max(reward.required_points - card.points, 0.0)),
                            "missing_display": card._format_points(
                                round_points(max(reward.required_points - card.points, 0.0))
                            ),
                        }
                        for reward in rewards_by_program[program]
                    ],
                }
            )
        customer = self._customer()
        return {
            "customer": customer,
            "card_records": cards,
            "cards": card_lines,
            "reward_codes": self._reward_codes(),
            "club_lines": customer.sudo()._retention_portal_clubs(),
            "joinable_clubs": self._joinable_clubs(),
            "leavable_memberships": self._leavable_memberships(),
        }

    def _next_expiries(self, cards):
        today = fields.Date.context_today(self)
        groups = (
            self.env["retention.points.entry"]
            .sudo()
            ._read_group(
                [
                    ("card_id", "in", cards.ids),
                    ("remaining", ">", 0),
                    ("expiry_date", ">=", today),
                ],
                ["card_id", "expiry_date:day"],
                ["remaining:sum"],
            )
        )
        expiries = defaultdict(list)
        for card, day, points in sorted(groups, key=lambda group: (group[0].id, group[1])):
            if len(expiries[card.id]) < EXPIRIES_SHOWN:
                expiries[card.id].append((day, round_points(points)))
        return expiries

    def _reward_codes(self):
        """The customer's unused codes of claimed rewards."""
        claim_programs = (
            self.env["loyalty.reward"]
            .sudo()
            .with_context(active_test=False)
            .search([("retention_claim_program_id", "!=", False)])
            .retention_claim_program_id
        )
        today = fields.Date.context_today(self)
        return (
            self.env["loyalty.card"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", self._customer().id),
                    ("program_id", "in", claim_programs.filtered("active").ids),
                    ("points", ">", 0),
                    "|",
                    ("expiration_date", "=", False),
                    ("expiration_date", ">=", today),
                    *self._company_domain(),
                ],
                order="id desc",
            )
        )

    def _ledger_domain(self, cards):
        # Zero entries only mark where an order's next confirmation starts.
        return [("card_id", "in", cards.ids), ("points", "!=", 0)]

    def _ledger_count(self, cards):
        return self.env["retention.points.entry"].sudo().search_count(self._ledger_domain(cards))

    def _ledger_lines(self, cards, offset=0, limit=None):
        """One page of the cards' ledger, newest first, in the customer's
        words, with the documents the customer may open."""
        entries = (
            self.env["retention.points.entry"]
            .sudo()
            .search(self._ledger_domain(cards), offset=offset, limit=limit)
        )
        user = self.env.user
        visible_orders = entries.order_id.with_user(user)._filtered_access("read")
        visible_moves = entries.move_id.with_user(user)._filtered_access("read")
        return [
            {
                "entry": entry,
                "text": self._entry_text(entry),
                "points": entry.card_id._format_points(abs(entry.points)),
                "sign": "+" if entry.points > 0 else "-",
                "documents": [
                    (document.name, document.access_url if document in visible else False)
                    for document, visible in (
                        (entry.order_id, visible_orders),
                        (entry.move_id, visible_moves),
                    )
                    if document
                ],
            }
            for entry in entries
        ]

    def _entry_text(self, entry):
        """What happened, as the customer would say it."""
        order = entry.order_id.name
        move = entry.move_id.name
        gained = entry.points > 0
        if entry.kind == "earn":
            return (
                self.env._("Earned on order %(order)s", order=order) if order else entry.description
            )
        if entry.kind == "spend":
            if order:
                return (
                    self.env._("Given back from order %(order)s", order=order)
                    if gained
                    else self.env._("Spent on order %(order)s", order=order)
                )
            return entry.description
        if entry.kind == "cancel":
            return (
                self.env._("Given back: order %(order)s cancelled", order=order)
                if gained
                else self.env._("Taken back: order %(order)s cancelled", order=order)
            )
        if entry.kind == "refund":
            if move:
                return (
                    self.env._("Given back: credit note %(move)s withdrawn", move=move)
                    if gained
                    else self.env._("Taken back by credit note %(move)s", move=move)
                )
            return (
                self.env._("Given back: refund of order %(order)s withdrawn", order=order)
                if gained
                else self.env._("Taken back: order %(order)s refunded", order=order)
            )
        if entry.kind == "refund_spent":
            document = move or order
            return (
                self.env._("Given back by credit note %(move)s", move=document)
                if gained
                else self.env._("Spent again: credit note %(move)s withdrawn", move=document)
            )
        if entry.kind == "expire":
            return self.env._("Expired")
        if entry.kind == "bonus":
            return self.env._("Bonus: %(reason)s", reason=entry.description)
        if entry.kind == "opening":
            return self.env._("Opening balance")
        return self.env._("Adjustment: %(reason)s", reason=entry.description)

    # ------------------------------------------------------------------ claiming

    def _claim(self, card_id, reward_id):
        """Spend the card's points on the reward through the ledger and give
        the customer a code of Odoo's coupons for it. Only the customer's own
        cards; a card being changed elsewhere (another tab claiming) makes
        this fail at once with a concurrency error, and the retried request
        then sees the new balance."""
        card = self._cards().filtered(lambda card: card.id == card_id)
        if not card:
            raise MissingError(self.env._("This loyalty card does not exist."))
        reward = (
            card.program_id.reward_ids.filtered(lambda reward: reward.id == reward_id)
        )._retention_portal_claimable()
        if not reward:
            raise UserError(self.env._("This reward cannot be claimed."))
        card._retention_check_usable()
        card._retention_lock()
        card.invalidate_recordset(["points"])
        if round_points(card.points) < round_points(reward.required_points):
            raise UserError(
                self.env._(
                    "You have %(balance)s; %(reward)s needs %(cost)s.",
                    balance=card._format_points(max(card.points, 0.0)),
                    reward=reward.description,
                    cost=card._format_points(reward.required_points),
                )
            )
        program = reward._retention_claim_program()
        coupon = (
            self.env["loyalty.card"]
            .sudo()
            .create(
                {
                    "program_id": program.id,
                    "partner_id": self.env.user.partner_id.id,
                    "points": 1,
                }
            )
        )
        self.env["loyalty.card"]._retention_post(
            [
                {
                    "card": card,
                    "kind": "spend",
                    "points": -reward.required_points,
                    "description": self.env._(
                        "Reward claimed: %(reward)s (code %(code)s)",
                        reward=reward.description,
                        code=coupon.code,
                    ),
                }
            ],
            write_history=True,
        )
        return coupon

    # ------------------------------------------------------------------ clubs

    def _joinable_clubs(self):
        """Free clubs open to portal enrolment whose place (the club, or
        its ladder) the customer does not hold yet."""
        clubs = (
            self.env["retention.club"]
            .sudo()
            .search(
                [
                    ("policy", "=", "free"),
                    ("portal_joinable", "=", True),
                    ("company_id", "in", self.env.user.company_ids.ids),
                ]
            )
        )
        held = self._customer()._retention_current_clubs()[self._customer().id]
        taken = {club.ladder_id or club for club in held}
        return clubs.filtered(lambda club: (club.ladder_id or club) not in taken)

    def _leavable_memberships(self):
        return (
            self.env["retention.club.membership"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", self._customer().id),
                    ("state", "in", ("pending", *ACTIVE_STATES)),
                    ("club_id.policy", "=", "free"),
                    ("club_id.portal_joinable", "=", True),
                    ("company_id", "in", self.env.user.company_ids.ids),
                ]
            )
        )

    def _join(self, club_id, accept_terms=False):
        """Enrol the customer in a free club, as a salesperson's enrolment
        does, once they accepted its terms."""
        customer = self._customer()
        Membership = self.env["retention.club.membership"].sudo()
        # Two tabs joining at once: the second waits and finds the place taken.
        Membership._lock_customers(customer)
        club = self._joinable_clubs().filtered(lambda club: club.id == club_id)
        if not club:
            raise UserError(self.env._("This club cannot be joined here."))
        if not is_html_empty(club.portal_terms) and not accept_terms:
            raise UserError(self.env._("Accept the terms of %(club)s to join it.", club=club.name))
        vals_list = [{"partner_id": customer.id, "club_id": club.id, "origin": "enrolment"}]
        # The rules of an enrolment by hand, which a superuser would skip.
        Membership._check_manual_enrolment(vals_list)
        membership = Membership.create(vals_list)
        membership.message_post(
            body=self.env._(
                "Joined by %(person)s in the portal, accepting the terms.",
                person=self.env.user.partner_id.name,
            )
            if accept_terms
            else self.env._(
                "Joined by %(person)s in the portal.", person=self.env.user.partner_id.name
            ),
            author_id=self.env.user.partner_id.id,
        )
        return membership

    def _leave(self, membership_id):
        membership = self._leavable_memberships().filtered(
            lambda membership: membership.id == membership_id
        )
        if not membership:
            raise UserError(self.env._("This membership cannot be ended here."))
        membership._cancel(
            self.env._("Left in the portal by %(person)s.", person=self.env.user.partner_id.name)
        )
        return membership

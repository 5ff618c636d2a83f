import logging
import threading
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..engine.points import Lot, consume, new_lot_remaining, round_points

_logger = logging.getLogger(__name__)

# Kinds of change that may push a balance below zero when the program allows
# it: taking back points the customer has already spent.
TAKE_BACK_KINDS = ("cancel", "refund", "refund_spent")

# What the server is doing when points change, and whether the ledger itself
# is writing. Only server code sets them, for the code it runs: unlike the
# context, a client cannot send them, so they can decide how a change is
# booked and who may make it.
_points_origin = ContextVar("retention_points_origin", default=None)
_ledger_posting = ContextVar("retention_ledger_posting", default=False)


@contextmanager
def points_origin(event, orders=None, reason=None):
    """Book the changes of points made inside the block as caused by
    ``event`` ("confirm", "cancel", "reward", "coupon" or "manual") of
    ``orders``, with ``reason`` as the description of what is left over."""
    token = _points_origin.set(
        {"event": event, "order_ids": orders.ids if orders else [], "reason": reason}
    )
    try:
        yield
    finally:
        _points_origin.reset(token)


@contextmanager
def ledger_posting():
    """The ledger writes balances and entries inside the block."""
    token = _ledger_posting.set(True)
    try:
        yield
    finally:
        _ledger_posting.reset(token)


def is_ledger_posting():
    return _ledger_posting.get()


class LoyaltyCard(models.Model):
    """Cards of loyalty programs keep a points ledger: every change of
    ``points`` becomes a ``retention.points.entry``, whichever code made it,
    so the balance always equals the sum of the ledger."""

    _inherit = "loyalty.card"

    retention_entry_ids = fields.One2many(
        "retention.points.entry", "card_id", string="Points Ledger", readonly=True
    )
    retention_product_ids = fields.Many2many(
        "product.product",
        "loyalty_card_retention_product_rel",
        "card_id",
        "product_id",
        string="Valid On",
        help="When set, the card's discounts apply to these products only: a playbook's "
        "voucher on the products suggested for the customer. Empty: the program's own rules.",
    )
    retention_next_expiry_date = fields.Date(
        compute="_compute_retention_next_expiry", string="Next Expiry"
    )
    retention_next_expiry_points = fields.Float(
        compute="_compute_retention_next_expiry", string="Points Expiring Next"
    )

    def _compute_retention_next_expiry(self):
        groups = self.env["retention.points.entry"]._read_group(
            [
                ("card_id", "in", self.ids),
                ("remaining", ">", 0),
                ("expiry_date", "!=", False),
            ],
            ["card_id", "expiry_date:day"],
            ["remaining:sum"],
        )
        next_by_card = {}
        for card, day, remaining in groups:
            if card.id not in next_by_card or day < next_by_card[card.id][0]:
                next_by_card[card.id] = (day, remaining)
        for card in self:
            day, remaining = next_by_card.get(card.id, (False, 0.0))
            card.retention_next_expiry_date = day
            card.retention_next_expiry_points = remaining

    # ------------------------------------------------------------------ recording

    @api.model_create_multi
    def create(self, vals_list):
        cards = super().create(vals_list)
        cards.filtered("points")._retention_open_ledger(kind="earn")
        return cards

    def write(self, vals):
        moved = self._retention_ledger_moves(vals)
        ledger_cards = self.browse()
        if "points" in vals and not is_ledger_posting():
            ledger_cards = self.filtered(lambda card: card.program_id._retention_uses_ledger())
        if ledger_cards:
            # The one check of who may change a balance: Odoo's own flows run
            # by the server say what they do; anything else is a manual
            # adjustment.
            origin = _points_origin.get() or {}
            if (
                origin.get("event") in (None, "manual")
                and not self.env.su
                and not self.env.user.has_group("retention_loyalty.group_retention_manager")
            ):
                raise UserError(self.env._("Only retention administrators can adjust points."))
            changes = ledger_cards._retention_changes_for(vals["points"], origin)
            other_vals = {key: value for key, value in vals.items() if key != "points"}
            if self - ledger_cards:
                super(LoyaltyCard, self - ledger_cards).write(vals)
            if other_vals:
                super(LoyaltyCard, ledger_cards).write(other_vals)
            self.env["loyalty.card"]._retention_post(changes)
            res = True
        else:
            res = super().write(vals)
        # A balance brought into a ledger by an administrator opens it.
        moved._retention_open_ledger(kind="opening")
        return res

    def _retention_ledger_moves(self, vals):
        """Cards with points that ``vals`` move into or out of a program with a
        ledger: their balance would bypass the ledger, so only retention
        administrators (or the server) may move them."""
        if "program_id" not in vals or is_ledger_posting():
            return self.browse()
        to_ledger = bool(
            self.env["loyalty.program"].browse(vals["program_id"])._retention_uses_ledger()
        )
        moved = self.filtered(
            lambda card: card.points and bool(card.program_id._retention_uses_ledger()) != to_ledger
        )
        if (
            moved
            and not self.env.su
            and not self.env.user.has_group("retention_loyalty.group_retention_manager")
        ):
            raise UserError(
                self.env._(
                    "Only retention administrators can move a card with points into or out of "
                    "a loyalty program."
                )
            )
        return moved

    def _retention_open_ledger(self, kind="opening"):
        """Record the balance of ledger cards that has no entries yet (cards
        created with points, or existing cards when the addon is installed)."""
        cards = self.filtered(lambda card: card.program_id._retention_uses_ledger())
        if not cards:
            return
        sums = dict(
            self.env["retention.points.entry"]._read_group(
                [("card_id", "in", cards.ids)], ["card_id"], ["points:sum"]
            )
        )
        today = fields.Date.context_today(self)
        description = (
            self.env._("Opening balance") if kind == "opening" else self.env._("Points granted")
        )
        vals_list = []
        for card in cards:
            missing = round_points(card.points - sums.get(card, 0.0))
            if not missing:
                continue
            vals_list.append(
                {
                    "card_id": card.id,
                    "kind": kind,
                    "points": missing,
                    "remaining": max(missing, 0.0),
                    "expiry_date": card.program_id._retention_expiry_from(today)
                    if missing > 0
                    else False,
                    "description": description,
                    "date": today,
                }
            )
        with ledger_posting():
            self.env["retention.points.entry"].sudo().create(vals_list)

    def _retention_open_ledger_from_orders(self):
        """Open the ledger of cards that have none from Odoo's own records:
        what each confirmed order earned (``coupon_point_ids``) and spent (its
        reward lines), dated on the order, so that cancelling or refunding
        those orders takes their points back; what the orders do not explain
        is an opening balance. Cards with entries only get their difference
        recorded."""
        cards = self.filtered(lambda card: card.program_id._retention_uses_ledger())
        with_entries = {
            card.id
            for [card] in self.env["retention.points.entry"]._read_group(
                [("card_id", "in", cards.ids)], ["card_id"]
            )
        }
        fresh = cards.filtered(lambda card: card.id not in with_entries)
        orders = self.env["sale.order"].search(
            [
                ("state", "=", "sale"),
                "|",
                ("coupon_point_ids.coupon_id", "in", fresh.ids),
                ("order_line.coupon_id", "in", fresh.ids),
            ],
            order="date_order, id",
        )
        order_changes = defaultdict(list)
        for order in orders:
            for card in (order.coupon_point_ids.coupon_id | order.order_line.coupon_id) & fresh:
                for change in order._retention_confirm_changes(card):
                    order_changes[card].append({**change, "date": order.date_order.date()})
        today = fields.Date.context_today(self)
        changes = []
        for card in fresh:
            own = order_changes[card]
            rest = round_points(card.points - sum(change["points"] for change in own))
            opening = {
                "card": card,
                "kind": "opening",
                "points": rest,
                "date": today,
                "description": self.env._("Opening balance"),
            }
            # Points from before the orders come first, points gone since then last.
            changes += [opening] * (rest > 0) + own + [opening] * (rest < 0)
        self._retention_post(changes, opening=True)
        (cards - fresh)._retention_open_ledger(kind="opening")

    def _retention_changes_for(self, new_points, origin):
        """The ledger changes behind setting the cards' points to
        ``new_points``, told apart by the ``origin`` the server gave."""
        event = origin.get("event")
        orders = self.env["sale.order"].browse(origin.get("order_ids", []))
        changes = []
        for card in self:
            delta = round_points(new_points - card.points)
            if event == "confirm":
                explained = orders._retention_confirm_changes(card)
            elif event == "cancel":
                # The ledger, not Odoo's delta, knows what the order still holds
                # after refunds: take back exactly that.
                changes += orders._retention_cancel_changes(card)
                continue
            elif event == "coupon" and delta:
                # A program applied to a confirmed order adds its points.
                order = orders[:1]
                explained = [
                    {
                        "card": card,
                        "kind": "earn",
                        "points": delta,
                        "order_id": order.id,
                        "description": self.env._("Earned on %(order)s", order=order.name),
                    }
                ]
            elif event == "reward" and delta:
                # A reward line of a confirmed order changed: more or fewer
                # points spent on that order.
                order = orders[:1]
                explained = [
                    {
                        "card": card,
                        "kind": "spend",
                        "points": delta,
                        "order_id": order.id,
                        "restores": delta > 0,
                        "description": self.env._("Spent on %(order)s", order=order.name),
                    }
                ]
            else:
                explained = []
            rest = round_points(delta - sum(change["points"] for change in explained))
            if rest:
                order = orders[:1]
                explained.append(
                    {
                        "card": card,
                        "kind": "adjust",
                        "points": rest,
                        "order_id": order.id,
                        "description": origin.get("reason")
                        or (
                            self.env._("Points of %(order)s updated", order=order.name)
                            if order
                            else self.env._("Balance changed by %(user)s", user=self.env.user.name)
                        ),
                    }
                )
            changes += explained
        return changes

    # ------------------------------------------------------------------ posting

    def _retention_lock(self):
        """Lock the cards for this transaction or fail at once: a concurrent
        change of the same balance raises a concurrency error that Odoo
        answers by retrying the whole request on fresh data."""
        if self.ids:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM loyalty_card WHERE id IN %s"
                    " ORDER BY id FOR NO KEY UPDATE NOWAIT",
                    tuple(self.ids),
                )
            )

    @api.model
    def _retention_post(self, changes, write_history=False, opening=False):
        """Post ledger ``changes`` (dicts: card, kind, points, description and
        optionally order_id, move_id, date, links: other fields of the entry)
        in order, move the cards' balances and consume lots oldest expiry
        first. Nothing is written when a change would take a balance below
        what the program allows.

        ``opening`` records the history of balances that exist without a
        ledger: the changes add up to the balance instead of moving it, never
        fail, and their lots expire as if earned today."""
        changes = [c for c in changes if round_points(c["points"]) or c.get("marker")]
        if not changes:
            return self.env["retention.points.entry"]
        # The arithmetic of the ledger never depends on the user's access.
        self = self.sudo()
        cards = self.browse({change["card"].id for change in changes})
        cards._retention_lock()
        cards.invalidate_recordset(["points"])
        today = fields.Date.context_today(self)
        Entry = self.env["retention.points.entry"]
        open_lots = Entry.search([("card_id", "in", cards.ids), ("remaining", ">", 0)])
        restored_expiry = self._retention_restored_expiry(changes)
        lots_by_card = defaultdict(dict)
        lot_orders = {}
        for lot in open_lots:
            lots_by_card[lot.card_id.id][(0, lot.id)] = Lot(
                (0, lot.id), lot.remaining, lot.expiry_date
            )
            lot_orders[(0, lot.id)] = lot.order_id.id
        balances = {card.id: 0.0 if opening else card.points for card in cards}
        vals_list = []
        for index, change in enumerate(changes):
            card = change["card"]
            program = card.program_id
            points = round_points(change["points"])
            vals = {
                "card_id": card.id,
                "kind": change["kind"],
                "points": points,
                "remaining": 0.0,
                "description": change["description"],
                "order_id": change.get("order_id") or False,
                "move_id": change.get("move_id") or False,
                "date": change.get("date") or today,
                "refund_basis": change.get("refund_basis", 0.0),
                # Bridges link the entry to their own documents (a PoS order).
                **change.get("links", {}),
                "bonus_source": change.get("bonus_source") or False,
                "bonus_period": change.get("bonus_period") or False,
            }
            lots = lots_by_card[card.id]
            if points > 0:
                vals["remaining"] = new_lot_remaining(points, balances[card.id])
                vals["expiry_date"] = (
                    change.get("restores") and restored_expiry.get((card.id, vals["order_id"]))
                ) or program._retention_expiry_from(today if opening else vals["date"])
                lots[(1, index)] = Lot((1, index), vals["remaining"], vals["expiry_date"])
                lot_orders[(1, index)] = vals["order_id"]
            else:
                # Taking back an order's points starts with that order's own lots.
                own = [
                    lot
                    for key, lot in lots.items()
                    if vals["order_id"] and lot_orders[key] == vals["order_id"]
                ]
                taken = (
                    consume(own, -points)
                    if change["kind"] in TAKE_BACK_KINDS
                    else consume([], -points)
                )
                rest = consume(
                    [lot for key, lot in lots.items() if key not in taken.taken], taken.shortfall
                )
                used = {**taken.taken, **rest.taken}
                for key, amount in used.items():
                    lots[key] = Lot(
                        key, round_points(lots[key].remaining - amount), lots[key].expires_on
                    )
                # Remember when the points taken would have expired, so that
                # giving them back does not give them a new life.
                vals["expiry_date"] = min(
                    (lots[key].expires_on for key in used if lots[key].expires_on),
                    default=False,
                )
                if rest.shortfall > 0 and not opening:
                    self._retention_check_shortfall(card, change, balances[card.id])
            balances[card.id] = round_points(balances[card.id] + points)
            vals_list.append(vals)
        for index, vals in enumerate(vals_list):
            if (1, index) in lots_by_card[vals["card_id"]]:
                vals["remaining"] = lots_by_card[vals["card_id"]][(1, index)].remaining
        with ledger_posting():
            entries = Entry.create(vals_list)
        consumed = [
            (lot.id, lots_by_card[lot.card_id.id][(0, lot.id)].remaining)
            for lot in open_lots
            if lots_by_card[lot.card_id.id][(0, lot.id)].remaining != lot.remaining
        ]
        if consumed:
            # One statement however many lots a change consumes.
            self.env.cr.execute(
                SQL(
                    """UPDATE retention_points_entry e SET remaining = v.remaining
                         FROM (VALUES %s) AS v(id, remaining) WHERE e.id = v.id""",
                    SQL(", ").join(SQL("(%s, %s::numeric)", *row) for row in consumed),
                )
            )
            open_lots.invalidate_recordset(["remaining"])
        if not opening:
            cards._retention_extend_on_activity(entries, today)
        with ledger_posting():
            for card in cards:
                card.write({"points": balances[card.id]})
        if write_history:
            entries._retention_write_loyalty_history()
        return entries

    def _retention_check_shortfall(self, card, change, balance):
        program = card.program_id
        if (
            change["kind"] in TAKE_BACK_KINDS
            and program.retention_negative_policy == "allow_negative"
        ):
            _logger.info(
                "Card %s goes below zero: %s takes back points already spent",
                card.code,
                change["description"],
            )
            return
        if change["kind"] in TAKE_BACK_KINDS:
            raise UserError(
                self.env._(
                    "%(what)s takes back %(points)s points from %(customer)s, who has already "
                    "spent them, and program %(program)s does not allow a negative balance.",
                    what=change["description"],
                    points=-change["points"],
                    customer=card.partner_id.display_name or card.code,
                    program=program.name,
                )
            )
        raise UserError(
            self.env._(
                "%(customer)s has %(balance)s points on %(program)s; %(points)s cannot be taken.",
                customer=card.partner_id.display_name or card.code,
                balance=max(balance, 0.0),
                program=program.name,
                points=-change["points"],
            )
        )

    def _retention_restored_expiry(self, changes):
        """For changes that give points back to an order (a cancellation, an
        undone credit note, a smaller reward), the earliest expiry of the
        points that order took, keyed by (card id, order id)."""
        keys = {(c["card"].id, c.get("order_id")) for c in changes if c.get("restores")}
        keys = {key for key in keys if key[1]}
        if not keys:
            return {}
        taken = self.env["retention.points.entry"]._read_group(
            [
                ("card_id", "in", [key[0] for key in keys]),
                ("order_id", "in", [key[1] for key in keys]),
                ("points", "<", 0),
                ("expiry_date", "!=", False),
            ],
            ["card_id", "order_id"],
            ["expiry_date:min"],
        )
        return {(card.id, order.id): day for card, order, day in taken}

    def _retention_extend_on_activity(self, entries, today):
        """Under the inactivity policy every purchase moves the expiry of the
        card's unspent, not yet due points to N months after it, and a new
        reminder will be sent for the new date."""
        earned = entries.filtered(
            lambda entry: (
                entry.kind == "earn"
                and entry.points > 0
                and entry.program_id.retention_expiry_policy == "inactivity"
            )
        )
        rows = []
        for card in earned.card_id:
            last = max(
                earned.filtered(lambda entry, card=card: entry.card_id == card).mapped("date")
            )
            rows.append((card.id, card.program_id._retention_expiry_from(last)))
        if not rows:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE retention_points_entry e
                      SET expiry_date = v.expiry, reminder_sent = FALSE
                     FROM (VALUES %s) AS v(card_id, expiry)
                    WHERE e.card_id = v.card_id AND e.remaining > 0
                      AND (e.expiry_date IS NULL OR e.expiry_date >= %s)""",
                SQL(", ").join(SQL("(%s, %s::date)", *row) for row in rows),
                today,
            )
        )
        self.env["retention.points.entry"].invalidate_model(["expiry_date", "reminder_sent"])

    # ------------------------------------------------------------------ actions

    def _retention_check_usable(self):
        for card in self:
            if not card.program_id._retention_uses_ledger():
                raise UserError(
                    self.env._("Card %(card)s is not a loyalty card with points.", card=card.code)
                )
            if not card.program_id.active or not card.active:
                raise UserError(
                    self.env._(
                        "Program %(program)s or card %(card)s is archived.",
                        program=card.program_id.name,
                        card=card.code,
                    )
                )

    def action_retention_adjust_points(self):
        self.ensure_one()
        self._retention_check_usable()
        return {
            "name": self.env._("Adjust Points"),
            "type": "ir.actions.act_window",
            "res_model": "retention.points.adjust.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_card_id": self.id},
        }

    def action_retention_open_ledger(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "retention_loyalty.retention_points_entry_action"
        )
        action["domain"] = [("card_id", "=", self.id)]
        action["context"] = {"default_card_id": self.id}
        return action

    def action_retention_send_expiry_reminder(self):
        self.ensure_one()
        template = self.program_id.retention_reminder_template_id
        if not self.partner_id.email:
            raise UserError(
                self.env._(
                    "%(customer)s has no email address.", customer=self.partner_id.display_name
                )
            )
        if not template:
            raise UserError(
                self.env._(
                    "Program %(program)s has no reminder email.", program=self.program_id.name
                )
            )
        if not self.retention_next_expiry_date:
            raise UserError(
                self.env._("No points of card %(card)s are due to expire.", card=self.code)
            )
        template.send_mail(self.id, email_layout_xmlid="mail.mail_notification_light")
        return True

    # ------------------------------------------------------------------ crons

    @api.model
    def _cron_expire_points(self, batch_size=20000):
        """Expire due lots in batches; each batch commits (outside tests) and
        the cron runs again while lots are left, so a crash loses one batch
        of work at most and a second run finds nothing left to expire."""
        expired, left = self._retention_expire_due(batch_size)
        self.env["ir.cron"]._notify_progress(done=expired, remaining=left)
        if expired and not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return expired

    @api.model
    def _retention_expire_due(self, batch_size, today=None):
        """Expire up to ``batch_size`` due lots in a few set-based statements;
        returns how many lots expired and how many due lots are left."""
        today = today or fields.Date.context_today(self)
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(
            SQL(
                """SELECT id FROM retention_points_entry
                    WHERE remaining > 0 AND expiry_date <= %s
                 ORDER BY card_id, id LIMIT %s""",
                today,
                batch_size,
            )
        )
        lot_ids = [row[0] for row in cr.fetchall()]
        if not lot_ids:
            return 0, 0
        cr.execute(
            SQL(
                """SELECT c.id FROM loyalty_card c
                    WHERE c.id IN (SELECT card_id FROM retention_points_entry WHERE id = ANY(%s))
                 ORDER BY c.id FOR NO KEY UPDATE""",
                lot_ids,
            )
        )
        description = self.env._("Points expired")
        cr.execute(
            SQL(
                """INSERT INTO retention_points_entry
                       (card_id, program_id, partner_id, company_id, date, kind, points,
                        remaining, description, order_id, user_id, create_uid, create_date,
                        write_uid, write_date)
                   SELECT card_id, program_id, partner_id, company_id, %(today)s, 'expire',
                          -remaining, 0,
                          %(description)s || ' (' || to_char(date, 'YYYY-MM-DD') || ')',
                          -- Points an order earned expire as that order's: cancelling or
                          -- refunding it does not take them again. Given-back spent
                          -- points are the customer's, not the order's.
                          CASE WHEN kind NOT IN ('cancel', 'spend', 'refund_spent')
                               THEN order_id END,
                          %(uid)s, %(uid)s, now() at time zone 'UTC',
                          %(uid)s, now() at time zone 'UTC'
                     FROM retention_points_entry WHERE id = ANY(%(ids)s)""",
                today=today,
                description=description,
                uid=self.env.uid,
                ids=lot_ids,
            )
        )
        cr.execute(
            SQL(
                """WITH expired AS (
                       SELECT card_id, sum(remaining) AS points
                         FROM retention_points_entry WHERE id = ANY(%(ids)s) GROUP BY card_id
                   ), history AS (
                       INSERT INTO loyalty_history
                              (card_id, description, issued, used, create_uid, create_date,
                               write_uid, write_date)
                       SELECT card_id, %(description)s, 0, points, %(uid)s,
                              now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC'
                         FROM expired
                   )
                   UPDATE loyalty_card c SET points = round((c.points - e.points)::numeric, 2),
                          write_date = now() at time zone 'UTC', write_uid = %(uid)s
                     FROM expired e WHERE c.id = e.card_id""",
                ids=lot_ids,
                description=description,
                uid=self.env.uid,
            )
        )
        cr.execute(
            SQL("UPDATE retention_points_entry SET remaining = 0 WHERE id = ANY(%s)", lot_ids)
        )
        self.env.invalidate_all()
        cr.execute(
            SQL(
                "SELECT count(*) FROM retention_points_entry"
                " WHERE remaining > 0 AND expiry_date <= %s",
                today,
            )
        )
        return len(lot_ids), cr.fetchone()[0]

    @api.model
    def _cron_send_expiry_reminders(self):
        """Email customers whose points expire within their program's reminder
        lead time, once per lot."""
        today = fields.Date.context_today(self)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT e.id FROM retention_points_entry e
                     JOIN loyalty_program p ON p.id = e.program_id
                    WHERE e.remaining > 0 AND e.reminder_sent IS NOT TRUE
                      AND p.retention_reminder_days > 0
                      AND e.expiry_date > %(today)s
                      AND e.expiry_date <= %(today)s + p.retention_reminder_days""",
                today=today,
            )
        )
        lots = self.env["retention.points.entry"].browse(row[0] for row in self.env.cr.fetchall())
        for card in lots.card_id:
            template = card.program_id.retention_reminder_template_id
            if card.partner_id.email and template:
                template.send_mail(card.id, email_layout_xmlid="mail.mail_notification_light")
            else:
                _logger.info(
                    "No expiry reminder for card %s: no email address or template", card.code
                )
        lots.sudo().write({"reminder_sent": True})
        self.env["ir.cron"]._notify_progress(done=len(lots), remaining=0)

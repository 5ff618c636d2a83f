from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import PointsCardMixin, make_points_program, make_product


class ReferralCase(PointsCardMixin, TransactionCase):
    """A points program giving 100 points to the referrer and 50 to the new
    customer, where a point is worth 0.10; Ann refers Bob."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.program = make_points_program(
            cls.env,
            "Referral Points",
            {"discount_mode": "per_point", "discount": 0.1, "required_points": 1},
            retention_referrer_points=100,
            retention_referred_points=50,
            retention_negative_policy="block",
        )
        cls.program.retention_redeem_reward_id = cls.program.reward_ids[0]
        cls.product = make_product(cls.env, "Referral Coffee", 200.0, invoice_policy="order")
        cls.referrer = cls.env["res.partner"].create(
            {
                "name": "Ann Referrer",
                "email": "ann@example.com",
                "phone": "+32 470 11 22 33",
                "street": "Rue Haute 5",
                "zip": "1000",
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Bob Newcomer", "email": "bob@example.com", "street": "Main Street 1"}
        )
        cls.salesman = new_test_user(
            cls.env, login="rl_referral_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.code = cls.referrer._retention_referral_codes()[cls.referrer.id]
        cls.Referral = cls.env["retention.referral"]

    def _quotation(self, partner=None, code=None, amount=200.0):
        return (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": (partner or self.customer).id,
                    "retention_referral_code": code,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "product_uom_qty": 1,
                                "price_unit": amount,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )

    def _confirmed(self, partner=None, code=None, amount=200.0):
        """Confirmed by the salesperson, with Ann's code unless told (False: none)."""
        order = self._quotation(partner, self.code if code is None else code, amount)
        order.action_confirm()
        return order.with_user(self.env.user)

    def _invoice(self, order):
        invoice = order._create_invoices()
        invoice.action_post()
        return invoice

    def _pay(self, invoice):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()

    def _refund(self, invoice, amount=None):
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Returned"})
        )
        refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        if amount is not None:
            refund.invoice_line_ids.price_unit = amount
        refund.action_post()
        return refund

    def _paid_referral(self):
        order = self._confirmed()
        invoice = self._invoice(order)
        self._pay(invoice)
        return order, invoice, order.retention_referral_id

    def _bonus(self, partner):
        card = self._card(partner)
        self.assertTrue(card, f"{partner.name} has no card")
        return self._entries(card).filtered(lambda entry: entry.kind == "bonus")


@tagged("post_install", "-at_install")
class TestReferralRewards(ReferralCase):
    def test_both_rewarded_once_the_first_order_is_confirmed_and_paid(self):
        order = self._confirmed()
        referral = order.retention_referral_id
        self.assertRecordValues(
            referral,
            [
                {
                    "referrer_id": self.referrer.id,
                    "referred_id": self.customer.id,
                    "first_order_id": order.id,
                    "source": "salesperson",
                    "state": "pending",
                    "reason": False,
                }
            ],
        )
        invoice = self._invoice(order)
        self.assertEqual(referral.state, "pending", "an unpaid invoice rewards nothing")
        self.assertFalse(self._card(self.referrer))
        self._pay(invoice)
        self.assertRecordValues(
            referral,
            [
                {
                    "state": "rewarded",
                    "referrer_points": 100.0,
                    "referred_points": 50.0,
                    "reward_cost": 15.0,
                    "revenue_since": 200.0,
                }
            ],
        )
        self.assertRecordValues(
            self._bonus(self.referrer), [{"points": 100.0, "description": "Referral: Bob Newcomer"}]
        )
        self.assertRecordValues(
            self._bonus(self.customer), [{"points": 50.0, "description": "Referral: Ann Referrer"}]
        )
        self.assertEqual(self._card(self.referrer).points, 100.0)
        # Bob's card: 200 earned on the order and the 50 of the referral.
        self.assertEqual(self._card(self.customer).points, 250.0)
        self.assertEqual(
            referral.entry_ids, self._bonus(self.referrer) | self._bonus(self.customer)
        )

    def test_paid_twice_and_cron_twice_reward_once(self):
        _order, invoice, referral = self._paid_referral()
        invoice._invoice_paid_hook()
        self.Referral._cron_reward_paid()
        self.Referral._cron_reward_paid()
        referral._retention_reward()
        self.assertEqual(len(self._bonus(self.referrer)), 1)
        self.assertEqual(len(self._bonus(self.customer)), 1)
        self.assertEqual(self._card(self.referrer).points, 100.0)
        self.assertEqual(referral.state, "rewarded")

    def test_cron_rewards_an_order_paid_without_the_hook(self):
        order = self._confirmed()
        invoice = self._invoice(order)
        referral = order.retention_referral_id
        # A payment matched without Odoo's paid hook (as a bank import may).
        with patch.object(type(self.env["account.move"]), "_invoice_paid_hook", lambda moves: None):
            self._pay(invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(referral.state, "pending")
        cron = self.env.ref("retention_loyalty.ir_cron_retention_referral_rewards")
        cron.method_direct_trigger()
        self.assertEqual(referral.state, "rewarded")
        cron.method_direct_trigger()
        self.assertEqual(len(self._bonus(self.referrer)), 1)
        self.assertEqual(len(self._bonus(self.customer)), 1)

    def _online_payment(self, order, reference):
        Method = self.env.registry["account.payment.method"]
        information = Method._get_payment_method_information(self.env["account.payment.method"])
        # A provider without a module of its own, paid into the bank journal,
        # as Odoo's account_payment tests set it up.
        with patch.object(
            Method,
            "_get_payment_method_information",
            lambda method: {**information, "none": {"mode": "electronic", "type": ("bank",)}},
        ):
            self.env["account.payment.method"].create(
                {"name": "Referral Test Method", "code": "none", "payment_type": "inbound"}
            )
            provider = self.env["payment.provider"].create(
                {
                    "name": "Referral Test Provider",
                    "code": "none",
                    "state": "test",
                    "journal_id": self.env["account.journal"]
                    .search([("type", "=", "bank"), ("company_id", "=", self.company.id)], limit=1)
                    .id,
                }
            )
        transaction = self.env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
                "amount": order.amount_total,
                "currency_id": order.currency_id.id,
                "partner_id": order.partner_id.id,
                "reference": reference,
                "operation": "online_redirect",
                "sale_order_ids": [Command.set(order.ids)],
            }
        )
        transaction._set_done()
        transaction._post_process()
        return transaction

    def test_an_online_payment_confirms_and_rewards_at_once(self):
        order = self._quotation(code=self.code).with_user(self.env.user)
        self._online_payment(order, "REFERRAL-TX-1")
        self.assertEqual(order.state, "sale", "the payment confirmed the order")
        self.assertEqual(order.retention_referral_id.state, "rewarded")
        self.assertEqual(self._card(self.referrer).points, 100.0)

    def test_an_online_payment_after_confirmation_is_rewarded_by_the_cron(self):
        order = self._confirmed()
        referral = order.retention_referral_id
        self._online_payment(order, "REFERRAL-TX-2")
        self.assertEqual(referral.state, "pending", "no invoice: Odoo's paid hook never runs")
        self.env.ref("retention_loyalty.ir_cron_retention_referral_rewards").method_direct_trigger()
        self.assertEqual(referral.state, "rewarded")

    def test_without_a_referral_program_it_waits(self):
        self.program.write({"retention_referrer_points": 0, "retention_referred_points": 0})
        _order, _invoice, referral = self._paid_referral()
        self.assertEqual(referral.state, "pending")
        self.program.write({"retention_referrer_points": 30})
        self.assertEqual(self.Referral._cron_reward_paid(), referral)
        self.assertRecordValues(
            referral, [{"state": "rewarded", "referrer_points": 30.0, "referred_points": 0.0}]
        )

    def test_a_referral_from_sign_up_waits_for_the_first_order(self):
        referral = self.Referral._retention_record(self.code, self.customer, self.company, "signup")
        self.assertRecordValues(referral, [{"state": "pending", "first_order_id": False}])
        order = self._quotation(code=False)
        order.action_confirm()
        self.assertEqual(referral.first_order_id, order)
        self._pay(self._invoice(order.with_user(self.env.user)))
        self.assertEqual(referral.state, "rewarded")

    def test_cancelling_the_first_order_takes_the_rewards_back(self):
        order, _invoice, referral = self._paid_referral()
        order.with_context(disable_cancel_warning=True).action_cancel()
        self.assertRecordValues(
            referral, [{"state": "cancelled", "reason": f"First order {order.name} cancelled."}]
        )
        taken = self._entries(self._card(self.referrer)).filtered(
            lambda entry: entry.kind == "cancel"
        )
        self.assertRecordValues(
            taken, [{"points": -100.0, "description": "Referral taken back: Bob Newcomer"}]
        )
        self.assertEqual(self._card(self.referrer).points, 0.0)
        # Bob loses his 50 and the order's own 200.
        self.assertEqual(self._card(self.customer).points, 0.0)

    def test_a_first_order_cancelled_before_payment_is_never_rewarded(self):
        order = self._confirmed()
        referral = order.retention_referral_id
        invoice = self._invoice(order)
        order.with_context(disable_cancel_warning=True).action_cancel()
        self.assertRecordValues(
            referral, [{"state": "cancelled", "reason": f"First order {order.name} cancelled."}]
        )
        self._pay(invoice)
        self.Referral._cron_reward_paid()
        self.assertEqual(referral.state, "cancelled")
        self.assertFalse(self._card(self.referrer), "nothing was given, nothing to take")

    def test_a_credit_note_of_the_whole_order_takes_the_rewards_back(self):
        order, invoice, referral = self._paid_referral()
        refund = self._refund(invoice)
        self.assertRecordValues(
            referral,
            [
                {
                    "state": "cancelled",
                    "reason": f"First order {order.name} refunded by {refund.name}.",
                }
            ],
        )
        taken = self._entries(self._card(self.referrer)).filtered(
            lambda entry: entry.kind == "refund"
        )
        self.assertRecordValues(taken, [{"points": -100.0, "move_id": refund.id}])
        self.assertEqual(self._card(self.referrer).points, 0.0)
        # Paying again or the cron does not give it back.
        self.Referral._cron_reward_paid()
        self.assertEqual(self._card(self.referrer).points, 0.0)

    def test_undoing_the_credit_note_gives_the_rewards_back(self):
        order, invoice, referral = self._paid_referral()
        refund = self._refund(invoice)
        self.assertEqual(referral.refund_move_id, refund)
        self.assertEqual(self._card(self.referrer).points, 0.0)
        # Back to draft: the refund is still being made, so the referral waits.
        refund.button_draft()
        self.assertRecordValues(
            referral,
            [
                {
                    "state": "pending",
                    "refund_move_id": False,
                    "reason": f"Credit note {refund.name} undone: the rewards are due again.",
                }
            ],
        )
        self.assertEqual(self._card(self.referrer).points, 0.0)
        # Cancelled: the first order is paid again, both are rewarded again, once.
        refund.button_cancel()
        self.assertRecordValues(
            referral, [{"state": "rewarded", "referrer_points": 100.0, "reason": False}]
        )
        self.assertEqual(self._card(self.referrer).points, 100.0)
        self.Referral._cron_reward_paid()
        self.assertEqual(self._card(self.referrer).points, 100.0)
        self.assertEqual(order.retention_referral_id, referral)

    def test_cancelling_a_posted_credit_note_rewards_again(self):
        _order, invoice, referral = self._paid_referral()
        refund = self._refund(invoice)
        refund.button_cancel()
        self.assertEqual(refund.state, "cancel")
        self.assertEqual(referral.state, "rewarded")
        self.assertEqual(self._card(self.referrer).points, 100.0)
        # A second credit note takes them back again.
        self._refund(invoice)
        self.assertEqual(referral.state, "cancelled")
        self.assertEqual(self._card(self.referrer).points, 0.0)

    def test_a_partial_credit_note_keeps_the_rewards(self):
        _order, invoice, referral = self._paid_referral()
        self._refund(invoice, amount=50.0)
        self.assertEqual(referral.state, "rewarded")
        self.assertEqual(self._card(self.referrer).points, 100.0)

    def test_points_already_spent_are_not_taken_below_zero(self):
        order, _invoice, referral = self._paid_referral()
        card = self._card(self.referrer)
        self.env["loyalty.card"]._retention_post(
            [{"card": card, "kind": "spend", "points": -80, "description": "Spent"}]
        )
        order.with_context(disable_cancel_warning=True).action_cancel()
        self.assertEqual(card.points, 0.0)
        self.assertIn(
            "80 points already spent by Ann Referrer were not taken back.", referral.reason
        )
        self.assertEqual(referral.state, "cancelled")

    def test_a_program_allowing_negative_balances_takes_spent_points_back(self):
        self.program.retention_negative_policy = "allow_negative"
        order, _invoice, _referral = self._paid_referral()
        card = self._card(self.referrer)
        self.env["loyalty.card"]._retention_post(
            [{"card": card, "kind": "spend", "points": -80, "description": "Spent"}]
        )
        order.with_context(disable_cancel_warning=True).action_cancel()
        self.assertEqual(card.points, -80.0)

    def test_a_voucher_program_issues_and_takes_back_vouchers(self):
        vouchers = self.env["loyalty.program"].create(
            {
                "name": "Welcome Voucher",
                "program_type": "coupons",
                "retention_referral_voucher": "both",
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount_mode": "per_order",
                            "discount": 10,
                            "discount_applicability": "order",
                            "required_points": 1,
                        }
                    )
                ],
            }
        )
        order, _invoice, referral = self._paid_referral()
        self.assertEqual(referral.voucher_ids.program_id, vouchers)
        self.assertEqual(referral.voucher_ids.partner_id, self.referrer | self.customer)
        self.assertEqual(referral.reward_cost, 15.0 + 2 * 10.0)
        order.with_context(disable_cancel_warning=True).action_cancel()
        given = referral.with_context(active_test=False).voucher_ids
        self.assertEqual(len(given), 2)
        self.assertFalse(given.filtered("active"))
        self.assertEqual(given.mapped("points"), [0.0, 0.0])


@tagged("post_install", "-at_install")
class TestReferralGuards(ReferralCase):
    def test_the_owner_cannot_use_their_own_code(self):
        contact = self.env["res.partner"].create(
            {"name": "Ann's assistant", "parent_id": self.referrer.id}
        )
        order = self._confirmed(partner=contact)
        self.assertRecordValues(
            order.retention_referral_id,
            [
                {
                    "referrer_id": self.referrer.id,
                    "referred_id": self.referrer.id,
                    "state": "cancelled",
                    "reason": "The code was used by its owner.",
                }
            ],
        )
        self._pay(self._invoice(order))
        self.assertFalse(self._card(self.referrer), "no reward for the referrer")

    def test_self_referral_by_email_phone_or_address_is_refused(self):
        cases = {
            "e-mail address": {"email": "ANN+shop@Example.com"},
            "phone number": {"mobile": "0470/11.22.33"},
            "address": {"street": "rue haute, 5", "zip": "1000 "},
        }
        for what, values in cases.items():
            with self.subTest(what=what):
                partner = self.env["res.partner"].create({"name": f"Alias {what}", **values})
                order = self._confirmed(partner=partner)
                self.assertRecordValues(
                    order.retention_referral_id,
                    [
                        {
                            "state": "cancelled",
                            "reason": f"Self-referral: same {what} as the referrer.",
                        }
                    ],
                )
                self._pay(self._invoice(order))
                self.assertFalse(self._card(self.referrer), "no reward for the referrer")

    def test_only_new_customers_in_that_company_count(self):
        earlier = self._confirmed(code=False)
        order = self._confirmed()
        self.assertRecordValues(
            order.retention_referral_id,
            [
                {
                    "state": "cancelled",
                    "reason": f"Not a new customer: order {earlier.name} was confirmed before.",
                }
            ],
        )
        # An order in another company does not make them a known customer here.
        other_company = self.env["res.company"].create({"name": "Referral Other Company"})
        newcomer = self.env["res.partner"].create({"name": "Carl Newcomer"})
        self.env["sale.order"].with_company(other_company).create(
            {
                "partner_id": newcomer.id,
                "company_id": other_company.id,
                "order_line": [Command.create({"product_id": self.product.id})],
            }
        ).action_confirm()
        self.assertEqual(self._confirmed(partner=newcomer).retention_referral_id.state, "pending")

    def test_the_first_referral_wins(self):
        first = self.Referral._retention_record(self.code, self.customer, self.company, "signup")
        other = self.env["res.partner"].create({"name": "Dora Other", "email": "dora@example.com"})
        other_code = other._retention_referral_codes()[other.id]
        order = self._confirmed(code=other_code)
        second = self.Referral.search(
            [("referred_id", "=", self.customer.id), ("referrer_id", "=", other.id)]
        )
        self.assertRecordValues(
            second,
            [
                {
                    "state": "cancelled",
                    "reason": f"Already referred by Ann Referrer on {first.date}: "
                    "the first referral counts.",
                }
            ],
        )
        self.assertEqual(first.first_order_id, order)
        self._pay(self._invoice(order))
        self.assertEqual(first.state, "rewarded")
        self.assertFalse(self._card(other), "the second referrer gets nothing")

    def test_a_code_is_checked_on_the_quotation(self):
        with self.assertRaisesRegex(ValidationError, "NOTACODE1 is not a referral code"):
            self._quotation(code="NOTACODE1")
        order = self._quotation(code=self.code.lower())
        self.assertEqual(order.retention_referral_code, self.code)
        order.action_confirm()
        with self.assertRaisesRegex(UserError, "only be set on a quotation"):
            order.write({"retention_referral_code": False})

    def test_the_quotation_warns_the_salesperson(self):
        self._confirmed(code=False)
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .new({"partner_id": self.customer.id, "retention_referral_code": self.code})
        )
        warning = order._onchange_retention_referral_code()["warning"]["message"]
        self.assertIn("Not a new customer", warning)

    def test_rewards_never_come_from_the_client(self):
        order = self._confirmed()
        referral = order.retention_referral_id.with_user(self.salesman)
        self.assertEqual(referral.state, "pending", "the salesperson reads their referral")
        with self.assertRaises(AccessError):
            referral.write({"state": "rewarded"})
        with self.assertRaises(AccessError):
            self.Referral.with_user(self.salesman).create(
                {
                    "referrer_id": self.referrer.id,
                    "referred_id": self.customer.id,
                    "code": self.code,
                    "source": "salesperson",
                }
            )
        # A hostile context changes nothing: the order is still unpaid.
        self.Referral.with_user(self.salesman).with_context(
            retention_referral_paid=True, active_test=False
        ).sudo(False)._cron_reward_paid()
        self.assertEqual(referral.state, "pending")
        with self.assertRaisesRegex(UserError, "never edited"):
            self.referrer.with_user(self.salesman).write({"retention_referral_code": "AAAAAAAAAA"})

    def test_salespeople_see_the_referrals_of_their_customers(self):
        other_salesman = new_test_user(
            self.env, login="rl_referral_other", groups="sales_team.group_sale_salesman"
        )
        referral = self._confirmed().retention_referral_id
        (self.referrer | self.customer).user_id = self.salesman
        self.assertEqual(self.Referral.with_user(self.salesman).search([]), referral)
        self.assertFalse(self.Referral.with_user(other_salesman).search([]))

    def test_codes_are_made_once_per_customer_in_one_statement(self):
        partners = self.env["res.partner"].create([{"name": f"Batch {i}"} for i in range(20)])
        contact = self.env["res.partner"].create({"name": "Contact", "parent_id": partners[0].id})
        with self.assertQueryCount(2):
            codes = (partners | contact)._retention_referral_codes()
        self.assertEqual(len(set(codes.values())), 20)
        self.assertEqual(codes[contact.id], codes[partners[0].id])
        self.assertEqual(
            partners._retention_referral_codes(), {p.id: codes[p.id] for p in partners}
        )

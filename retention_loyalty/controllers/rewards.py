from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

# Ledger lines per page: five years of history stay quick to show.
LEDGER_STEP = 20


def _record_id(value):
    """The id a form sent, or 0 for anything that is not a positive integer."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return max(number, 0)


class RetentionRewardsPortal(CustomerPortal):
    """My rewards: the customer's points, their history, what they can earn
    and claim, and the free clubs they can join or leave."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if not counters:  # the home page itself, not the counters it fetches
            page = request.env["retention.portal.rewards"]
            values["retention_rewards"] = bool(page._cards() or page._joinable_clubs())
        return values

    def _render_rewards(self, page=1, error=None, claimed=None, status=200):
        Page = request.env["retention.portal.rewards"]
        overview = Page._overview()
        cards = overview["card_records"]
        pager = portal_pager(
            url="/my/rewards",
            total=Page._ledger_count(cards),
            page=page,
            step=LEDGER_STEP,
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                **overview,
                "ledger": Page._ledger_lines(cards, offset=pager["offset"], limit=LEDGER_STEP),
                "pager": pager,
                "error": error,
                # Only a code of the customer's own is ever shown.
                "claimed": overview["reward_codes"].filtered(lambda code: code.id == claimed),
                "page_name": "retention_rewards",
            }
        )
        return request.render("retention_loyalty.portal_my_rewards", values, status=status)

    @http.route(
        ["/my/rewards", "/my/rewards/page/<int:page>"], type="http", auth="user", website=True
    )
    def portal_my_rewards(self, page=1, claimed=None, **kw):
        return self._render_rewards(page=page, claimed=_record_id(claimed))

    def _act(self, action, success_url="/my/rewards"):
        """Run a change of the page; its refusal is shown on the page and
        nothing of it is kept. A concurrency error goes up to Odoo, which
        retries the request on fresh data."""
        try:
            with request.env.cr.savepoint():
                result = action()
        except MissingError as error:
            raise NotFound() from error
        except (UserError, ValidationError) as error:
            return self._render_rewards(error=error.args[0], status=409)
        return request.redirect(success_url(result) if callable(success_url) else success_url)

    @http.route(["/my/rewards/claim"], type="http", auth="user", methods=["POST"], website=True)
    def portal_claim_reward(self, card_id=None, reward_id=None, **kw):
        Page = request.env["retention.portal.rewards"]
        return self._act(
            lambda: Page._claim(_record_id(card_id), _record_id(reward_id)),
            success_url=lambda coupon: f"/my/rewards?claimed={coupon.id}",
        )

    @http.route(
        ["/my/rewards/clubs/<int:club_id>/join"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_join_club(self, club_id, accept_terms=None, **kw):
        Page = request.env["retention.portal.rewards"]
        return self._act(lambda: Page._join(club_id, accept_terms=accept_terms == "on"))

    @http.route(
        ["/my/rewards/memberships/<int:membership_id>/leave"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_leave_club(self, membership_id, **kw):
        Page = request.env["retention.portal.rewards"]
        return self._act(lambda: Page._leave(membership_id))

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import formatLang

# Earlier birthdays are typing mistakes, not customers.
MIN_BIRTH_YEAR = 1900
CONSENT_ANSWERS = ("yes", "no")


class RetentionPortalProfile(models.AbstractModel):
    """The portal's profile page: the signed-in customer tells their
    birthday, interests and marketing consent, and a complete profile earns
    the loyalty programs' profile bonus (once per period, by the ledger).

    It reads and changes the user's own contact only: no partner id comes
    from the client, and context keys are not read. The write is done with
    sudo (portal users may not write partners) after the values are checked."""

    _name = "retention.portal.profile"
    _description = "Customer Profile Page"

    def _contact(self):
        return self.env.user.partner_id

    def _available(self):
        """Whether the user has a profile page: a person does; a company
        (a company contact given its own portal user) has no birthday."""
        return not self._contact().sudo().is_company

    def _preference_choices(self):
        """The interests offered: categories of products on sale, and those
        the customer already picked."""
        groups = (
            self.env["product.template"].sudo()._read_group([("sale_ok", "=", True)], ["categ_id"])
        )
        categories = self.env["product.category"].sudo().union(*(categ for (categ,) in groups))
        return (categories | self._contact().sudo().retention_preference_ids).sorted(
            "complete_name"
        )

    def _values(self):
        """What the page shows of the customer's profile."""
        contact = self._contact().sudo()
        return {
            "contact": contact,
            "birthday": contact.retention_birthday,
            "preferences": contact.retention_preference_ids,
            "consent": contact.retention_marketing_consent or "",
            "complete": contact.retention_profile_complete,
            "choices": self._preference_choices(),
            "today": fields.Date.context_today(self),
        }

    def _parse_birthday(self, value):
        if not value:
            return False
        try:
            birthday = fields.Date.to_date(value.strip())
        except ValueError:
            birthday = None
        if not birthday:
            raise UserError(self.env._("The birthday is not a valid date."))
        if birthday > fields.Date.context_today(self):
            raise UserError(self.env._("Your birthday cannot be in the future."))
        if birthday.year < MIN_BIRTH_YEAR:
            raise UserError(self.env._("Enter a birthday after %(year)s.", year=MIN_BIRTH_YEAR))
        return birthday

    def _parse_preferences(self, values):
        choices = self._preference_choices()
        wanted = set()
        for value in values or ():
            try:
                wanted.add(int(value))
            except (TypeError, ValueError):
                wanted.add(0)
        if wanted - set(choices.ids):
            raise UserError(self.env._("Choose your interests from the list."))
        return choices.filtered(lambda category: category.id in wanted)

    def _save(self, birthday, preference_ids, marketing_consent):
        """Check and save the profile of the user's own contact; returns the
        points the profile bonus gave now (0 when none: incomplete, no
        program paying it, or already given in this period). Bad input
        raises a UserError and changes nothing."""
        # Nothing of the caller's context is trusted: the user's language and
        # time zone (which decides "today" and so the bonus period) only.
        self = self.with_env(
            self.env(context={"lang": self.env.user.lang, "tz": self.env.user.tz or "UTC"})
        )
        contact = self._contact()
        if self.env.user._is_public():
            raise UserError(self.env._("Sign in to complete your profile."))
        if not self._available():
            raise UserError(self.env._("A company has no profile to complete: it is for people."))
        values = {
            "retention_birthday": self._parse_birthday(birthday),
            "retention_preference_ids": [
                fields.Command.set(self._parse_preferences(preference_ids).ids)
            ],
            "retention_marketing_consent": self._parse_consent(marketing_consent),
        }
        Entry = self.env["retention.points.entry"].sudo()
        domain = [
            ("partner_id", "=", contact.id),
            ("kind", "=", "bonus"),
            ("bonus_source", "=", "profile"),
        ]
        before = Entry.search(domain)
        # Checked above: the user's own contact, with valid values. The
        # write gives the bonus when it completes the profile (res.partner).
        contact.sudo().write(values)
        return sum((Entry.search(domain) - before).mapped("points"))

    def _parse_consent(self, value):
        if value in (None, ""):
            return False
        if value not in CONSENT_ANSWERS:
            raise UserError(self.env._("Answer the marketing question with yes or no."))
        return value

    def _earned_message(self, points):
        digits = 0 if float(points).is_integer() else 2
        return self.env._(
            "You earned %(points)s points for completing your profile",
            points=formatLang(self.env, points, digits=digits),
        )

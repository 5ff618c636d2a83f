"""Referral codes and the self-referral check, in plain Python."""

import re
import secrets
from dataclasses import dataclass

# No 0/O/1/I/L: codes are read out loud and typed by hand.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10  # 31**10 ~ 8e14 codes: not guessable by trying.
CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")

# Phone numbers are compared on their last digits, so that "+32 470 12 34 56"
# and "0470/12.34.56" are the same number.
PHONE_DIGITS = 9


def new_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_code(code):
    """The code as stored (upper case, no spaces or dashes), or None when it
    cannot be a referral code."""
    code = re.sub(r"[\s-]", "", code or "").upper()
    return code if CODE_PATTERN.match(code) else None


def normalise_email(email):
    """Lower case address without a display name or a "+tag" (x+1@y is x@y)."""
    match = re.search(r"[^\s<>\"',;]+@[^\s<>\"',;]+", email or "")
    if not match:
        return None
    local, _at, domain = match.group(0).lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def normalise_phone(phone):
    digits = re.sub(r"\D", "", phone or "")
    return digits[-PHONE_DIGITS:] if len(digits) >= 6 else None


def normalise_address(street, zip_code, country):
    """Street and postcode without case, spaces or punctuation; None when
    either is missing (a city alone is not an address)."""
    street = re.sub(r"\W", "", (street or "").lower())
    zip_code = re.sub(r"\W", "", (zip_code or "").lower())
    if not street or not zip_code:
        return None
    return (street, zip_code, country or None)


@dataclass(frozen=True)
class Identity:
    """What identifies a person: the normalised e-mails, phones and addresses
    of a customer and its contacts."""

    emails: frozenset = frozenset()
    phones: frozenset = frozenset()
    addresses: frozenset = frozenset()


def identity(contacts):
    """The ``Identity`` of ``contacts``: dicts with email, phone, mobile,
    street, zip and country."""
    emails, phones, addresses = set(), set(), set()
    for contact in contacts:
        emails.add(normalise_email(contact.get("email")))
        phones.add(normalise_phone(contact.get("phone")))
        phones.add(normalise_phone(contact.get("mobile")))
        addresses.add(
            normalise_address(contact.get("street"), contact.get("zip"), contact.get("country"))
        )
    return Identity(
        frozenset(emails - {None}), frozenset(phones - {None}), frozenset(addresses - {None})
    )


def shared_identity(referrer, referred):
    """What two ``Identity`` share, as (what, value) pairs: "email", "phone"
    or "address"; empty when they look like different people."""
    shared = [("email", value) for value in sorted(referrer.emails & referred.emails)]
    shared += [("phone", value) for value in sorted(referrer.phones & referred.phones)]
    shared += [("address", value) for value in sorted(referrer.addresses & referred.addresses)]
    return shared

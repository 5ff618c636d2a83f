from retention_loyalty.engine.referrals import (
    CODE_LENGTH,
    clean_code,
    identity,
    new_code,
    normalise_email,
    normalise_phone,
    shared_identity,
)


def test_codes_are_random_unambiguous_and_cleaned_when_typed():
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(len(code) == CODE_LENGTH and not set(code) & set("01OIL") for code in codes)
    code = sorted(codes)[0]
    assert clean_code(f" {code[:5].lower()}-{code[5:]} ") == code
    assert clean_code("ABC") is None
    assert clean_code("O" * CODE_LENGTH) is None
    assert clean_code(None) is None


def test_emails_and_phones_are_compared_normalised():
    assert normalise_email('"Ann" <Ann.Smith+shop@Example.com>') == "ann.smith@example.com"
    assert normalise_email("no address") is None
    assert normalise_phone("+32 470 12 34 56") == normalise_phone("0470/12.34.56")
    assert normalise_phone("12") is None


def test_same_person_by_email_phone_or_address_of_any_contact():
    referrer = identity(
        [
            {"email": "ann@example.com", "street": "Rue Haute 5", "zip": "1000", "country": 1},
            {"mobile": "+32 470 12 34 56"},
        ]
    )
    assert shared_identity(referrer, identity([{"email": "ANN+2@example.com"}])) == [
        ("email", "ann@example.com")
    ]
    assert shared_identity(referrer, identity([{"phone": "0470 65 43 21"}])) == []
    assert shared_identity(referrer, identity([{"phone": "0470 12 34 56"}])) == [
        ("phone", "470123456")
    ]
    assert shared_identity(
        referrer, identity([{"street": "rue haute, 5", "zip": "1000 ", "country": 1}])
    ) == [("address", ("ruehaute5", "1000", 1))]
    # A city or a street alone is no address; other people stay other people.
    assert shared_identity(referrer, identity([{"street": "Rue Haute 5", "country": 1}])) == []
    assert shared_identity(referrer, identity([{"email": "bob@example.com"}])) == []

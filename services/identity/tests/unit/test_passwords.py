"""The password policy: 8-128 code points after NFKC, no composition rules, not a common password."""

import pytest

from identity.domain.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    WeakPassword,
    check_password,
    common_passwords,
    is_common_password,
    normalise_password,
)
from shared.kernel.errors import InvalidInput


def reason_for(password: str) -> str:
    with pytest.raises(WeakPassword) as caught:
        check_password(password)
    return caught.value.reason


def test_a_password_of_exactly_8_characters_is_accepted():
    assert check_password("vq3#Lm9z") == "vq3#Lm9z"


def test_a_password_of_7_characters_is_too_short():
    assert reason_for("vq3#Lm9") == "must be at least 8 characters"


def test_the_empty_password_is_too_short():
    assert reason_for("") == "must be at least 8 characters"


def test_a_password_of_exactly_128_characters_is_accepted():
    password = ("tangerine kayak " * 8)[:MAX_LENGTH]
    assert len(password) == 128
    assert check_password(password) == password


def test_a_password_of_129_characters_is_too_long():
    assert reason_for("z" + ("tangerine kayak " * 9)[:MAX_LENGTH]) == "must be at most 128 characters"


def test_no_composition_rules_apply():
    for password in ("correct horse battery staple", "zebrafinchlantern", "QUIETOTTERSWIM", "83920571648"):
        assert check_password(password) == password


def test_length_counts_code_points_not_bytes():
    # Eight emoji are 32 UTF-8 bytes but eight characters: long enough, and no longer.
    assert check_password("🔑🦊🌵🎻🧭🪁🛶🍋") == "🔑🦊🌵🎻🧭🪁🛶🍋"
    assert reason_for("🔑🦊🌵🎻🧭🪁🛶") == "must be at least 8 characters"


def test_length_is_measured_after_nfkc_normalisation():
    # "e" + COMBINING ACUTE composes to one "é": 14 code points typed, 7 characters meant.
    assert reason_for("e\u0301" * 7) == "must be at least 8 characters"
    # The "ﬀ" ligature expands to "ff": 4 code points typed, 8 characters after NFKC.
    assert check_password("\ufb00\ufb01\ufb02\ufb00") == "fffiflff"


def test_the_accepted_password_is_returned_normalised_for_hashing():
    assert check_password("cafe\u0301 au lait") == "caf\u00e9 au lait"
    assert normalise_password("cafe\u0301 au lait") == check_password("cafe\u0301 au lait")


def test_a_common_password_is_refused():
    assert reason_for("password") == "is too common"
    assert reason_for("iloveyou") == "is too common"


def test_the_common_password_check_ignores_case():
    assert reason_for("PaSsWoRd1") == "is too common"
    assert reason_for("QWERTYUIOP") == "is too common"


def test_the_common_password_check_sees_through_compatibility_characters():
    # FULLWIDTH LATIN SMALL LETTERs NFKC-normalise to ASCII: this spells "password".
    assert reason_for("\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44") == "is too common"


def test_length_is_checked_before_commonness():
    assert reason_for("123456") == "must be at least 8 characters"


def test_is_common_password_answers_without_raising():
    assert is_common_password("Dragon")
    assert not is_common_password("tangerine kayak")


def test_the_bundled_list_holds_at_least_ten_thousand_passwords():
    assert len(common_passwords()) >= 10_000


def test_the_bundled_list_is_loaded_once():
    assert common_passwords() is common_passwords()


def test_every_listed_password_long_enough_to_pass_the_length_rule_is_refused():
    eligible = [p for p in common_passwords() if MIN_LENGTH <= len(p) <= MAX_LENGTH]
    assert len(eligible) > 5_000
    assert all(is_common_password(p.upper()) for p in eligible)


def test_weak_password_is_an_invalid_input_whose_detail_never_quotes_the_password():
    with pytest.raises(InvalidInput) as caught:
        check_password("letmein1")
    error = caught.value
    assert isinstance(error, WeakPassword)
    assert error.detail == "The password is too common."
    assert "letmein1" not in str(error)
    assert "letmein1" not in repr(error)

"""Email addresses: stored nearly as typed, matched on the whole address case-insensitively."""

import pytest

from identity.domain.emails import InvalidEmail, canonical_email, normalise_email, same_address
from shared.kernel.errors import InvalidInput


def test_blanks_around_the_address_go_and_the_domain_is_lower_cased():
    assert normalise_email("  Ada.Lovelace@Example.ORG \n") == "Ada.Lovelace@example.org"


def test_full_width_characters_become_their_plain_forms():
    full_width_ada = "\uff41\uff44\uff41"
    assert normalise_email(f"{full_width_ada}@example.org") == "ada@example.org"


def test_the_local_part_keeps_its_case_but_addresses_match_whatever_the_case():
    assert same_address(normalise_email("Ada@Example.org"), normalise_email("ada@EXAMPLE.org"))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ada",
        "@example.org",
        "ada@",
        "ada@@example.org",
        "ada@exa mple.org",
        "Ada <ada@example.org>",
        "ada@example..org",
        "ada@.example.org",
        ".ada@example.org",
        "ada\x00@example.org",
        "a" * 250 + "@example.org",
    ],
)
def test_anything_but_one_plain_address_is_refused(raw):
    with pytest.raises(InvalidEmail):
        normalise_email(raw)


def test_an_invalid_address_is_invalid_input_and_does_not_echo_it():
    with pytest.raises(InvalidInput) as caught:
        normalise_email("secret-thing")
    assert "secret-thing" not in caught.value.detail


@pytest.mark.parametrize(
    "spelling",
    [
        "VICTIM@EXAMPLE.ORG",
        "\uff56\uff49\uff43\uff54\uff49\uff4d@example.org",
        "\U0001d42f\U0001d422\U0001d41c\U0001d42d\U0001d422\U0001d426@example.org",
        " victim@example.org ",
    ],
)
def test_look_alike_spellings_have_one_canonical_form(spelling):
    assert canonical_email(spelling) == canonical_email("victim@example.org") == "victim@example.org"


def test_case_folding_goes_beyond_lower_case():
    assert canonical_email("Stra\u00dfe@example.org") == canonical_email("STRASSE@example.org")
    assert canonical_email("\ufb01nn@example.org") == "finn@example.org"
    assert canonical_email("jose\u0301@example.org") == canonical_email("JOS\u00c9@example.org")
    assert canonical_email("v\u0130ctim@example.org") != canonical_email("victim@example.org")

"""New ids are UUIDv7: time-ordered, unique, with the version and variant RFC 9562 sets."""

import time
from uuid import UUID

from shared.kernel.ids import new_id


def test_ids_are_version_7_of_the_rfc_variant():
    made = new_id()

    assert made.version == 7
    assert made.variant == "specified in RFC 4122"


def test_ids_made_in_a_row_sort_in_the_order_they_were_made_even_within_a_millisecond():
    made = [new_id() for _ in range(20_000)]

    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_the_first_48_bits_are_the_unix_time_in_milliseconds():
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000

    assert before <= made.int >> 80 <= after + 1  # +1: a full counter borrows the next millisecond


def test_ids_are_standard_uuids():
    assert isinstance(new_id(), UUID)

"""Prompt lineages: versions numbered one after another, If-Match on the latest, labels that
move only when asked, and the unified diff."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator.domain.prompts import (
    MAX_LABELS,
    PromptCreated,
    PromptLabelMoved,
    PromptLineage,
    unified_diff,
)
from shared.kernel.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from shared.kernel.ids import new_id

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def started(content: str = "one\ntwo\n"):
    return PromptLineage.start(
        id=new_id(), project_id=new_id(), owner_id=new_id(), title="Spec", content=content, now=NOW
    )


def revise(lineage, base, content, expected=None, title=None):
    return lineage.revise(
        base,
        id=new_id(),
        title=title,
        content=content,
        expected_version=expected,
        author=lineage.owner_id,
        now=NOW,
    )


def test_version_one_has_the_lineages_id_and_the_current_label():
    lineage, first = started()

    assert (first.id, first.lineage_id, first.version, first.parent_id) == (lineage.id, lineage.id, 1, None)
    assert lineage.labels == {"current": 1}
    [event] = lineage.pull_events()
    assert isinstance(event, PromptCreated)
    assert event.labels == ("current",)


def test_an_edit_is_the_next_version_with_the_edited_one_as_parent():
    lineage, first = started()
    second = revise(lineage, first, "one\n2\n", expected=1)
    third = revise(lineage, first, "uno\n", expected=2, title="Spec (es)")

    assert (second.version, second.parent_id, second.title) == (2, first.id, "Spec")
    assert (third.version, third.parent_id, third.title) == (3, first.id, "Spec (es)")
    assert lineage.latest_version == 3
    assert lineage.labels == {"current": 1}  # no label moves by itself


def test_an_edit_based_on_a_stale_version_is_refused_and_changes_nothing():
    lineage, first = started()
    revise(lineage, first, "two wins\n", expected=1)
    lineage.pull_events()

    with pytest.raises(PreconditionFailed, match="at version 2, not 1"):
        revise(lineage, first, "one loses\n", expected=1)

    assert lineage.latest_version == 2
    assert lineage.pull_events() == []


def test_moving_a_label_and_moving_it_back_is_a_rollback_with_an_event_each():
    lineage, first = started()
    revise(lineage, first, "two\n")
    lineage.pull_events()

    assert lineage.move_label("current", 2, NOW)
    assert not lineage.move_label("current", 2, NOW)  # already there: nothing moves
    assert lineage.move_label("current", 1, NOW)

    moves = [
        (e.label, e.version, e.previous_version)
        for e in lineage.pull_events()
        if isinstance(e, PromptLabelMoved)
    ]
    assert moves == [("current", 2, 1), ("current", 1, 2)]


def test_label_rules():
    lineage, _ = started()

    with pytest.raises(NotFound):
        lineage.move_label("production", 2, NOW)
    with pytest.raises(InvalidInput):
        lineage.move_label("Bad Name", 1, NOW)
    with pytest.raises(Conflict):
        lineage.remove_label("current", NOW)
    with pytest.raises(NotFound):
        lineage.remove_label("staging", NOW)
    for n in range(MAX_LABELS - 1):
        lineage.move_label(f"env-{n}", 1, NOW)
    with pytest.raises(Conflict, match="labels"):
        lineage.move_label("one-too-many", 1, NOW)


def test_the_diff_is_unified_with_version_headers():
    lineage, first = started("a\nb\nc\n")
    second = revise(lineage, first, "a\nB\nc\nd")

    diff = unified_diff(first, second)

    assert diff.splitlines()[:2] == ["--- v1", "+++ v2"]
    assert "-b\n+B\n" in diff
    assert diff.endswith("+d\n\\ No newline at end of file\n")
    assert unified_diff(first, first) == ""

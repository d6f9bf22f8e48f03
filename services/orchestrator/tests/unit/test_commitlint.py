"""commitlint's config-conventional rules: each fails a message that breaks it, passes one that keeps it."""

import pytest

from orchestrator.domain.commitlint import lint

VALID = "feat(api): add the export endpoint\n\nThe body explains why.\n\nRefs: #12"


def rules(message: str) -> dict[str, str]:
    return {v.rule: v.level for v in lint(message)}


def test_a_well_formed_message_has_no_violation():
    assert lint(VALID) == []


@pytest.mark.parametrize(
    ("rule", "level", "breaking", "passing"),
    [
        ("type-enum", "error", "feature: add x", "feat: add x"),
        ("type-case", "error", "Feat: add x", "feat: add x"),
        ("type-empty", "error", ": add x", "fix: add x"),
        ("subject-empty", "error", "feat: ", "feat: add x"),
        ("subject-full-stop", "error", "feat: add x.", "feat: add x"),
        ("subject-case", "error", "feat: Add the thing", "feat: add the thing"),
        ("subject-case", "error", "feat: Add The Thing", "feat: add the API thing"),
        ("subject-case", "error", "feat: ADD THE THING", "feat: add `Quoted` thing"),
        ("subject-case", "error", "feat: AddThing", "feat: addThing"),
        ("header-max-length", "error", "feat: " + "x" * 95, "feat: " + "x" * 94),
        ("header-trim", "error", " feat: add x", "feat: add x"),
        ("scope-case", "error", "feat(API): add x", "feat(api/v1): add x"),
        ("body-leading-blank", "warning", "feat: add x\nthe body", "feat: add x\n\nthe body"),
        ("body-max-line-length", "error", "feat: add x\n\n" + "b" * 101, "feat: add x\n\n" + "b" * 100),
        (
            "footer-leading-blank",
            "warning",
            "feat: add x\n\nbody\nBREAKING CHANGE: it breaks",
            "feat: add x\n\nbody\n\nBREAKING CHANGE: it breaks",
        ),
        (
            "footer-max-line-length",
            "error",
            "feat: add x\n\nRefs: " + "1" * 100,
            "feat: add x\n\nRefs: " + "1" * 94,
        ),
    ],
)
def test_each_rule_fails_what_breaks_it_and_passes_what_keeps_it(rule, level, breaking, passing):
    assert rules(breaking).get(rule) == level
    assert rule not in rules(passing)


def test_every_violation_is_reported_not_just_the_first():
    found = rules("FEAT(API): Add things.")
    assert {"type-case", "type-enum", "scope-case", "subject-case", "subject-full-stop"} <= set(found)


def test_a_header_that_does_not_parse_breaks_type_empty_and_subject_empty():
    assert {"type-empty", "subject-empty"} <= set(rules("just some words"))


def test_warnings_do_not_come_with_an_error():
    assert set(rules("fix: mend x\nbody line").values()) == {"warning"}


@pytest.mark.parametrize(
    "message",
    [
        'Revert "feat: add x"\n\nThis reverts commit abc1234.',
        "Merge branch 'main' into dev",
        "fixup! feat: x",
    ],
)
def test_what_commitlint_ignores_by_default_has_no_violation(message):
    assert lint(message) == []

"""The Conventional Commits 1.0 parser: header, body, git-trailer footers, breaking changes, reverts."""

from orchestrator.domain.conventional import Footer, parse, render


def test_a_bang_after_the_scope_marks_a_breaking_change_described_by_the_subject():
    parsed = parse("feat(api)!: drop the v0 routes")
    assert (parsed.type, parsed.scope, parsed.subject) == ("feat", "api", "drop the v0 routes")
    assert parsed.breaking
    assert parsed.breaking_note == "drop the v0 routes"


def test_a_breaking_change_footer_marks_it_breaking_with_its_multi_line_note():
    parsed = parse("fix: mend config\n\nBody.\n\nBREAKING CHANGE: keys are renamed\nsee the docs\nRefs: #1")
    assert parsed.breaking
    assert parsed.body == "Body."
    assert parsed.footers == (
        Footer("BREAKING CHANGE", "keys are renamed\nsee the docs"),
        Footer("Refs", "#1"),
    )
    assert parsed.breaking_note == "keys are renamed\nsee the docs"


def test_breaking_change_with_a_hyphen_is_the_same_token():
    assert parse("fix: x\n\nBREAKING-CHANGE: y").breaking


def test_trailers_with_a_colon_or_a_hash_are_footers():
    parsed = parse("docs: fix typos\n\nReviewed-by: Z\nRefs #133")
    assert parsed.body is None
    assert parsed.footers == (Footer("Reviewed-by", "Z"), Footer("Refs", "133", " #"))


def test_a_body_paragraph_that_looks_like_a_trailer_stays_body_when_prose_follows():
    parsed = parse("fix: y\n\nNote: read this\n\nmore prose here\n\nRefs: #1")
    assert parsed.body == "Note: read this\n\nmore prose here"
    assert parsed.footers == (Footer("Refs", "#1"),)


def test_a_message_without_scope_or_body_parses():
    parsed = parse("chore: bump deps")
    assert (parsed.type, parsed.scope, parsed.subject, parsed.body, parsed.footers) == (
        "chore",
        None,
        "bump deps",
        None,
        (),
    )
    assert not parsed.breaking


def test_a_conventional_revert_names_the_reverted_sha():
    parsed = parse("revert: feat: add x\n\nThis reverts commit 0a1b2c3d.")
    assert parsed.type == "revert"
    assert parsed.subject == "feat: add x"
    assert parsed.reverts == "0a1b2c3d"


def test_a_git_revert_is_a_revert_of_the_quoted_header():
    parsed = parse('Revert "feat: add x"\n\nThis reverts commit 0a1b2c3d.')
    assert (parsed.type, parsed.subject, parsed.reverts) == ("revert", "feat: add x", "0a1b2c3d")


def test_a_header_that_does_not_parse_has_no_type_nor_subject():
    parsed = parse("Update stuff")
    assert parsed.type is None
    assert parsed.subject is None


def test_git_comment_lines_and_crlf_are_ignored():
    parsed = parse("feat: x\r\n\r\n# Please enter the commit message\r\nbody\r\n")
    assert parsed.body == "body"


def test_render_lays_out_what_parse_reads_back():
    message = render(
        type="feat",
        scope="ui",
        subject="add dark mode",
        body="Why.",
        breaking="colours change",
        footers=(Footer("Refs", "#7"),),
        bang=True,
    )
    parsed = parse(message)
    assert message.startswith("feat(ui)!: add dark mode\n\nWhy.\n\nBREAKING CHANGE: colours change")
    assert (parsed.type, parsed.scope, parsed.breaking, parsed.body) == ("feat", "ui", True, "Why.")
    assert parsed.footers[-1] == Footer("Refs", "#7")

"""Conventional Commits 1.0: the message grammar (header, body, git-trailer footers).

Hand-written because the parsers on PyPI (commitizen, conventional-pre-commit) only match the
header with one regular expression: they do not split body from footers as git trailers, nor
keep multi-line footer values, nor tell where a footer began (which the leading-blank rules
need). The header pattern is conventional-changelog-conventionalcommits' (which commitlint
uses): ``^(\\w*)(?:\\((.*)\\))?!?: (.*)$``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, get_args

CommitType = Literal[
    "feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert"
]
"""The types commitlint's config-conventional allows (its ``type-enum``)."""
TYPES: tuple[str, ...] = get_args(CommitType)

BREAKING_TOKENS = ("BREAKING CHANGE", "BREAKING-CHANGE")

_HEADER = re.compile(r"^(?P<type>\w*)(?:\((?P<scope>[^\r\n]*)\))?(?P<bang>!)?: (?P<subject>.*)$")
_FOOTER = re.compile(r"^(?P<token>BREAKING[ -]CHANGE|[A-Za-z][\w-]*)(?P<sep>: | #)(?P<value>.*)$")
_GIT_REVERT = re.compile(r'^[Rr]evert "(?P<subject>.+)"\s*$')
_REVERTS = re.compile(r"This reverts commit (?P<sha>[0-9a-fA-F]{7,40})\b")
# commitlint's default ``ignores`` (@commitlint/is-ignored): merges, git's own reverts, fixups.
_IGNORED = re.compile(
    r"^((Merge pull request)|(Merge (.*?) into (.*?))|(Merge branch (.*?))|(Merge tag (.*?))"
    r"|(Merge remote-tracking branch(.*))|(Automatic merge(.*))|(Auto-merged (.*?) into (.*))"
    r'|([Rr]evert ".*")|((amend|fixup|squash)! )|(Initial commit$))'
)


@dataclass(frozen=True, slots=True)
class Footer:
    """A git trailer: ``Token: value`` or ``Token #value``; the value may span lines."""

    token: str
    value: str
    separator: str = ": "

    @property
    def is_breaking(self) -> bool:
        return self.token in BREAKING_TOKENS

    def render(self) -> str:
        return f"{self.token}{self.separator}{self.value}"


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """A commit message taken apart; ``type``/``subject`` are ``None`` when the header does not parse."""

    raw: str
    header: str
    type: str | None
    scope: str | None
    bang: bool
    subject: str | None
    body: str | None
    footers: tuple[Footer, ...] = field(default=())
    ignored: bool = False
    """A merge, a git revert or a fixup: commitlint checks no rule on it."""
    reverts: str | None = None
    """The sha a revert names (``This reverts commit <sha>.``)."""
    body_leading_blank: bool = True
    footer_leading_blank: bool = True

    @property
    def breaking(self) -> bool:
        return self.bang or any(f.is_breaking for f in self.footers)

    @property
    def breaking_note(self) -> str | None:
        """What breaks: the ``BREAKING CHANGE`` footer, else (``!`` alone) the subject, as the spec says."""
        for footer in self.footers:
            if footer.is_breaking:
                return footer.value
        return self.subject if self.bang else None


def parse(message: str) -> ParsedMessage:
    """Parse a commit message; never raises (what does not parse is ``None``, for the rules to name)."""
    text = message.replace("\r\n", "\n")
    lines = [line for line in text.split("\n") if not line.startswith("#")]  # git's comment lines
    while lines and not lines[-1].strip():
        lines.pop()
    header = lines[0] if lines else ""
    rest = lines[1:]
    start = _footer_start(rest)
    body_lines = rest if start is None else rest[:start]
    footers = () if start is None else _footers(rest[start:])
    body = "\n".join(body_lines).strip("\n") or None
    kind = scope = subject = None
    bang = False
    git_revert = _GIT_REVERT.match(header)
    matched = _HEADER.match(header)
    if git_revert:
        kind, subject = "revert", git_revert["subject"]
    elif matched:
        kind, subject, bang = matched["type"], matched["subject"], bool(matched["bang"])
        scope = matched["scope"] if matched["scope"] is not None else None
    reverts = _REVERTS.search(body or "") if kind == "revert" else None
    return ParsedMessage(
        raw=message,
        header=header,
        type=kind,
        scope=scope,
        bang=bang,
        subject=subject,
        body=body,
        footers=footers,
        ignored=bool(_IGNORED.match(header)),
        reverts=reverts["sha"] if reverts else None,
        body_leading_blank=body is None or (bool(rest) and rest[0] == ""),
        footer_leading_blank=start is None or (start > 0 and rest[start - 1] == ""),
    )


def _footer_start(rest: list[str]) -> int | None:
    """Where the footers begin: the first trailer line after which every paragraph is a trailer.

    So a body paragraph that happens to start with ``Note: ...`` stays body when prose follows it.
    A ``BREAKING CHANGE`` line starts the footers even without a blank line before it (commitlint
    then warns ``footer-leading-blank``).
    """
    for i, line in enumerate(rest):
        if not _FOOTER.match(line):
            continue
        paragraph_start = i == 0 or rest[i - 1] == "" or line.startswith(BREAKING_TOKENS)
        if not paragraph_start:
            continue
        later = rest[i + 1 :]
        prose_after = any(
            later[j] and later[j - 1] == "" and not _FOOTER.match(later[j]) for j in range(1, len(later))
        )
        if not prose_after:
            return i
    return None


def _footers(lines: list[str]) -> tuple[Footer, ...]:
    """Each trailer's value runs until the next trailer (Conventional Commits 1.0, rule 9)."""
    found: list[tuple[str, str, list[str]]] = []
    for line in lines:
        matched = _FOOTER.match(line)
        if matched:
            found.append((matched["token"], matched["sep"], [matched["value"]]))
        elif found:
            found[-1][2].append(line)
    return tuple(
        Footer(token=token, value="\n".join(values).strip("\n"), separator=sep)
        for token, sep, values in found
    )


def render(
    *,
    type: str,
    scope: str | None,
    subject: str,
    body: str | None = None,
    breaking: str | None = None,
    footers: tuple[Footer, ...] = (),
    bang: bool = False,
) -> str:
    """The message for these parts, laid out as commitlint wants (blank lines before body and footers)."""
    header = f"{type}{f'({scope})' if scope else ''}{'!' if bang else ''}: {subject}"
    parts = [header]
    if body:
        parts.append(body)
    trailers = ([Footer("BREAKING CHANGE", breaking)] if breaking else []) + list(footers)
    if trailers:
        parts.append("\n".join(f.render() for f in trailers))
    return "\n\n".join(parts)

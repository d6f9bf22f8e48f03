"""commitlint's ``@commitlint/config-conventional`` rules, on a parsed message.

commitlint is JavaScript; there is no Python port of its rules, so they are hand-written
here with the config's values (v19) and commitlint's messages, levels and case definitions
(``@commitlint/ensure``: quoted and back-ticked parts are left out of a case check, an empty
or digit-led text passes every case):

=====================  =====  ==========================================================
rule                   level  config-conventional value
=====================  =====  ==========================================================
body-leading-blank     1      always
body-max-line-length   2      always, 100
footer-leading-blank   1      always
footer-max-line-length 2      always, 100
header-max-length      2      always, 100
header-trim            2      always
subject-case           2      never, sentence-case / start-case / pascal-case / upper-case
subject-empty          2      never
subject-full-stop      2      never, "."
type-case              2      always, lower-case
type-empty             2      never
type-enum              2      always, the eleven types of :data:`TYPES`
scope-case             2      always, lower-case (commitlint's documented value; the issue asks
                              for it, config-conventional itself leaves it unset)
=====================  =====  ==========================================================

Level 2 is an ``error`` (the message is refused), level 1 a ``warning`` (reported only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from orchestrator.domain.conventional import TYPES, ParsedMessage, parse

Level = Literal["error", "warning"]
MAX_LINE = 100

_QUOTED = re.compile(r"`.*?`|\".*?\"|'.*?'")
# lodash's ``words`` for ASCII: acronyms, capitalised or lower words, digit runs.
_WORDS = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z]|\b|[0-9])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_SCOPE_SPLIT = re.compile(r"[/\\,]")


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    level: Level
    message: str


def _cased(text: str, case: str) -> bool:
    """``@commitlint/ensure`` ``case``: is ``text`` already in ``case``?"""
    text = _QUOTED.sub("", text).strip()
    words = _WORDS.findall(text)
    if case == "lower-case":
        transformed = text.lower()
    elif case == "upper-case":
        transformed = text.upper()
    elif case == "sentence-case":
        transformed = text[:1].upper() + text[1:]
    elif case == "start-case":
        transformed = " ".join(w[:1].upper() + w[1:] for w in words)
    elif case == "pascal-case":
        transformed = "".join(w[:1].upper() + w[1:].lower() for w in words)
    else:  # pragma: no cover - the rules below name only these
        raise ValueError(case)
    if not transformed or transformed[0].isdigit():
        return True
    return transformed == text


def lint(message: str | ParsedMessage) -> list[Violation]:
    """Every violation of the rules above, errors and warnings, in commitlint's order of rule names."""
    parsed = parse(message) if isinstance(message, str) else message
    if parsed.ignored:
        return []
    found: list[Violation] = []

    def error(rule: str, text: str) -> None:
        found.append(Violation(rule, "error", text))

    def warning(rule: str, text: str) -> None:
        found.append(Violation(rule, "warning", text))

    if not parsed.body_leading_blank:
        warning("body-leading-blank", "body must have leading blank line")
    if parsed.body and any(len(line) > MAX_LINE for line in parsed.body.split("\n")):
        error("body-max-line-length", f"body's lines must not be longer than {MAX_LINE} characters")
    if not parsed.footer_leading_blank:
        warning("footer-leading-blank", "footer must have leading blank line")
    footer_text = "\n".join(f.render() for f in parsed.footers)
    if any(len(line) > MAX_LINE for line in footer_text.split("\n")):
        error("footer-max-line-length", f"footer's lines must not be longer than {MAX_LINE} characters")
    if len(parsed.header) > MAX_LINE:
        error(
            "header-max-length",
            f"header must not be longer than {MAX_LINE} characters, current length is {len(parsed.header)}",
        )
    if parsed.header != parsed.header.strip():
        error("header-trim", "header must not be surrounded by whitespace")
    if parsed.scope and not all(_cased(s, "lower-case") for s in _SCOPE_SPLIT.split(parsed.scope)):
        error("scope-case", "scope must be lower-case")
    subject = parsed.subject or ""
    cases = ("sentence-case", "start-case", "pascal-case", "upper-case")
    # commitlint checks the case only of a subject that starts with a letter
    if subject[:1].isalpha() and any(_cased(subject, case) for case in cases):
        error("subject-case", f"subject must not be {', '.join(cases)}")
    if not subject.strip():
        error("subject-empty", "subject may not be empty")
    if subject.endswith("."):
        error("subject-full-stop", "subject may not end with full stop")
    kind = parsed.type or ""
    if kind and not _cased(kind, "lower-case"):
        error("type-case", "type must be lower-case")
    if not kind:
        error("type-empty", "type may not be empty")
    if kind and kind not in TYPES:
        error("type-enum", f"type must be one of [{', '.join(sorted(TYPES))}]")
    return found


def errors_in(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.level == "error"]

"""The offline model's commit message: derived from the task title and the diff summary.

Deterministic and valid under commitlint's config-conventional: a type guessed from the words,
a scope from the first path in the diff, the title as a lower-case imperative subject, the
diff summary wrapped as the body.
"""

from __future__ import annotations

import json
import re
import textwrap

from shared.kernel.ai import ChatRequest

_TYPE_WORDS = (
    ("fix", ("fix", "bug", "crash", "error", "broken", "regression")),
    ("docs", ("doc", "readme", "documentation")),
    ("test", ("test", "coverage")),
    ("perf", ("perf", "speed", "faster", "slow", "latency")),
    ("refactor", ("refactor", "rename", "clean", "simplify")),
    ("ci", ("ci", "pipeline", "workflow")),
    ("build", ("build", "dependency", "dependencies", "pyproject", "makefile")),
)
_PATH = re.compile(r"\b(?:src/|lib/|app/|services/)?([a-z][a-z0-9_-]*)/[\w./-]+")
_TASK = re.compile(r"^Task: (.*)$", re.M)


def _guess_type(text: str) -> str:
    words = set(re.findall(r"[a-z]+", text.lower()))
    for kind, hints in _TYPE_WORDS:
        if words & set(hints):
            return kind
    return "feat"


def _subject(title: str) -> str:
    subject = " ".join(title.split()).rstrip(".!? ") or "update the project"
    if subject.isupper():  # a shouted title reads as a normal one
        subject = subject.lower()
    if len(subject) > 72:
        subject = subject[:72].rsplit(" ", 1)[0]
    return subject[:1].lower() + subject[1:]


def write_commit_message(request: ChatRequest) -> str:
    prompt = "\n".join(m.content for m in request.messages if m.role == "user")
    task = _TASK.search(prompt)
    title = task.group(1) if task else ""
    diff = prompt.split("Diff summary:", 1)[1].strip() if "Diff summary:" in prompt else ""
    path = _PATH.search(diff)
    scope = path.group(1).lower()[:20] if path else None
    body = "\n".join(textwrap.wrap(" ".join(diff.split()[:120]), 72)) or None
    return json.dumps(
        {
            "type": _guess_type(f"{title} {diff}"),
            "scope": scope,
            "subject": _subject(title),
            "body": body,
            "breaking": None,
            "footers": [],
        }
    )

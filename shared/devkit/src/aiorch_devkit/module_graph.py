"""The module graphs in docs/architecture.md, drawn from the code's real imports.

``python -m aiorch_devkit.module_graph`` (``make graph``) prints, as Mermaid diagrams,
the packages of ``shared`` and of each service with an arrow for every import between
them (grimp, the library import-linter is built on, reads the imports), and fails if
any of those graphs has a cycle. ``--write docs/architecture.md`` replaces the part of
the file between the ``module-graph`` markers, so the document is regenerated, never
edited by hand; a test keeps it current.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

import grimp

START = "<!-- module-graph:start (make graph; do not edit by hand) -->"
END = "<!-- module-graph:end -->"
SERVICES = ("identity", "chat", "orchestrator")


def _nodes(graph: grimp.ImportGraph, package: str, expand: Iterable[str]) -> list[str]:
    """The children of ``package``, with the packages named in ``expand`` replaced by their children."""
    nodes: list[str] = []
    for child in sorted(graph.find_children(package)):
        if child.rsplit(".", 1)[1] == "__main__":
            continue
        grandchildren = sorted(graph.find_children(child)) if child in expand else []
        nodes.extend(grandchildren or [child])
    return nodes


def _owner(module: str, nodes: list[str]) -> str | None:
    return next((n for n in nodes if module == n or module.startswith(n + ".")), None)


def edges(graph: grimp.ImportGraph, nodes: list[str]) -> set[tuple[str, str]]:
    """Node → node for every direct import between modules inside two different nodes."""
    found: set[tuple[str, str]] = set()
    for node in nodes:
        for module in graph.find_descendants(node) | {node}:
            for imported in graph.find_modules_directly_imported_by(module):
                target = _owner(imported, nodes)
                if target is not None and target != node:
                    found.add((node, target))
    return found


def cycles(nodes: list[str], arrows: set[tuple[str, str]]) -> list[list[str]]:
    """Each cycle found by a depth-first search (empty: the graph is acyclic)."""
    after: dict[str, list[str]] = {n: sorted(t for s, t in arrows if s == n) for n in nodes}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in after[node]:
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in nodes:
        if node not in state:
            visit(node)
    return found


def mermaid(title: str, prefix: str, nodes: list[str], arrows: set[tuple[str, str]]) -> str:
    def name(module: str) -> str:
        return module.removeprefix(prefix)

    lines = [f"**{title}**", "", "```mermaid", "flowchart TD"]
    lines += [f'    {name(n).replace(".", "_")}["{name(n)}"]' for n in nodes]
    lines += [f"    {name(s).replace('.', '_')} --> {name(t).replace('.', '_')}" for s, t in sorted(arrows)]
    lines += ["```", ""]
    return "\n".join(lines)


def render() -> tuple[str, list[str]]:
    """The Markdown of every graph, and a description of each cycle found."""
    graph = grimp.build_graph("shared", *SERVICES)
    parts: list[str] = []
    problems: list[str] = []
    views: list[tuple[str, str, tuple[str, ...]]] = [("shared/ (import name `shared`)", "shared", ())]
    views += [(f"services/{s}", s, (f"{s}.adapters", f"{s}.entrypoints")) for s in SERVICES]
    for title, package, expand in views:
        nodes = _nodes(graph, package, expand)
        arrows = edges(graph, nodes)
        parts.append(mermaid(title, package + ".", nodes, arrows))
        problems += [f"{package}: " + " -> ".join(c) for c in cycles(nodes, arrows)]
    return "\n".join(parts).rstrip() + "\n", problems


def replace_block(document: str, block: str) -> str:
    head, _, rest = document.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n\n{block}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="replace the module-graph block of this Markdown file")
    args = parser.parse_args(argv)
    block, problems = render()
    if args.write is not None:
        args.write.write_text(replace_block(args.write.read_text(), block))
    else:
        sys.stdout.write(block)
    for problem in problems:
        print(f"cycle: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

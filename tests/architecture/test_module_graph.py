"""docs/architecture.md shows the module graphs the code has today, and none has a cycle."""

from pathlib import Path

from aiorch_devkit.module_graph import END, START, cycles, render

DOCUMENT = Path(__file__).resolve().parents[2] / "docs/architecture.md"


def test_the_module_graphs_have_no_cycle():
    _, problems = render()

    assert problems == []


def test_the_document_shows_the_graphs_of_todays_code():
    block, _ = render()
    shown = DOCUMENT.read_text().partition(START)[2].partition(END)[0]

    assert shown.strip() == block.strip(), "run `make graph` and commit docs/architecture.md"


def test_a_cycle_is_found():
    nodes = ["a", "b", "c"]

    assert cycles(nodes, {("a", "b"), ("b", "c"), ("c", "a")}) == [["a", "b", "c", "a"]]
    assert cycles(nodes, {("a", "b"), ("b", "c"), ("a", "c")}) == []

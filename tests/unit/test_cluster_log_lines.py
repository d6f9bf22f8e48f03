"""The local cluster's supervisor reads its processes' output in chunks and cuts it into lines."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "local"))

from cluster_logs import LineSplitter  # deploy/local is a folder of scripts, not a package


def test_lines_split_across_chunks_come_out_whole():
    lines = LineSplitter(limit=100)

    assert lines.feed(b"first\nsec") == ["first"]
    assert lines.feed(b"ond\r\nthi") == ["second"]
    assert lines.feed(b"rd\n") == ["third"]
    assert lines.end() == []


def test_a_last_line_without_newline_is_kept_when_the_stream_ends():
    lines = LineSplitter(limit=100)

    assert lines.feed(b"done\nexit code 3") == ["done"]
    assert lines.end() == ["exit code 3"]


def test_a_line_over_the_limit_is_dropped_once_and_the_next_line_survives():
    lines = LineSplitter(limit=10)

    assert lines.feed(b"ok\n" + b"x" * 11) == ["ok", "[a line over 10 bytes was dropped]"]
    assert lines.feed(b"x" * 50) == []
    assert lines.feed(b"xx\nafter\n") == ["after"]
    assert lines.end() == []


def test_bytes_that_are_not_utf8_do_not_stop_the_log():
    assert LineSplitter(limit=10).feed(b"caf\xe9\n") == ["caf\ufffd"]

"""``aiorch-identity rotate-keys`` and the command line's help."""

import json
from datetime import datetime, timedelta

import pytest

from identity.entrypoints.cli import main


def stored(directory) -> list[dict]:
    return json.loads((directory / "signing-keys.json").read_text())["keys"]


def kids(directory) -> list[tuple[str, str]]:
    return [(key["kid"], key["status"]) for key in stored(directory)]


def publish_ahead(key: dict) -> timedelta:
    return datetime.fromisoformat(key["activate_after"]) - datetime.fromisoformat(key["created_at"])


def test_rotating_with_no_publish_ahead_makes_a_new_active_key_at_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IDENTITY_KEYS_DIR", str(tmp_path))

    assert main(["rotate-keys", "--publish-ahead", "0"]) == 0
    assert main(["rotate-keys", "--overlap", "60", "--publish-ahead", "0"]) == 0

    statuses = [status for _, status in kids(tmp_path)]
    assert statuses == ["active", "previous", "previous"]
    output = capsys.readouterr().out
    assert kids(tmp_path)[0][0] in output
    assert "published:" in output


def test_by_default_the_new_key_is_published_ahead_of_signing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IDENTITY_KEYS_DIR", str(tmp_path))

    assert main(["rotate-keys"]) == 0

    new, old = stored(tmp_path)
    assert (new["status"], old["status"]) == ("next", "active")
    assert publish_ahead(new) == timedelta(seconds=360)
    output = capsys.readouterr().out
    assert (
        f"signs from {datetime.fromisoformat(new['activate_after']).isoformat(timespec='seconds')}" in output
    )
    assert f"published: {old['kid']}, {new['kid']}" in output


def test_the_publish_ahead_option_overrides_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("IDENTITY_KEYS_DIR", str(tmp_path))
    monkeypatch.setenv("IDENTITY_KEY_PUBLISH_AHEAD_S", "0")

    assert main(["rotate-keys", "--publish-ahead", "600"]) == 0

    assert publish_ahead(stored(tmp_path)[0]) == timedelta(seconds=600)


def test_a_negative_publish_ahead_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IDENTITY_KEYS_DIR", str(tmp_path))

    with pytest.raises(SystemExit) as exited:
        main(["rotate-keys", "--publish-ahead", "-5"])

    assert exited.value.code == 2
    assert "not a whole number of seconds" in capsys.readouterr().err
    assert not (tmp_path / "signing-keys.json").exists()


def test_a_configured_key_cannot_be_rotated_from_here(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IDENTITY_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("IDENTITY_SIGNING_KEY_PEM", "-----BEGIN PRIVATE KEY-----...")

    assert main(["rotate-keys"]) == 1
    error = capsys.readouterr().err
    assert "IDENTITY_SIGNING_KEY_PEM" in error
    assert "BEGIN PRIVATE KEY" not in error
    assert not (tmp_path / "keys").exists()


def test_an_invalid_overlap_setting_exits_2_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IDENTITY_KEYS_DIR", str(tmp_path))
    monkeypatch.setenv("IDENTITY_KEY_ROTATION_OVERLAP_S", "soon")

    assert main(["rotate-keys"]) == 2
    assert "IDENTITY_KEY_ROTATION_OVERLAP_S is invalid" in capsys.readouterr().err


def test_help_lists_the_shared_and_identitys_own_commands(capsys):
    assert main(["--help"]) == 0

    text = capsys.readouterr().out
    assert all(command in text for command in ("migrate", "worker", "rotate-keys", "create-admin"))

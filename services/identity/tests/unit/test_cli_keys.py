"""``aiorch-identity rotate-keys`` and the command line's help."""

import json

from identity.entrypoints.cli import main


def kids(directory) -> list[tuple[str, str]]:
    document = json.loads((directory / "signing-keys.json").read_text())
    return [(key["kid"], key["status"]) for key in document["keys"]]


def test_rotating_makes_a_new_active_key_and_keeps_the_old_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IDENTITY_KEYS_DIR", str(tmp_path))

    assert main(["rotate-keys"]) == 0
    assert main(["rotate-keys", "--overlap", "60"]) == 0

    statuses = [status for _, status in kids(tmp_path)]
    assert statuses == ["active", "previous", "previous"]
    output = capsys.readouterr().out
    assert kids(tmp_path)[0][0] in output
    assert "published:" in output


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

"""API keys at rest and sealed: AES-GCM under key files, bound to the model's id, refused when altered."""

import base64
import json
import os
import stat
from dataclasses import replace

import pytest

from orchestrator.adapters.crypto.api_keys import AesGcmApiKeyVault, unseal
from orchestrator.application.ports.ai_models import KeyUnreadable
from orchestrator.domain.ai_models import StoredKey
from shared.crypto.key_file import KeyFile, KeyFileError
from shared.kernel.ids import new_id

CANARY = "sk-canary-0123456789abcdef"


@pytest.fixture
def vault(tmp_path):
    return AesGcmApiKeyVault(KeyFile(tmp_path / "model-keys.json"), KeyFile(tmp_path / "seal.json"))


def test_a_missing_key_file_is_generated_private_with_one_current_key(tmp_path):
    path = tmp_path / "keys" / "model-keys.json"

    ring = KeyFile(path)

    document = json.loads(path.read_text())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert list(document["keys"]) == [document["current"]] == [ring.current[0]]


def test_a_stored_key_round_trips_and_never_holds_the_plaintext(vault):
    model_id = new_id()

    stored = vault.encrypt(CANARY, model_id)

    assert CANARY.encode() not in stored.ciphertext
    assert CANARY not in repr(stored)
    assert vault.reveal(stored, model_id) == CANARY


def test_a_flipped_bit_is_refused(vault):
    model_id = new_id()
    stored = vault.encrypt(CANARY, model_id)
    flipped = bytearray(stored.ciphertext)
    flipped[20] ^= 0x01

    with pytest.raises(KeyUnreadable, match="fails authentication"):
        vault.reveal(replace(stored, ciphertext=bytes(flipped)), model_id)


def test_a_value_copied_to_another_row_is_refused(vault):
    stored = vault.encrypt(CANARY, new_id())

    with pytest.raises(KeyUnreadable):
        vault.reveal(stored, new_id())


def test_a_key_id_the_ring_lacks_is_refused_by_name(vault):
    model_id = new_id()
    stored = vault.encrypt(CANARY, model_id)

    with pytest.raises(KeyUnreadable, match="'k-nobody'"):
        vault.reveal(StoredKey("k-nobody", stored.ciphertext), model_id)


def test_a_wrong_key_under_the_right_id_is_refused(tmp_path, vault):
    model_id = new_id()
    stored = vault.encrypt(CANARY, model_id)
    other = KeyFile(tmp_path / "other.json")
    path = tmp_path / "model-keys.json"
    # the same key id, another key's bytes: authentication fails, no garbage comes out
    document = json.loads(path.read_text())
    document["keys"][stored.key_id] = json.loads((tmp_path / "other.json").read_text())["keys"][
        other.current[0]
    ]
    path.write_text(json.dumps(document))

    with pytest.raises(KeyUnreadable):
        AesGcmApiKeyVault(KeyFile(path), KeyFile(tmp_path / "seal.json")).reveal(stored, model_id)


def test_a_sealed_key_opens_only_with_the_seal_key_and_its_model_id(tmp_path, vault):
    model_id = new_id()
    protected = vault.protect(CANARY, model_id)

    assert CANARY not in protected.sealed.text
    assert unseal(protected.sealed.text, model_id, KeyFile(tmp_path / "seal.json")) == CANARY
    with pytest.raises(KeyUnreadable):
        unseal(protected.sealed.text, new_id(), KeyFile(tmp_path / "seal.json"))
    with pytest.raises(KeyUnreadable):  # the model keys are not the seal key
        unseal(protected.sealed.text, model_id, KeyFile(tmp_path / "model-keys.json"))


def test_a_stored_value_cannot_pass_for_a_sealed_one(tmp_path, vault):
    model_id = new_id()
    stored = vault.encrypt(CANARY, model_id)

    posing = f"v1:{stored.key_id}:{base64.urlsafe_b64encode(stored.ciphertext).decode()}"

    with pytest.raises(KeyUnreadable):
        unseal(posing, model_id, KeyFile(tmp_path / "model-keys.json"))


def test_a_rotation_makes_a_new_current_key_and_keeps_the_old_for_decrypting(tmp_path, vault):
    model_id = new_id()
    before = vault.encrypt(CANARY, model_id)

    new_key_id = vault.model_keys.rotate()
    after = vault.encrypt(CANARY, model_id)

    assert new_key_id != before.key_id
    assert after.key_id == new_key_id
    assert vault.reveal(before, model_id) == vault.reveal(after, model_id) == CANARY


def test_another_process_rotation_is_seen_when_its_key_id_turns_up(tmp_path):
    path = tmp_path / "model-keys.json"
    api = AesGcmApiKeyVault(KeyFile(path), KeyFile(tmp_path / "seal.json"))
    cli = AesGcmApiKeyVault(KeyFile(path), KeyFile(tmp_path / "seal.json"))
    model_id = new_id()

    cli.model_keys.rotate()
    stored = cli.encrypt(CANARY, model_id)

    assert api.reveal(stored, model_id) == CANARY


def test_a_malformed_key_file_is_refused_with_its_path(tmp_path):
    path = tmp_path / "model-keys.json"
    path.write_text('{"current": "a", "keys": {"a": "c2hvcnQ="}}')

    with pytest.raises(KeyFileError, match="not 32 bytes"):
        KeyFile(path)

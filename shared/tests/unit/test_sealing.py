"""A sealed API key opens only for its model, with the seal ring that sealed it, unaltered."""

import pytest

from shared.crypto.key_file import KeyFile
from shared.crypto.sealing import Unreadable, seal_api_key, unseal_api_key
from shared.kernel.ids import new_id


@pytest.fixture
def ring(tmp_path) -> KeyFile:
    return KeyFile(tmp_path / "seal.json")


def test_a_sealed_key_unseals_to_itself_for_its_model(ring):
    model = new_id()
    sealed = seal_api_key("sk-canary-1234", model, ring)

    assert "sk-canary" not in sealed
    assert unseal_api_key(sealed, model, ring) == "sk-canary-1234"


def test_a_sealed_key_moved_to_another_model_or_altered_is_refused(ring):
    model = new_id()
    sealed = seal_api_key("sk-canary-1234", model, ring)
    version, key_id, blob = sealed.split(":")
    flipped = f"{version}:{key_id}:{blob[:-6]}{'A' if blob[-6] != 'A' else 'B'}{blob[-5:]}"

    for value, owner in ((sealed, new_id()), (flipped, model), ("v1:unknown:AAAA", model), ("plain", model)):
        with pytest.raises(Unreadable):
            unseal_api_key(value, owner, ring)


def test_a_key_sealed_before_a_rotation_still_unseals(ring):
    model = new_id()
    sealed = seal_api_key("sk-old", model, ring)
    ring.rotate()

    assert unseal_api_key(sealed, model, ring) == "sk-old"
    assert seal_api_key("sk-new", model, ring).split(":")[1] != sealed.split(":")[1]

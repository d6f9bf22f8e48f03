"""Signing keys: generated once into the state directory, rotated (published ahead, then kept
for an overlap), or set by configuration."""

import base64
import json
import multiprocessing
import os
import stat
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from services.identity.tests.unit.fakes import SteppingClock

from identity.adapters.crypto.jwk import thumbprint
from identity.adapters.crypto.signing_keys import (
    KEYS_FILE,
    ConfiguredSigningKeys,
    FileSigningKeys,
    SigningKeysError,
    open_signing_keys,
)
from identity.application.keys import RotateKeys, rotate_keys
from identity.application.ports import SigningKeys

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
OVERLAP = timedelta(hours=1)
AHEAD = timedelta(minutes=6)


@pytest.fixture
def clock():
    return SteppingClock(T0)


@pytest.fixture
def directory(tmp_path):
    return tmp_path / "cluster" / "identity-keys"


def kids(keys: SigningKeys) -> list[str]:
    return [entry["kid"] for entry in keys.jwks()["keys"]]


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def public_pem(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def edit_entries(directory, edit) -> None:
    """Change the stored key entries in place, as a hand edit or a damaged file would."""
    path = directory / KEYS_FILE
    document = json.loads(path.read_text())
    edit(document["keys"])
    path.write_text(json.dumps(document))


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# First start, second start


def test_the_first_start_creates_the_directory_and_one_active_key(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)

    assert (directory / KEYS_FILE).is_file()
    assert kids(keys) == [keys.current_kid()]


def test_the_published_key_is_an_exact_public_ed25519_jwk(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)

    (entry,) = keys.jwks()["keys"]
    assert set(entry) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (entry["kty"], entry["crv"], entry["alg"], entry["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert len(base64.urlsafe_b64decode(entry["x"] + "=")) == 32
    assert entry["kid"] == keys.current_kid()


def test_the_published_key_matches_the_signing_key(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    active = keys.active_key()
    token = jwt.encode({"probe": 1}, active.private_key, algorithm="EdDSA", headers={"kid": active.kid})

    published = jwt.PyJWKSet.from_dict(keys.jwks())[active.kid]
    assert jwt.decode(token, published, algorithms=["EdDSA"]) == {"probe": 1}


def test_the_kid_is_the_rfc_7638_thumbprint():
    # RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    assert thumbprint(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_second_start_loads_the_same_key(directory, clock):
    first = FileSigningKeys(directory, clock=clock)
    second = FileSigningKeys(directory, clock=clock)

    assert second.current_kid() == first.current_kid()
    assert second.jwks() == first.jwks()


def test_the_key_file_and_lock_are_private_to_the_owner(directory, clock):
    FileSigningKeys(directory, clock=clock)

    assert mode(directory / KEYS_FILE) == 0o600
    assert mode(directory / ".lock") == 0o600
    assert mode(directory) & 0o077 == 0


def test_writes_leave_no_temporary_files_behind(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    keys.rotate(overlap=OVERLAP, now=T0)
    keys.retire_expired(now=T0 + 2 * OVERLAP)

    assert sorted(p.name for p in directory.iterdir()) == [".lock", KEYS_FILE]


def test_a_key_file_readable_by_others_is_restricted_on_load(directory, clock):
    FileSigningKeys(directory, clock=clock)
    os.chmod(directory / KEYS_FILE, 0o644)

    FileSigningKeys(directory, clock=clock)

    assert mode(directory / KEYS_FILE) == 0o600


def test_a_corrupt_key_file_is_refused_with_a_clear_error(directory, clock):
    directory.mkdir(parents=True)
    (directory / KEYS_FILE).write_text('{"format": 1, "keys": [{"kid": "x"}]}')

    with pytest.raises(SigningKeysError, match="not a readable key file"):
        FileSigningKeys(directory, clock=clock)


def test_a_key_file_whose_kid_does_not_match_its_key_is_refused(directory, clock):
    FileSigningKeys(directory, clock=clock)
    edit_entries(directory, lambda entries: entries[0].update(kid="forged"))

    with pytest.raises(SigningKeysError):
        FileSigningKeys(directory, clock=clock)


def test_a_previous_key_without_a_retirement_time_is_refused(directory, clock):
    FileSigningKeys(directory, clock=clock).rotate(overlap=OVERLAP, now=T0)
    edit_entries(directory, lambda entries: entries[1].update(retire_after=None))

    with pytest.raises(SigningKeysError):
        FileSigningKeys(directory, clock=clock)


@pytest.mark.parametrize(
    ("index", "fields"),
    [
        pytest.param(0, {"activate_after": None}, id="next-without-activation"),
        pytest.param(0, {"overlap_s": None}, id="next-without-overlap"),
        pytest.param(0, {"overlap_s": -1}, id="next-with-negative-overlap"),
        pytest.param(0, {"retire_after": T0.isoformat()}, id="next-with-retirement"),
        pytest.param(1, {"activate_after": T0.isoformat(), "overlap_s": 60}, id="active-with-activation"),
        pytest.param(0, {"status": "pending"}, id="unknown-status"),
    ],
)
def test_a_key_entry_whose_fields_do_not_fit_its_status_is_refused(directory, clock, index, fields):
    FileSigningKeys(directory, clock=clock).rotate(overlap=OVERLAP, now=T0, publish_ahead=AHEAD)
    edit_entries(directory, lambda entries: entries[index].update(fields))

    with pytest.raises(SigningKeysError):
        FileSigningKeys(directory, clock=clock)


def test_a_file_with_two_next_keys_is_refused(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    keys.rotate(overlap=OVERLAP, now=T0, publish_ahead=AHEAD)
    pending = json.loads((directory / KEYS_FILE).read_text())["keys"][0]
    keys.rotate(overlap=OVERLAP, now=T0, publish_ahead=AHEAD)
    edit_entries(directory, lambda entries: entries.append(pending))

    with pytest.raises(SigningKeysError, match="at most one next key"):
        FileSigningKeys(directory, clock=clock)


def test_a_key_file_of_the_first_format_still_loads(directory, clock):
    active, previous = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    entries = [
        (active, "active", None),
        (previous, "previous", (T0 + OVERLAP).isoformat()),
    ]
    directory.mkdir(parents=True)
    (directory / KEYS_FILE).write_text(
        json.dumps(
            {
                "format": 1,
                "keys": [
                    {
                        "kid": thumbprint(key.public_key()),
                        "status": status,
                        "created_at": T0.isoformat(),
                        "retire_after": retire_after,
                        "private_key_pem": private_pem(key),
                    }
                    for key, status, retire_after in entries
                ],
            }
        )
    )

    keys = FileSigningKeys(directory, clock=clock)

    assert keys.current_kid() == thumbprint(active.public_key())
    assert kids(keys) == [thumbprint(k.public_key()) for k in (active, previous)]


def test_the_private_key_never_shows_in_a_repr(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    assert "private_key" not in repr(keys.active_key())


def _open_and_report(directory, barrier, results) -> None:
    barrier.wait()
    results.put(FileSigningKeys(directory).current_kid())


def test_processes_starting_at_once_agree_on_a_single_first_key(directory):
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(6), context.Queue()
    processes = [
        context.Process(target=_open_and_report, args=(directory, barrier, results)) for _ in range(6)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)

    assert [process.exitcode for process in processes] == [0] * 6
    assert len({results.get(timeout=5) for _ in processes}) == 1
    assert len(json.loads((directory / KEYS_FILE).read_text())["keys"]) == 1


# Rotation and retirement


def test_rotation_makes_a_new_active_key_and_keeps_publishing_the_old_one(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    old = keys.current_kid()

    new = keys.rotate(overlap=OVERLAP, now=T0)

    assert new != old
    assert keys.current_kid() == new
    assert keys.active_key().kid == new
    assert kids(keys) == [new, old]


def test_retirement_keeps_the_old_key_until_the_overlap_has_passed(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    old = keys.current_kid()
    new = keys.rotate(overlap=OVERLAP, now=T0)

    assert keys.retire_expired(now=T0 + OVERLAP - timedelta(seconds=1)) == []
    assert kids(keys) == [new, old]

    assert keys.retire_expired(now=T0 + OVERLAP) == [old]
    assert kids(keys) == [new]
    assert len(json.loads((directory / KEYS_FILE).read_text())["keys"]) == 1


def test_an_expired_previous_key_is_unpublished_even_before_retirement_runs(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    new = keys.rotate(overlap=OVERLAP, now=T0)

    clock.advance(OVERLAP)

    assert kids(keys) == [new]


def test_successive_rotations_publish_every_key_still_in_its_overlap(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    first = keys.current_kid()
    second = keys.rotate(overlap=OVERLAP, now=T0)
    third = keys.rotate(overlap=OVERLAP, now=T0 + timedelta(minutes=30))

    assert kids(keys) == [third, second, first]
    assert keys.retire_expired(now=T0 + OVERLAP) == [first]
    assert kids(keys) == [third, second]


def test_a_negative_overlap_is_refused(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    with pytest.raises(ValueError, match="negative"):
        keys.rotate(overlap=timedelta(seconds=-1), now=T0)


def test_a_rotation_by_another_process_is_seen_by_a_running_instance(directory, clock):
    running = FileSigningKeys(directory, clock=clock)
    old = running.current_kid()

    new = FileSigningKeys(directory, clock=clock).rotate(overlap=OVERLAP, now=T0)

    assert running.current_kid() == new
    assert running.active_key().kid == new
    assert kids(running) == [new, old]


# Publishing the next key ahead of its first signature


def test_a_rotation_with_publish_ahead_publishes_the_new_key_while_the_old_one_keeps_signing(
    directory, clock
):
    keys = FileSigningKeys(directory, clock=clock)
    old = keys.current_kid()

    new = keys.rotate(overlap=OVERLAP, now=T0, publish_ahead=AHEAD)

    assert kids(keys) == [old, new]
    clock.advance(AHEAD - timedelta(seconds=1))
    assert keys.current_kid() == old
    assert keys.active_key().kid == old


def test_at_its_activation_time_the_next_key_signs_and_the_old_one_is_published_for_the_overlap(
    directory, clock
):
    keys = FileSigningKeys(directory, clock=clock)
    old = keys.current_kid()
    new = keys.rotate(overlap=OVERLAP, now=T0, publish_ahead=AHEAD)

    clock.advance(AHEAD)

    assert keys.current_kid() == new
    assert keys.active_key().kid == new
    assert kids(keys) == [new, old]
    clock.advance(OVERLAP - timedelta(seconds=1))
    assert kids(keys) == [new, old]
    clock.advance(timedelta(seconds=1))
    assert kids(keys) == [new]


def test_retirement_after_an_activation_settles_the_file_and_drops_the_old_key(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    old = keys.current_kid()
    new = keys.rotate(overlap=OVERLAP, now=T0, publish_ahead=AHEAD)

    assert keys.retire_expired(now=T0 + AHEAD) == []
    stored = json.loads((directory / KEYS_FILE).read_text())["keys"]
    assert [(key["kid"], key["status"]) for key in stored] == [(new, "active"), (old, "previous")]
    assert "activate_after" not in stored[0]

    assert keys.retire_expired(now=T0 + AHEAD + OVERLAP) == [old]
    assert kids(keys) == [new]


def test_the_jwks_document_is_reused_until_the_next_key_activates(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    keys.rotate(overlap=OVERLAP, now=T0, publish_ahead=AHEAD)
    before = keys.jwks()

    clock.advance(AHEAD - timedelta(seconds=1))
    assert keys.jwks() is before

    clock.advance(timedelta(seconds=1))
    after = keys.jwks()
    assert after is not before
    assert keys.jwks() is after
    assert [entry["kid"] for entry in after["keys"]] == [keys.current_kid(), before["keys"][0]["kid"]]


def test_a_rotation_while_a_key_is_pending_replaces_the_pending_key(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    old = keys.current_kid()
    pending = keys.rotate(overlap=OVERLAP, now=T0, publish_ahead=AHEAD)

    clock.advance(timedelta(minutes=1))
    replacement = keys.rotate(overlap=OVERLAP, now=clock.now(), publish_ahead=AHEAD)

    assert pending not in kids(keys)
    assert kids(keys) == [old, replacement]
    clock.advance(AHEAD)
    assert keys.current_kid() == replacement


def test_an_immediate_rotation_replaces_a_pending_key_and_signs_at_once(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    old = keys.current_kid()
    pending = keys.rotate(overlap=OVERLAP, now=T0, publish_ahead=AHEAD)

    new = keys.rotate(overlap=OVERLAP, now=T0)

    assert keys.current_kid() == new
    assert kids(keys) == [new, old]
    assert pending not in kids(keys)


def test_a_negative_publish_ahead_time_is_refused(directory, clock):
    keys = FileSigningKeys(directory, clock=clock)
    with pytest.raises(ValueError, match="negative"):
        keys.rotate(overlap=OVERLAP, now=T0, publish_ahead=timedelta(seconds=-1))


def test_a_running_instance_switches_to_the_next_key_without_the_file_changing(directory, clock):
    running = FileSigningKeys(directory, clock=clock)
    new = FileSigningKeys(directory, clock=clock).rotate(overlap=OVERLAP, now=T0, publish_ahead=AHEAD)
    written = (directory / KEYS_FILE).read_bytes()

    clock.advance(AHEAD)

    assert running.active_key().kid == new
    assert (directory / KEYS_FILE).read_bytes() == written


def _rotate_once(directory, barrier) -> None:
    barrier.wait()
    FileSigningKeys(directory).rotate(overlap=OVERLAP, now=datetime.now(UTC))


def test_concurrent_rotations_lose_no_key(directory):
    FileSigningKeys(directory)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(4)
    processes = [context.Process(target=_rotate_once, args=(directory, barrier)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)

    assert [process.exitcode for process in processes] == [0] * 4
    statuses = [key["status"] for key in json.loads((directory / KEYS_FILE).read_text())["keys"]]
    assert sorted(statuses) == ["active"] + ["previous"] * 4


def test_the_rotate_keys_command_rotates_and_later_retires(directory, clock):
    original = FileSigningKeys(directory, clock=clock).current_kid()

    first = rotate_keys(
        RotateKeys(overlap=OVERLAP), keys=FileSigningKeys(directory, clock=clock), clock=clock
    )

    assert (first.previous_kid, first.retired) == (original, [])
    assert first.published == [first.new_kid, original]

    clock.advance(OVERLAP)
    second = rotate_keys(
        RotateKeys(overlap=OVERLAP), keys=FileSigningKeys(directory, clock=clock), clock=clock
    )

    assert second.retired == [original]
    assert second.previous_kid == first.new_kid
    assert second.published == [second.new_kid, first.new_kid]


def test_the_rotate_keys_command_tells_when_a_key_published_ahead_starts_signing(directory, clock):
    original = FileSigningKeys(directory, clock=clock).current_kid()

    rotation = rotate_keys(
        RotateKeys(overlap=OVERLAP, publish_ahead=AHEAD),
        keys=FileSigningKeys(directory, clock=clock),
        clock=clock,
    )

    assert (rotation.previous_kid, rotation.activates_at) == (original, T0 + AHEAD)
    assert rotation.published == [original, rotation.new_kid]


# Keys from configuration


def test_a_pem_from_configuration_is_the_signing_key():
    key = Ed25519PrivateKey.generate()
    keys = ConfiguredSigningKeys(private_pem(key))

    assert keys.current_kid() == thumbprint(key.public_key())
    assert kids(keys) == [keys.current_kid()]
    active = keys.active_key()
    token = jwt.encode({"probe": 1}, active.private_key, algorithm="EdDSA")
    assert jwt.decode(token, jwt.PyJWKSet.from_dict(keys.jwks())[active.kid], algorithms=["EdDSA"])


def test_configuration_mode_touches_no_directory(tmp_path):
    directory = tmp_path / "identity-keys"
    keys = open_signing_keys(directory=directory, pem=private_pem(Ed25519PrivateKey.generate()))

    assert isinstance(keys, ConfiguredSigningKeys)
    assert not directory.exists()


def test_without_a_pem_the_keys_come_from_the_directory(tmp_path):
    keys = open_signing_keys(directory=tmp_path / "identity-keys", pem="")
    assert isinstance(keys, FileSigningKeys)


def test_a_pem_with_escaped_newlines_is_accepted():
    key = Ed25519PrivateKey.generate()
    escaped = private_pem(key).replace("\n", "\\n")

    assert ConfiguredSigningKeys(escaped).current_kid() == thumbprint(key.public_key())


def test_previous_keys_from_configuration_stay_published():
    active, previous_one, previous_two = (Ed25519PrivateKey.generate() for _ in range(3))
    previous = public_pem(previous_one) + private_pem(previous_two) + public_pem(active)

    keys = ConfiguredSigningKeys(private_pem(active), previous)

    expected = [thumbprint(k.public_key()) for k in (active, previous_one, previous_two)]
    assert kids(keys) == expected  # the active key, listed again among previous, is published once
    assert all("d" not in entry for entry in keys.jwks()["keys"])


def test_configured_keys_cannot_be_rotated_by_command():
    keys = ConfiguredSigningKeys(private_pem(Ed25519PrivateKey.generate()))

    with pytest.raises(SigningKeysError, match="IDENTITY_SIGNING_KEY_PEM"):
        keys.rotate(overlap=OVERLAP, now=T0)
    assert keys.retire_expired(now=T0) == []


def test_a_non_ed25519_key_is_refused_without_quoting_it():
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    with pytest.raises(ValueError, match="must be Ed25519") as caught:
        ConfiguredSigningKeys(pem.decode())
    assert "BEGIN" not in str(caught.value)


def test_garbage_is_refused_without_quoting_it():
    with pytest.raises(ValueError, match="not an unencrypted PEM private key") as caught:
        ConfiguredSigningKeys("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----")
    assert "c2VjcmV0" not in str(caught.value)


def test_both_key_stores_implement_the_port(directory, clock):
    stores: list[SigningKeys] = [
        FileSigningKeys(directory, clock=clock),
        ConfiguredSigningKeys(private_pem(Ed25519PrivateKey.generate())),
    ]
    assert all(store.current_kid() for store in stores)

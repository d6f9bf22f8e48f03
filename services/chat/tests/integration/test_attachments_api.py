"""``/api/v1/attachments`` on real PostgreSQL: uploads typed by their content, hostile uploads
refused with a problem and nothing stored, downloads that a browser will only save, and
another user's attachments as absent as those that never existed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from services.chat.tests.attachment_samples import ACCEPTED, REFUSED, png, text, wav

from chat.adapters.postgres.tables import attachments

URL = "/api/v1/attachments"


@pytest.fixture
def blob_dir(tmp_path) -> Path:
    return Path(tmp_path) / "blobs"


@pytest.fixture
async def api(service_root, api_settings, blob_dir, nats_client, service_engine):
    settings = msgspec.structs.replace(api_settings, blob_dir=str(blob_dir))
    async with AsyncTestClient(app=service_root.create_app(settings)) as client:
        yield client


def files_in(blob_dir: Path) -> list[Path]:
    return sorted(p for p in blob_dir.rglob("*") if p.is_file()) if blob_dir.exists() else []


async def rows(engine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(attachments))).scalar_one())


async def set_limit(uow, name: str, value: int) -> None:
    async with uow() as work:
        await work.settings.save(f"chat.attachments.{name}", value, datetime.now(UTC))
        await work.commit()


async def upload(api, who, data: bytes, filename: str = "file.bin", content_type: str = "image/png"):
    return await api.post(URL, files={"file": (filename, data, content_type)}, headers=who.headers)


@pytest.mark.parametrize(("media_type", "make"), ACCEPTED.items(), ids=list(ACCEPTED))
async def test_an_upload_is_typed_by_its_content_whatever_the_client_says(
    api, caller, blob_dir, media_type, make
):
    alice = caller()
    data = make()

    created = await upload(api, alice, data, filename="pretend.exe", content_type="application/x-msdownload")

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["media_type"] == media_type
    assert (body["filename"], body["size_bytes"], body["message_id"]) == ("pretend.exe", len(data), None)
    sha = hashlib.sha256(data).hexdigest()
    assert files_in(blob_dir) == [blob_dir / str(alice.user_id) / sha[:2] / sha]
    got = await api.get(f"{URL}/{body['id']}/content", headers=alice.headers)
    assert (got.headers["content-type"], got.content) == (media_type, data)


async def test_the_download_is_the_same_bytes_as_a_named_attachment_the_browser_will_not_sniff(api, caller):
    alice = caller()
    attachment = (await upload(api, alice, text(), filename='notes été "1".txt')).json()

    got = await api.get(f"{URL}/{attachment['id']}/content", headers=alice.headers)

    assert got.status_code == 200
    assert got.content == text()
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"notes _t_ _1_.txt\"; filename*=UTF-8''notes%20%C3%A9t%C3%A9%20%221%22.txt"
    )
    assert got.headers["content-length"] == str(len(text()))


@pytest.mark.parametrize("make", REFUSED.values(), ids=list(REFUSED))
async def test_a_hostile_upload_is_a_415_problem_and_nothing_is_stored(
    api, caller, blob_dir, service_engine, make
):
    refused = await upload(api, caller(), make(), filename="innocent.png")

    assert refused.status_code == 415, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 415
    assert await rows(service_engine) == 0
    assert files_in(blob_dir) == []


async def test_a_path_in_the_file_name_is_only_a_display_name(api, caller, blob_dir):
    alice = caller()
    created = await upload(api, alice, png(), filename="../../etc/passwd")

    assert created.status_code == 201
    assert created.json()["filename"] == "passwd"
    assert [p.name for p in files_in(blob_dir)] == [hashlib.sha256(png()).hexdigest()]


async def test_past_its_kinds_limit_an_upload_is_a_413_problem_and_nothing_is_stored(
    api, caller, uow, blob_dir, service_engine
):
    await set_limit(uow, "max_image_bytes", len(png()) - 1)
    alice = caller()

    refused = await upload(api, alice, png())

    assert refused.status_code == 413, refused.text
    assert "image" in refused.json()["detail"]
    assert await upload(api, alice, text()) is not None  # another kind, its own limit
    assert await rows(service_engine) == 1
    assert [p.name for p in files_in(blob_dir)] == [hashlib.sha256(text()).hexdigest()]


async def test_a_file_larger_than_any_kind_may_be_is_refused_as_it_arrives(
    api, caller, uow, blob_dir, service_engine
):
    for name in ("max_image_bytes", "max_audio_bytes", "max_document_bytes"):
        await set_limit(uow, name, 2048)

    refused = await upload(api, caller(), text() * 1000)

    assert refused.status_code == 413, refused.text
    assert "at most 2048 bytes" in refused.json()["detail"]
    assert await rows(service_engine) == 0
    assert files_in(blob_dir) == []  # the staged part too


async def test_past_the_users_total_an_upload_is_a_413_problem_and_another_user_still_uploads(
    api, caller, uow, service_engine
):
    await set_limit(uow, "max_bytes_per_user", len(wav()) + 5)
    alice, bob = caller(), caller()
    assert (await upload(api, alice, wav())).status_code == 201

    refused = await upload(api, alice, text())

    assert refused.status_code == 413
    assert "together" in refused.json()["detail"]
    assert (await upload(api, bob, wav())).status_code == 201
    assert await rows(service_engine) == 2


async def test_an_empty_file_or_no_file_part_is_a_400_problem(api, caller, blob_dir, service_engine):
    alice = caller()

    empty = await upload(api, alice, b"")
    no_file = await api.post(URL, files={"other": (None, "x")}, headers=alice.headers)
    not_multipart = await api.post(URL, json={"file": "x"}, headers=alice.headers)

    assert empty.status_code == 400, empty.text
    assert no_file.status_code == 400, no_file.text
    assert not_multipart.status_code == 415, not_multipart.text
    for answer in (empty, no_file, not_multipart):
        assert answer.headers["content-type"] == "application/problem+json"
    assert await rows(service_engine) == 0
    assert files_in(blob_dir) == []


async def test_a_malformed_form_is_a_400_problem_never_a_server_error(api, caller, blob_dir, service_engine):
    h = caller().headers
    two_files = [("file", ("a.png", png(), "image/png")), ("file", ("b.png", png(), "image/png"))]
    multipart = {**h, "content-type": "multipart/form-data; boundary=xx"}

    for answer in (
        await api.post(URL, files=two_files, headers=h),
        await api.post(URL, files={"file": ("", png(), "image/png")}, headers=h),  # binary, no file name
        await api.post(URL, files={"file": (None, "some text")}, headers=h),  # a plain field
        await api.post(URL, content=b"--xx\r\nbroken", headers=multipart),
        await api.post(URL, files={"file": ("a.png", png(), "image/png")}, data={"extra": "1"}, headers=h),
    ):
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert await rows(service_engine) == 0
    assert files_in(blob_dir) == []


async def test_without_a_token_nothing_is_uploaded(api, service_engine):
    answer = await api.post(URL, files={"file": ("a.png", png(), "image/png")})

    assert answer.status_code == 401
    assert await rows(service_engine) == 0


async def test_another_users_attachment_is_a_404_everywhere(api, caller, blob_dir):
    alice, bob = caller(), caller()
    attachment = (await upload(api, alice, png())).json()
    one = f"{URL}/{attachment['id']}"

    for answer in (
        await api.get(one, headers=bob.headers),
        await api.get(f"{one}/content", headers=bob.headers),
        await api.delete(one, headers=bob.headers),
    ):
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await api.get(URL, headers=bob.headers)).json() == {"items": [], "next_cursor": None}
    assert (await api.get(one, headers=alice.headers)).json() == attachment
    assert len(files_in(blob_dir)) == 1


async def test_my_attachments_are_listed_newest_first_a_page_at_a_time(api, caller):
    alice = caller()
    made = [(await upload(api, alice, f"file {i}\n".encode())).json() for i in range(3)]

    first = (await api.get(URL, params={"limit": 2}, headers=alice.headers)).json()
    rest = (
        await api.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=alice.headers)
    ).json()

    assert [a["id"] for a in first["items"] + rest["items"]] == [a["id"] for a in reversed(made)]
    assert rest["next_cursor"] is None


async def test_deleting_removes_the_file_once_no_attachment_of_mine_has_that_content(
    api, caller, blob_dir, service_engine
):
    alice, bob = caller(), caller()
    first = (await upload(api, alice, png())).json()
    second = (await upload(api, alice, png())).json()
    bobs = (await upload(api, bob, png())).json()
    assert len(files_in(blob_dir)) == 2  # one per owner

    assert (await api.delete(f"{URL}/{first['id']}", headers=alice.headers)).status_code == 204
    assert (await api.get(f"{URL}/{second['id']}/content", headers=alice.headers)).content == png()

    assert (await api.delete(f"{URL}/{second['id']}", headers=alice.headers)).status_code == 204
    assert (await api.delete(f"{URL}/{second['id']}", headers=alice.headers)).status_code == 404
    sha = hashlib.sha256(png()).hexdigest()
    assert files_in(blob_dir) == [blob_dir / str(bob.user_id) / sha[:2] / sha]
    assert (await api.get(f"{URL}/{bobs['id']}/content", headers=bob.headers)).content == png()
    assert await rows(service_engine) == 1


async def test_the_upload_operation_documents_its_body_and_refusals(api):
    schema = (await api.get("/schema/openapi.json")).json()
    upload_op = schema["paths"][URL]["post"]

    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert {"400", "401", "413", "415"} <= set(upload_op["responses"])
    download = schema["paths"][f"{URL}/{{attachment_id}}/content"]["get"]
    assert {"401", "404"} <= set(download["responses"])

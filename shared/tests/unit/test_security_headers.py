"""The headers every answer carries (issue 7, point 6), and ``/metrics`` off the public surface."""

import base64
import hashlib
import re

from litestar import get
from litestar.datastructures import CacheControlHeader
from litestar.testing import TestClient

from shared.http.app import create_service_app
from shared.http.security_headers import STRICT_CSP

TOKEN = "metrics-token-for-this-test"


@get("/api/v1/me", sync_to_thread=False)
def me() -> dict[str, str]:
    return {"email": "ada@example.org"}


@get("/api/v1/public", sync_to_thread=False, cache_control=CacheControlHeader(max_age=60, public=True))
def public() -> dict[str, str]:
    return {"hello": "world"}


def client(**options):
    app = create_service_app(service="headers", version="0", route_handlers=[me, public], **options)
    return TestClient(app, raise_server_exceptions=False)


def test_an_api_answer_is_not_stored_sniffed_framed_or_referred():
    with client() as c:
        r = c.get("/api/v1/me")

    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"] == STRICT_CSP.decode()
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "strict-transport-security" not in r.headers


def test_a_route_with_its_own_cache_control_keeps_it():
    with client() as c:
        r = c.get("/api/v1/public")

    assert r.headers["cache-control"] == "max-age=60, public"


def test_refusals_and_unknown_paths_carry_the_headers_too():
    with client() as c:
        missing = c.get("/api/v1/nothing")
        unauthorized = c.get("/metrics")

    for r in (missing, unauthorized):
        assert r.headers.get("cache-control") == ("no-store" if r.url.path.startswith("/api/") else None)
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["content-security-policy"] == STRICT_CSP.decode()


def test_the_docs_pages_run_their_own_files_and_their_one_inline_script_by_its_hash():
    with client() as c:
        r = c.get("/schema")

    inline = re.findall(r"<script(?![^>]*src=)[^>]*>(.*?)</script>", r.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    policy = dict(part.strip().split(" ", 1) for part in r.headers["content-security-policy"].split(";"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert len(inline) == 1
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert int(r.headers["content-length"]) == len(r.content)


def test_hsts_when_tls_terminates_in_front():
    with client(tls_terminated=True) as c:
        r = c.get("/api/v1/me")

    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_metrics_are_off_without_a_token():
    with client() as c:
        r = c.get("/metrics")

    assert r.status_code == 404


def test_metrics_answer_only_the_scrape_token():
    with client(metrics_token=TOKEN) as c:
        anonymous = c.get("/metrics")
        wrong = c.get("/metrics", headers={"authorization": "Bearer guess"})
        scraped = c.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert scraped.status_code == 200
    assert "aiorch_requests_total" in scraped.text

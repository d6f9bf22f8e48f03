"""The API docs pages work offline: every script, style and icon they load is the service's own.

Litestar's render plugins default to a CDN; with no network (or a proxy that blocks it) the
docs pages stayed blank. Checked on each service's real app, without a lifespan.
"""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

pytestmark = pytest.mark.parametrize("service_root", ["identity", "chat", "orchestrator"], indirect=True)

MINIMAL = {"DATABASE_URL": "postgresql://svc:pw@db/aiorch", "NATS_URL": "nats://bus:4222"}
DOCS_PAGES = ("/schema", "/schema/swagger")
# Every URL an HTML page makes the browser fetch (scripts, styles, icons, images, frames).
FETCHED = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
# Inside the page's inline scripts and styles too: an absolute URL anywhere is a request elsewhere.
ABSOLUTE = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_the_docs_page_references_no_external_host_and_its_assets_are_served(service_root, page: str) -> None:
    app = service_root.create_app(service_root.load_settings(MINIMAL))
    client = TestClient(app=app)  # not entered: no lifespan, nothing connects
    answer = client.get(page)
    assert answer.status_code == 200, answer.text[:300]
    html = answer.text
    head = html.split("<body", 1)[0]
    # the spec itself (in the body) may name example hosts; the page's own markup may not
    assert ABSOLUTE.findall(head) == [], f"{page} loads from another host: {ABSOLUTE.findall(head)}"
    fetched = FETCHED.findall(html)
    assert fetched, f"{page} loads no assets at all"
    for url in fetched:
        assert url.startswith("/"), f"{page} references {url}"
        asset = client.get(url)
        assert asset.status_code == 200, f"{page}: {url} answered {asset.status_code}"
        assert len(asset.content) > 0

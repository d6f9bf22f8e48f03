"""A refused query or header parameter is named by where it was and its name (``$.query.limit``)."""

from typing import Annotated

from litestar import Litestar, get
from litestar.exceptions import ValidationException
from litestar.params import HeaderParameter, QueryParameter
from litestar.testing import TestClient

from shared.http.problems import handle_validation


@get("/things", sync_to_thread=False)
def things(
    limit: Annotated[int, QueryParameter(ge=1, le=10)] = 1,
    if_match: Annotated[str | None, HeaderParameter(name="If-Match", pattern=r"^\"\d+\"$")] = None,
) -> str:
    return "ok"


def test_a_refused_query_or_header_parameter_is_named_by_its_place_and_name():
    app = Litestar([things], exception_handlers={ValidationException: handle_validation})
    with TestClient(app) as client:
        query = client.get("/things?limit=99").json()
        header = client.get("/things", headers={"If-Match": "abc"}).json()

    assert [e["field"] for e in query["errors"]] == ["$.query.limit"]
    assert [e["field"] for e in header["errors"]] == ["$.header.if_match"]

"""Request metrics are added up per request and written to the series in batches: the same
figures Histogram.observe and Counter.inc would give, written at the end of the event loop's
turn, or at a scrape."""

import asyncio
from typing import Annotated

import msgspec
from litestar import post
from litestar.params import Body
from litestar.testing import AsyncTestClient
from prometheus_client import CollectorRegistry, Histogram

from shared.http.app import create_service_app
from shared.http.metrics import _DURATION, _REQUESTS, _Children, _pending, flush_metrics

DURATIONS = (0.0004, 0.005, 0.005, 0.3, 2.5, 42.0)


class _Name(msgspec.Struct):
    name: str


@post("/named")
async def _named(data: Annotated[_Name, Body()]) -> None:
    return None


def value(metric) -> float:
    return metric._value.get()


def test_durations_land_in_the_buckets_and_sum_histogram_observe_would_give():
    reference = Histogram("reference_seconds", "reference", registry=CollectorRegistry())
    children = _Children("GET", "/buckets", "metrics-batch-1")
    for seconds in DURATIONS:
        reference.observe(seconds)
        children.finished(200).add(seconds)

    flush_metrics()
    children.flush()

    histogram = _DURATION.labels("GET", "/buckets", "200", "metrics-batch-1")
    assert [b.get() for b in histogram._buckets] == [b.get() for b in reference._buckets]
    assert histogram._sum.get() == reference._sum.get()
    assert value(_REQUESTS.labels("GET", "/buckets", "200", "metrics-batch-1")) == len(DURATIONS)


async def test_on_a_loop_the_series_are_written_at_the_end_of_its_turn_without_a_scrape():
    children = _Children("GET", "/later", "metrics-batch-2")
    counter = _REQUESTS.labels("GET", "/later", "204", "metrics-batch-2")
    for _ in range(5):
        children.finished(204).add(0.01)
        _pending.touched(children)

    assert value(counter) == 0  # five requests of one turn, not written yet
    await asyncio.sleep(0)
    assert value(counter) == 5


async def test_the_in_progress_gauge_counts_requests_still_running_at_the_flush():
    children = _Children("GET", "/running", "metrics-batch-3")
    children.started += 3  # three started
    _pending.touched(children)
    children.started -= 1  # one of them finished
    _pending.touched(children)

    flush_metrics()

    assert children.in_progress._value.get() == 2


async def test_a_request_the_input_guard_refuses_is_counted_with_the_status_it_is_answered():
    app = create_service_app(service="metrics-refusals", version="1", route_handlers=[_named])
    async with AsyncTestClient(app) as client:
        response = await client.post("/named", content=b"x", headers={"content-type": "text/plain"})
    flush_metrics()

    assert response.status_code == 415
    assert value(_REQUESTS.labels("POST", "/named", "415", "metrics-refusals")) == 1
    assert value(_REQUESTS.labels("POST", "/named", "200", "metrics-refusals")) == 0

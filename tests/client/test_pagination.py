"""Pages and the async pager: page by page or item by item, lazily, over real HTTP."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from telnyx_messaging import (
    APIResponseValidationError,
    AsyncClient,
    AsyncPager,
    InternalServerError,
    InvalidArgumentError,
    NoNextPageError,
    OptOut,
    Page,
    PaginationMeta,
    TelnyxError,
)
from telnyx_messaging.testing import FakeTelnyx, RecordedRequest, Respond

Lister = Callable[..., AsyncPager[Any]]

# (how to list, the items the fake seeds, the raw key that tells items apart)
LISTERS = [
    pytest.param(
        lambda c: c.messaging_optouts.list,
        lambda f: f.optout_items,
        "to",
        id="optouts",
    ),
    pytest.param(
        lambda c: c.phone_numbers.messaging.list,
        lambda f: f.phone_number_settings,
        "id",
        id="phone_numbers",
    ),
    pytest.param(
        lambda c: c.mobile_phone_numbers.messaging.list,
        lambda f: f.mobile_phone_number_settings,
        "id",
        id="mobile_phone_numbers",
    ),
]


def _page_numbers(requests: list[RecordedRequest]) -> list[str]:
    return [r.query_dict["page[number]"] for r in requests]


async def test_first_page(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Awaiting list() gives the first Page with its items, meta and raw answer."""
    page = await client.messaging_optouts.list(page_size=10)

    assert isinstance(page, Page)
    assert len(page) == len(page.data) == 10
    assert all(isinstance(item, OptOut) for item in page)
    assert [o.raw for o in page.data] == fake.optout_items[:10]
    assert page.meta == PaginationMeta(page_number=1, page_size=10, total_pages=5, total_results=45)
    assert page.response.status == 200
    assert page.response.json()["meta"] == page.meta.raw
    assert page.has_next_page()
    assert "10 items" in repr(page)
    assert len(fake.requests) == 1


async def test_next_page(client: AsyncClient, fake: FakeTelnyx) -> None:
    """next_page() fetches the following page with the same page size."""
    first = await client.messaging_optouts.list(page_size=10)

    second = await first.next_page()

    assert second.meta is not None
    assert second.meta.page_number == 2
    assert [o.raw for o in second.data] == fake.optout_items[10:20]
    assert fake.requests[-1].query_dict == {"page[size]": "10", "page[number]": "2"}


@pytest.mark.parametrize("page_size", [7, 10, 250])
@pytest.mark.parametrize(("lister", "seeded", "key"), LISTERS)
async def test_async_for_visits_every_item_once(
    client: AsyncClient,
    fake: FakeTelnyx,
    lister: Callable[[AsyncClient], Lister],
    seeded: Callable[[FakeTelnyx], list[dict[str, Any]]],
    key: str,
    page_size: int,
) -> None:
    """async for walks every seeded item exactly once, in order, one request per page."""
    items = [item async for item in lister(client)(page_size=page_size)]

    expected = seeded(fake)
    assert [item.raw[key] for item in items] == [item[key] for item in expected]
    pages = math.ceil(len(expected) / page_size)
    assert _page_numbers(fake.requests) == [str(n) for n in range(1, pages + 1)]


async def test_default_page_size(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Without page_size the server's default (20) applies and page[size] is not sent."""
    items = [item async for item in client.messaging_optouts.list()]

    assert len(items) == 45
    assert len(fake.requests) == 3
    assert all("page[size]" not in r.query_dict for r in fake.requests)


@pytest.mark.parametrize(("taken", "requests"), [(0, 0), (1, 1), (10, 1), (11, 2), (25, 3)])
async def test_pages_are_fetched_lazily(
    client: AsyncClient, fake: FakeTelnyx, taken: int, requests: int
) -> None:
    """Breaking out of async for early leaves the remaining pages unfetched."""
    pager = client.messaging_optouts.list(page_size=10)
    assert fake.requests == []

    seen = 0
    if taken:
        async for _ in pager:
            seen += 1
            if seen == taken:
                break

    assert len(fake.requests) == requests


async def test_pages(client: AsyncClient, fake: FakeTelnyx) -> None:
    """pager.pages() yields each Page in turn, the last one short."""
    pages = [page async for page in client.messaging_optouts.list(page_size=10).pages()]

    assert [len(p) for p in pages] == [10, 10, 10, 10, 5]
    assert [p.meta.page_number for p in pages if p.meta] == [1, 2, 3, 4, 5]
    assert [p.has_next_page() for p in pages] == [True, True, True, True, False]
    assert len(fake.requests) == 5


async def test_page_number_starts_there(client: AsyncClient, fake: FakeTelnyx) -> None:
    """page_number= makes both await and async for start at that page."""
    page = await client.messaging_optouts.list(page_size=10, page_number=3)
    assert page.meta is not None
    assert page.meta.page_number == 3
    assert [o.raw for o in page.data] == fake.optout_items[20:30]

    fake.requests.clear()
    rest = [o async for o in client.messaging_optouts.list(page_size=10, page_number=3)]

    assert [o.raw for o in rest] == fake.optout_items[20:]
    assert _page_numbers(fake.requests) == ["3", "4", "5"]


async def test_next_page_past_the_last_raises(client: AsyncClient, fake: FakeTelnyx) -> None:
    """next_page() on the last page raises NoNextPageError, a TelnyxError, without a request."""
    last = await client.messaging_optouts.list(page_size=10, page_number=5)
    assert not last.has_next_page()

    with pytest.raises(NoNextPageError, match="page 5 is the last page") as caught:
        await last.next_page()
    assert isinstance(caught.value, TelnyxError)
    assert isinstance(caught.value, LookupError)

    assert len(fake.requests) == 1


async def test_page_past_the_end_is_empty(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Asking for a page beyond the last gives an empty page with no next one."""
    page = await client.messaging_optouts.list(page_size=10, page_number=9)

    assert page.data == ()
    assert not page.has_next_page()


async def test_empty_list(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A filter that matches nothing gives an empty first page and an empty iteration."""
    page = await client.messaging_optouts.list(filter_from="+10000000000")
    assert page.data == ()
    assert not page.has_next_page()

    assert [o async for o in client.messaging_optouts.list(filter_from="+10000000000")] == []


@pytest.mark.parametrize(
    "meta",
    [
        pytest.param(None, id="no-meta"),
        pytest.param({"page_number": 1}, id="no-total-pages"),
        pytest.param({"page_number": None, "total_pages": None}, id="null-fields"),
    ],
)
async def test_page_without_meta_has_no_next_page(
    client: AsyncClient, fake: FakeTelnyx, meta: dict[str, Any] | None
) -> None:
    """A page whose meta is missing or incomplete is taken as the last one."""
    payload: dict[str, Any] = {"data": [fake.optout_items[0]]}
    if meta is not None:
        payload["meta"] = meta
    fake.fail_next(Respond(200, json=payload), Respond(200, json=payload))

    page = await client.messaging_optouts.list()
    items = [o async for o in client.messaging_optouts.list()]

    assert not page.has_next_page()
    with pytest.raises(NoNextPageError):
        await page.next_page()
    assert len(items) == 1
    assert len(fake.requests) == 2


async def test_meta_without_page_number_pages_by_the_number_asked(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """Without meta.page_number the pager counts pages itself, up to total_pages."""
    items = fake.optout_items

    def answer(request: RecordedRequest) -> Respond | None:
        number = int(request.query_dict["page[number]"])
        return Respond(200, json={"data": [items[number]], "meta": {"total_pages": 3}})

    fake.fault_hook = answer
    seen = [o.to async for o in client.messaging_optouts.list()]

    assert seen == [items[1]["to"], items[2]["to"], items[3]["to"]]
    assert [r.query_dict["page[number]"] for r in fake.requests] == ["1", "2", "3"]


@pytest.mark.parametrize(
    "meta",
    [
        pytest.param({"page_number": 1, "total_pages": 2}, id="page-number-stuck"),
        pytest.param({"page_number": 1, "total_pages": 10**9}, id="huge-total"),
    ],
)
async def test_a_server_that_does_not_page_cannot_loop_forever(
    client: AsyncClient, fake: FakeTelnyx, meta: dict[str, Any]
) -> None:
    """async for ends when the server answers another page than asked, or an empty page."""
    item = fake.optout_items[0]

    def answer(request: RecordedRequest) -> Respond | None:
        number = int(request.query_dict["page[number]"])
        data = [item] if number == 1 else []
        return Respond(200, json={"data": data, "meta": meta})

    fake.fault_hook = answer
    seen = [o async for o in client.messaging_optouts.list()]

    assert len(seen) == 1
    assert len(fake.requests) <= 2


@pytest.mark.parametrize(
    ("make", "wanted", "expected"),
    [
        pytest.param(
            lambda c: c.messaging_optouts.list(filter_from="+13125551000", page_size=4),
            {"filter[from]": "+13125551000", "page[size]": "4"},
            15,
            id="optouts-by-sender",
        ),
        pytest.param(
            lambda c: c.messaging_optouts.list(
                filter_messaging_profile_id="3fa85f64-5717-4562-b3fc-2c963f66afa6",
                redaction_enabled=True,
                page_size=6,
            ),
            {
                "filter[messaging_profile_id]": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                "redaction_enabled": "true",
                "page[size]": "6",
            },
            22,
            id="optouts-by-profile-redacted",
        ),
        pytest.param(
            lambda c: c.phone_numbers.messaging.list(filter_type="tollfree", page_size=3),
            {"filter[type]": "tollfree", "page[size]": "3"},
            7,
            id="tollfree-numbers",
        ),
    ],
)
async def test_filters_ride_along_on_every_page(
    client: AsyncClient,
    fake: FakeTelnyx,
    make: Callable[[AsyncClient], AsyncPager[Any]],
    wanted: dict[str, str],
    expected: int,
) -> None:
    """Filters and page size are repeated on every page request, with page[number] advancing."""
    items = [item async for item in make(client)]

    assert len(items) == expected
    pages = math.ceil(expected / int(wanted["page[size]"]))
    assert len(fake.requests) == pages
    for number, request in enumerate(fake.requests, start=1):
        assert request.query_dict == {**wanted, "page[number]": str(number)}
        assert len(request.query) == len(wanted) + 1


async def test_error_mid_iteration_propagates(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A failing page ends the iteration with its error, after the earlier pages' items."""
    fake.fault_hook = lambda r: Respond(500) if r.query_dict["page[number]"] == "2" else None
    pager = client.with_options(max_retries=0).messaging_optouts.list(page_size=10)
    seen: list[OptOut] = []

    async def read_all() -> None:
        async for optout in pager:
            seen.append(optout)

    with pytest.raises(InternalServerError):
        await read_all()

    assert len(seen) == 10


async def test_retried_page_does_not_repeat_items(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A page that fails once and is retried still yields each item exactly once."""
    fake.fail_next(Respond(503), method="GET", path="/messaging_optouts")
    items = [o async for o in client.messaging_optouts.list(page_size=20)]

    assert [o.raw for o in items] == fake.optout_items
    assert _page_numbers(fake.requests) == ["1", "1", "2", "3"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"data": {"to": "+1"}}, id="data-object"),
        pytest.param({"items": []}, id="no-data"),
        pytest.param([], id="top-level-list"),
        pytest.param({"data": [1, 2]}, id="items-not-objects"),
        pytest.param({"data": [], "meta": "page 1"}, id="meta-not-object"),
    ],
)
async def test_malformed_page(client: AsyncClient, fake: FakeTelnyx, body: Any) -> None:
    """A page that is not {"data": [...], "meta": {...}} raises APIResponseValidationError."""
    fake.fail_next(Respond(200, json=body))

    with pytest.raises(APIResponseValidationError) as caught:
        await client.messaging_optouts.list()

    assert caught.value.response is not None
    assert caught.value.response.json() == body


@pytest.mark.parametrize(
    "lister",
    [
        pytest.param(lambda c: c.messaging_optouts.list, id="optouts"),
        pytest.param(lambda c: c.phone_numbers.messaging.list, id="phone_numbers"),
        pytest.param(lambda c: c.mobile_phone_numbers.messaging.list, id="mobile_phone_numbers"),
    ],
)
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page_size": 0}, "page_size must be a whole number >= 1"),
        ({"page_size": -1}, "page_size must be a whole number >= 1"),
        ({"page_size": 251}, "page_size must be at most 250"),
        ({"page_size": True}, "page_size must be a whole number"),
        ({"page_size": "10"}, "page_size must be a whole number"),
        ({"page_size": 2.5}, "page_size must be a whole number"),
        ({"page_number": 0}, "page_number must be a whole number >= 1"),
        ({"page_number": False}, "page_number must be a whole number"),
        ({"page_number": "2"}, "page_number must be a whole number"),
    ],
)
async def test_bad_paging_arguments(
    client: AsyncClient,
    fake: FakeTelnyx,
    lister: Callable[[AsyncClient], Lister],
    kwargs: dict[str, Any],
    message: str,
) -> None:
    """Bad page_size / page_number raise InvalidArgumentError from list(), sending nothing."""
    with pytest.raises(InvalidArgumentError, match=message):
        lister(client)(**kwargs)

    assert fake.requests == []


@pytest.mark.parametrize("page_size", [1, 250])
async def test_page_size_bounds_are_allowed(
    client: AsyncClient, fake: FakeTelnyx, page_size: int
) -> None:
    """page_size 1 and 250 are the accepted extremes."""
    page = await client.messaging_optouts.list(page_size=page_size)

    assert len(page) == min(page_size, 45)
    assert fake.requests[-1].query_dict["page[size]"] == str(page_size)

"""What every list endpoint shares: query encoding, page-size checks, the pager."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from telnyx_messaging import _args
from telnyx_messaging._http.codec import encode_query
from telnyx_messaging._pagination import AsyncPager, Page, decode_page

if TYPE_CHECKING:
    from telnyx_messaging._client import AsyncClient

__all__ = ["list_pages"]

T = TypeVar("T")

MAX_PAGE_SIZE = 250  # the spec's maximum for page[size]


def list_pages(
    client: AsyncClient,
    path: str,
    item_cls: type[T],
    filters: Mapping[str, Any],
    *,
    page_size: int | None,
    page_number: int | None,
) -> AsyncPager[T]:
    """A pager over ``GET path`` with ``filters`` (wire names) and ``page[...]`` added per page."""
    if page_size is not None:
        _args.whole_number("page_size", page_size, minimum=1, maximum=MAX_PAGE_SIZE)
    if page_number is not None:
        _args.whole_number("page_number", page_number, minimum=1)
    base = encode_query(filters)
    if page_size is not None:
        base.append(("page[size]", str(page_size)))

    async def fetch(number: int) -> Page[T]:
        query = [*base, ("page[number]", str(number))]
        return await client._requests.call_with(
            "GET", path, lambda answer: decode_page(answer, item_cls, fetch, number), query=query
        )

    return AsyncPager(fetch, page_number or 1)

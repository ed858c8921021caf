"""What every list endpoint shares: query encoding, page-size checks, the pager."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from telnyx_messaging import _args
from telnyx_messaging._http.codec import encode_query
from telnyx_messaging._pagination import AsyncPager, Page, decode_page
from telnyx_messaging._wire import Response

__all__ = ["list_pages"]

T = TypeVar("T")

#: ``RequestLoop.call_with``: send a GET and read its answer with a decoder.
CallWith = Callable[..., Coroutine[Any, Any, Any]]

MAX_PAGE_SIZE = 250  # the spec's maximum for page[size]


def list_pages(
    call_with: CallWith,
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

        def decode(answer: Response) -> Page[T]:
            return decode_page(answer, item_cls, fetch, number)

        page: Page[T] = await call_with("GET", path, decode, query=query)
        return page

    return AsyncPager(fetch, page_number or 1)

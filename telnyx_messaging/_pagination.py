"""Pages and the async pager that list endpoints return.

``list()`` is a plain (not async) method that returns an :class:`AsyncPager` right away, so the
one value serves both ways of reading a list::

    page = await client.messaging_optouts.list(page_size=50)   # the first page
    async for optout in client.messaging_optouts.list():       # every item, page by page
        ...

Pages are fetched lazily with ``page[number]``, one request at a time, only as far as the
caller reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

from telnyx_messaging._convert import structure
from telnyx_messaging._errors import NoNextPageError
from telnyx_messaging._http.codec import invalid_response, load_json
from telnyx_messaging._models import PaginationMeta
from telnyx_messaging._wire import Response

__all__ = ["AsyncPager", "Page"]

T = TypeVar("T")

FetchPage = Callable[[int], Awaitable["Page[T]"]]


class Page(Generic[T]):
    """One page of a list: ``data`` (the items), ``meta`` (where it sits) and the raw answer."""

    __slots__ = ("_fetch", "data", "meta", "number", "response")

    def __init__(
        self,
        data: tuple[T, ...],
        meta: PaginationMeta | None,
        response: Response,
        fetch: FetchPage[T],
        number: int = 1,
    ) -> None:
        self.data = data
        self.meta = meta
        self.response = response
        self.number = number  #: the page number asked for
        self._fetch = fetch

    def __repr__(self) -> str:
        return f"<Page {len(self.data)} items meta={self.meta!r}>"

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def has_next_page(self) -> bool:
        """Whether the list goes on after this page.

        Only when the server says so *and* is really paging: an empty page, or an answer for
        another page than the one asked for, ends the list, so ``async for`` always ends.
        """
        meta = self.meta
        if not self.data or meta is None or meta.total_pages is None:
            return False
        if meta.page_number is not None and meta.page_number != self.number:
            return False
        return self.number < meta.total_pages

    async def next_page(self) -> Page[T]:
        """Fetch the page after this one.

        Raises :class:`~telnyx_messaging.NoNextPageError` on the last page: check
        :meth:`has_next_page` first.
        """
        if not self.has_next_page():
            raise NoNextPageError(
                f"page {self.number} is the last page; check page.has_next_page() before "
                "asking for the next one, or walk every page with `async for`"
            )
        return await self._fetch(self.number + 1)


class AsyncPager(Generic[T]):
    """What ``list()`` returns: await it for the first page, ``async for`` it for every item."""

    __slots__ = ("_fetch", "_first")

    def __init__(self, fetch: FetchPage[T], first_page: int = 1) -> None:
        self._fetch = fetch
        self._first = first_page

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self._fetch(self._first).__await__()

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Every page in turn, fetched as the loop asks for it."""
        page = await self._fetch(self._first)
        yield page
        while page.has_next_page():
            page = await page.next_page()
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item


def decode_page(response: Response, item_cls: type[T], fetch: FetchPage[T], number: int) -> Page[T]:
    """A :class:`Page` from a ``{"data": [...], "meta": {...}}`` answer."""
    payload = load_json(response)
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise invalid_response(response, 'no "data" list')
    try:
        data = structure(payload["data"], tuple[item_cls, ...])  # type: ignore[valid-type]
        raw_meta = payload.get("meta")
        meta = None if raw_meta is None else structure(raw_meta, PaginationMeta)
    except Exception as exc:
        raise invalid_response(response, f"page of {item_cls.__name__}: {exc}") from exc
    return Page(data, meta, response, fetch, number)

"""Pages and the pager that a sync :class:`~telnyx_messaging.Client`'s ``list()`` returns.

The same lazy paging as :class:`~telnyx_messaging.AsyncPager`, driven from a plain ``for``::

    for optout in client.messaging_optouts.list(page_size=100):   # every item, page by page
        ...
    page = client.messaging_optouts.list().first_page()            # just the first page
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from telnyx_messaging._models import PaginationMeta
from telnyx_messaging._pagination import AsyncPager, Page
from telnyx_messaging._sync.loop import LoopThread
from telnyx_messaging._wire import Response

__all__ = ["SyncPage", "SyncPager"]

T = TypeVar("T")


class SyncPage(Generic[T]):
    """One page of a list, as :class:`~telnyx_messaging.Page` but with a blocking
    :meth:`next_page`.

    .. versionadded:: 0.2.0
    """

    __slots__ = ("_loop", "_page")

    def __init__(self, page: Page[T], loop: LoopThread) -> None:
        self._page = page
        self._loop = loop

    @property
    def data(self) -> tuple[T, ...]:
        """The items on this page."""
        return self._page.data

    @property
    def meta(self) -> PaginationMeta | None:
        """Where the page sits in the list, as the server reported it."""
        return self._page.meta

    @property
    def response(self) -> Response:
        """The raw HTTP answer the page came in."""
        return self._page.response

    @property
    def number(self) -> int:
        """The page number asked for."""
        return self._page.number

    def __repr__(self) -> str:
        return f"<SyncPage {len(self._page.data)} items meta={self._page.meta!r}>"

    def __len__(self) -> int:
        return len(self._page.data)

    def __iter__(self) -> Iterator[T]:
        return iter(self._page.data)

    def has_next_page(self) -> bool:
        """Whether the list goes on after this page (see :meth:`Page.has_next_page`)."""
        return self._page.has_next_page()

    def next_page(self) -> SyncPage[T]:
        """Fetch the page after this one (check :meth:`has_next_page` first)."""
        return SyncPage(self._loop.run(self._page.next_page()), self._loop)


class SyncPager(Generic[T]):
    """What a sync ``list()`` returns: iterate it for every item, or read it page by page.

    Nothing is fetched until you iterate it or call :meth:`first_page`.

    .. versionadded:: 0.2.0
    """

    __slots__ = ("_loop", "_pager")

    def __init__(self, pager: AsyncPager[T], loop: LoopThread) -> None:
        self._pager = pager
        self._loop = loop

    def first_page(self) -> SyncPage[T]:
        """Fetch the first page (the one ``page_number`` asked for)."""
        return SyncPage(self._loop.run(self._pager), self._loop)

    def pages(self) -> Iterator[SyncPage[T]]:
        """Every page in turn, fetched as the loop asks for it."""
        page = self.first_page()
        yield page
        while page.has_next_page():
            page = page.next_page()
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data

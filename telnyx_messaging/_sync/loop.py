"""The private event loop a sync :class:`~telnyx_messaging.Client` runs the async client on.

One daemon thread per client runs an asyncio loop; a call from any thread hands its coroutine
to that loop (``run_coroutine_threadsafe``, which is thread-safe) and blocks on the answer. So
the sync client is the async one, not a second copy of the endpoint code, and every thread of a
WSGI server shares one connection pool.

The thread starts on the first call, not in the constructor: a module-level client created
before a server forks its workers (``gunicorn --preload``) starts its loop in each worker.
``close()``, garbage collection of a client never closed, and interpreter exit all take the
same way out (a ``weakref.finalize``): close the pool on the loop, then stop the thread.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from telnyx_messaging._errors import ConfigurationError

__all__ = ["LoopThread"]

T = TypeVar("T")


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


Cleanup = Callable[[], Coroutine[Any, Any, None]]


class LoopThread:
    """An event loop on a daemon thread of its own, started on first use.

    ``cleanup`` (the async client's ``close``) runs on the loop before it stops.
    """

    __slots__ = (
        "__weakref__",
        "_cleanup",
        "_finalizer",
        "_lock",
        "_loop",
        "_pid",
        "_thread",
        "closed",
    )

    def __init__(self, cleanup: Cleanup) -> None:
        self._cleanup = cleanup
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._pid = os.getpid()
        self.closed = False

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run ``awaitable`` on the loop and block the calling thread until it is done."""
        coro = awaitable if asyncio.iscoroutine(awaitable) else _await(awaitable)
        try:
            loop = self._running_loop()
        except BaseException:
            coro.close()  # never started: no "coroutine was never awaited" warning
            raise
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result()
        except BaseException:
            # Interrupted (Ctrl-C) while waiting: do not leave the call running on the loop.
            future.cancel()
            raise

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None and self._pid == os.getpid() and not self.closed:
            if threading.current_thread() is self._thread:
                raise ConfigurationError(
                    "A sync Client was called from its own event loop thread; call it from "
                    "your code's threads, or use AsyncClient inside async code."
                )
            return loop
        with self._lock:
            if self.closed:
                raise ConfigurationError(
                    "This Client is closed; create a new one (or keep using it inside "
                    "`with Client() as client:`)."
                )
            if self._loop is not None and self._pid != os.getpid():
                # The loop's thread did not survive fork(); its connections belong to the parent.
                raise ConfigurationError(
                    "This Client was used before the process forked (gunicorn --preload, "
                    "multiprocessing); create the Client in each worker, or do not call it "
                    "before the fork."
                )
            if self._loop is None:
                self._pid = os.getpid()
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=_serve, args=(self._loop,), name="telnyx-messaging-loop", daemon=True
                )
                self._thread.start()
                # Not a method of self: the finalizer must not keep this object alive.
                self._finalizer = weakref.finalize(
                    self, _shutdown, self._loop, self._thread, self._cleanup, self._pid
                )
            return self._loop

    def close(self) -> None:
        """Run the cleanup on the loop, then stop the loop and its thread. Harmless twice."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            finalizer = self._finalizer
        if finalizer is not None:
            finalizer()  # a finalizer runs once: close(), garbage collection or exit


def _shutdown(
    loop: asyncio.AbstractEventLoop, thread: threading.Thread, cleanup: Cleanup, pid: int
) -> None:
    if os.getpid() != pid:
        return  # a forked child: the loop's thread, and what it opened, are the parent's

    async def clean_then_stop() -> None:
        try:
            await cleanup()
        finally:
            loop.call_soon(loop.stop)

    future = asyncio.run_coroutine_threadsafe(clean_then_stop(), loop)
    if threading.current_thread() is not thread:  # garbage collected on the loop: do not wait
        thread.join()
        future.result()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        # Calls still in flight when the client closes end with CancelledError in their thread.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

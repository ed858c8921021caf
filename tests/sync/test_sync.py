"""The sync Client: the async implementation run on a private loop thread, from any thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import importlib.util
import inspect
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import telnyx_messaging._sync.loop as sync_loop
from telnyx_messaging import (
    APIError,
    AsyncClient,
    Client,
    ConfigurationError,
    InvalidArgumentError,
    Message,
    MockTransport,
    NotFoundError,
    RateLimitError,
    Request,
    Response,
    SyncPage,
    Timeout,
    capture_responses,
)
from telnyx_messaging.testing import FakeTelnyx, Respond

ROOT = Path(__file__).parents[2]


def generator() -> Any:
    """scripts/generate_sync.py, imported as a module."""
    script = ROOT / "scripts" / "generate_sync.py"
    spec = importlib.util.spec_from_file_location("generate_sync", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_send_returns_the_message_and_carries_an_idempotency_key(
    sync_client: Client, threaded_fake: FakeTelnyx
) -> None:
    """A plain send returns the same Message model, sent once with an Idempotency-Key."""
    msg = sync_client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    assert isinstance(msg, Message)
    assert list(threaded_fake.messages) == [msg.id]
    (request,) = threaded_fake.requests
    assert request.headers.get("Idempotency-Key")
    assert sync_client.messages.retrieve(msg.id or "").text == "hi"


def test_every_async_method_has_a_sync_twin_with_the_same_signature() -> None:
    """Each namespace method of AsyncClient exists on Client with the same parameters."""
    gen = generator()
    probe_async = AsyncClient(api_key="KEY_x")
    probe = Client(api_key="KEY_x")
    pairs = [
        (f"client.{ns}", getattr(probe_async, ns), getattr(probe, ns))
        for ns in ("messages", "messaging_optouts", "messaging_numbers_bulk_updates")
    ] + [
        (f"client.{ns}.messaging", getattr(probe_async, ns).messaging, getattr(probe, ns).messaging)
        for ns in ("phone_numbers", "mobile_phone_numbers")
    ]
    # What the generator names as having no mechanical sync form (its module docstring says so).
    run = gen.Generator()
    run.render()
    unwrapped = set(run.skipped)
    checked = 0
    for path, async_ns, sync_ns in pairs:
        for name, fn in inspect.getmembers(type(async_ns), inspect.isfunction):
            if name.startswith("_") or f"{path}.{name}" in unwrapped:
                continue
            twin = getattr(type(sync_ns), name)
            a, s = inspect.signature(fn), inspect.signature(twin)
            assert a.parameters == s.parameters, f"{type(async_ns).__name__}.{name}"
            expected = str(a.return_annotation)
            for async_type, (sync_type, _) in gen.WRAPPERS.items():
                if expected.split("[")[0] == async_type:
                    expected = sync_type + expected[len(async_type) :]
            assert s.return_annotation == expected
            assert inspect.getdoc(twin) == gen.sync_doc(inspect.getdoc(fn) or "")
            assert not inspect.iscoroutinefunction(twin)
            checked += 1
    assert checked >= 15
    assert probe.webhooks.verify.__self__ is probe._async.webhooks  # sync already: shared
    probe.close()


def test_the_constructor_takes_the_async_clients_options() -> None:
    """Client() has AsyncClient()'s parameters, but for session (an aiohttp session is per loop)."""
    sync = inspect.signature(Client).parameters
    async_ = inspect.signature(AsyncClient).parameters
    assert list(sync) == [name for name in async_ if name != "session"]
    for name, param in sync.items():
        assert (param.kind, param.default) == (async_[name].kind, async_[name].default), name


def test_a_mock_transport_answers_the_sync_client() -> None:
    """transport= works as on AsyncClient: a MockTransport handler answers every call."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        answer = {
            "id": "msg-1",
            "from": {"phone_number": "+18445550001"},
            "to": [{"phone_number": "+13125550002", "status": "queued"}],
            "text": "hi",
        }
        return request.respond(200, json={"data": answer})

    with Client(api_key="KEY_test", transport=MockTransport(handler)) as client:
        msg = client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    assert (msg.id, msg.text) == ("msg-1", "hi")
    (request,) = seen
    assert request.headers["Idempotency-Key"]


def test_on_retry_is_told_of_each_retry(threaded_fake: FakeTelnyx) -> None:
    """on_retry(error, wait) is called for a retried failure, from the client's loop thread."""
    calls: list[tuple[int | None, str]] = []

    def on_retry(error: APIError, wait: float) -> None:
        calls.append((getattr(error, "status", None), threading.current_thread().name))

    threaded_fake.fail_next(Respond(503))
    with Client(
        api_key=threaded_fake.api_key, base_url=threaded_fake.base_url, on_retry=on_retry
    ) as client:
        client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    assert calls == [(503, "telnyx-messaging-loop")]
    assert len(threaded_fake.messages) == 1


def test_the_generated_module_is_up_to_date() -> None:
    """_sync/resources.py is what scripts/generate_sync.py makes from today's async code."""
    current = (ROOT / "telnyx_messaging" / "_sync" / "resources.py").read_text(encoding="utf-8")
    assert generator().generate() == current, "stale: run python scripts/generate_sync.py"


def test_errors_are_the_async_clients_classes(
    sync_client: Client, threaded_fake: FakeTelnyx
) -> None:
    """Bad input and error answers raise the same exception classes as AsyncClient."""
    with pytest.raises(InvalidArgumentError, match="needs content"):
        sync_client.messages.send(to="+13125550002", from_="+18445550001", text="")
    with pytest.raises(NotFoundError):
        sync_client.messages.retrieve("no-such-message")
    quick = sync_client.with_options(max_retries=0)
    threaded_fake.fail_next(Respond(429, headers={"Retry-After": "7"}))
    with pytest.raises(RateLimitError) as caught:
        quick.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    assert caught.value.retry_after == 7
    assert threaded_fake.messages == {}


def test_list_iterates_every_item_across_pages(
    sync_client: Client, threaded_fake: FakeTelnyx
) -> None:
    """A sync list() is a plain iterator over every page, and pages can be walked by hand."""
    everything = list(sync_client.messaging_optouts.list(page_size=10))
    assert len(everything) == len(threaded_fake.optout_items) > 10

    pager = sync_client.messaging_optouts.list(page_size=10)
    first = pager.first_page()
    assert isinstance(first, SyncPage)
    assert (first.number, len(first), first.response.status) == (1, 10, 200)
    assert first.meta is not None
    assert first.meta.page_number == 1
    assert list(first) == list(first.data) == everything[:10]
    assert first.has_next_page()
    second = first.next_page()
    assert second.number == 2
    assert list(second) == everything[10:20]
    assert repr(second).startswith("<SyncPage 10 items")
    assert sum(len(p) for p in pager.pages()) == len(everything)


def test_many_threads_share_one_client(sync_client: Client, threaded_fake: FakeTelnyx) -> None:
    """Sends from many threads at once all succeed, each with its own Idempotency-Key."""

    def send(n: int) -> str | None:
        return sync_client.messages.send(
            to=f"+1312555{n:04d}", from_="+18445550001", text=f"#{n}"
        ).id

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(send, range(200)))
    assert len(set(ids)) == 200
    assert set(threaded_fake.messages) == set(ids)
    keys = {r.headers.get("Idempotency-Key") for r in threaded_fake.requests}
    assert len(keys) == 200


def test_capture_responses_sees_calls_made_through_the_loop_thread(sync_client: Client) -> None:
    """capture_responses() in the calling thread collects the sync call's responses."""
    with capture_responses() as responses:
        sync_client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    assert [r.status for r in responses] == [200]


async def test_works_inside_a_running_event_loop(threaded_fake: FakeTelnyx) -> None:
    """In a notebook (a loop already running) the blocking client still works."""
    with Client(api_key=threaded_fake.api_key, base_url=threaded_fake.base_url) as client:
        msg = client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    assert msg.id in threaded_fake.messages


def test_close_stops_the_thread_and_refuses_later_calls(threaded_fake: FakeTelnyx) -> None:
    """close() shuts the loop thread; later calls raise ConfigurationError; twice is harmless."""
    client = Client(api_key=threaded_fake.api_key, base_url=threaded_fake.base_url)
    client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    thread = client._loop._thread
    assert thread is not None
    assert thread.is_alive()
    client.close()
    client.close()
    assert not thread.is_alive()
    assert client.is_closed
    assert "closed" in repr(client)
    with pytest.raises(ConfigurationError, match="closed"):
        client.messages.retrieve("x")


def test_a_client_never_closed_is_cleaned_up_when_collected(threaded_fake: FakeTelnyx) -> None:
    """Dropped without close(), a used client closes its pool and ends its thread when collected."""
    client = Client(api_key=threaded_fake.api_key, base_url=threaded_fake.base_url)
    copy = client.with_options(max_retries=0)
    client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    thread = client._loop._thread
    assert thread is not None
    del client
    gc.collect()
    assert thread.is_alive()  # the copy still uses the loop
    copy.messages.send(to="+13125550002", from_="+18445550001", text="still works")
    del copy
    gc.collect()
    thread.join(timeout=60)
    assert not thread.is_alive()  # and no unclosed-session warning was raised on the way


def test_a_collection_on_the_loop_thread_does_not_wait_for_itself(
    threaded_fake: FakeTelnyx,
) -> None:
    """If the last reference dies on the loop thread, shutdown is scheduled, not awaited."""
    client = Client(api_key=threaded_fake.api_key, base_url=threaded_fake.base_url)
    client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    loop_thread = client._loop
    finalizer, thread = loop_thread._finalizer, loop_thread._thread
    assert finalizer is not None
    assert thread is not None

    async def collected_here() -> None:
        finalizer()  # what garbage collection on this thread would run

    loop_thread.run(collected_here())  # returns: no thread joins itself
    thread.join(timeout=60)
    assert not thread.is_alive()
    client.close()  # the finalizer ran already: nothing left to do


def test_closing_an_unused_client_starts_nothing() -> None:
    """A client never called never starts a thread, and closes cleanly."""
    with Client(api_key="KEY_x") as client:
        assert client._loop._thread is None
    assert client.is_closed


def test_with_options_copies_share_the_pool(sync_client: Client, threaded_fake: FakeTelnyx) -> None:
    """A with_options copy has its own options, shares the thread, and closing it is a no-op."""
    copy = sync_client.with_options(timeout=Timeout(total=9), max_retries=0)
    assert (copy.max_retries, copy.timeout.total) == (0, 9)
    assert (sync_client.max_retries, sync_client.base_url) == (2, threaded_fake.base_url)
    copy.close()
    assert not sync_client.is_closed
    copy.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    assert len(threaded_fake.messages) == 1


def test_repr_never_shows_the_key() -> None:
    """The client's repr shows its options, never the API key."""
    client = Client(api_key="KEY_secret_value")
    assert "KEY_secret_value" not in repr(client)
    assert repr(client).startswith("<Client base_url=")
    client.close()


def test_a_call_from_the_loop_thread_itself_is_refused(sync_client: Client) -> None:
    """Blocking the client's own loop on itself would deadlock: it raises instead."""
    sync_client.messages.send(to="+13125550002", from_="+18445550001", text="warm up")

    async def from_inside() -> None:
        sync_client.messages.retrieve("x")

    with pytest.raises(ConfigurationError, match="its own event loop"):
        sync_client._loop.run(from_inside())


def test_a_client_made_before_fork_starts_its_loop_in_the_child(
    threaded_fake: FakeTelnyx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created (not used) before a fork, the client works in the child process."""
    client = Client(api_key=threaded_fake.api_key, base_url=threaded_fake.base_url)
    parent = sync_loop.os.getpid()
    monkeypatch.setattr(sync_loop.os, "getpid", lambda: parent + 1)
    client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    client.close()
    assert len(threaded_fake.messages) == 1


def test_a_client_used_before_fork_says_so_in_the_child(
    threaded_fake: FakeTelnyx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Used before a fork, the child's call raises a ConfigurationError that says what to do."""
    client = Client(api_key=threaded_fake.api_key, base_url=threaded_fake.base_url)
    client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    parent = sync_loop.os.getpid()
    monkeypatch.setattr(sync_loop.os, "getpid", lambda: parent + 1)
    with pytest.raises(ConfigurationError, match="create the Client in each worker"):
        client.messages.retrieve("x")
    client.close()  # in the "child": nothing of the parent's to close
    monkeypatch.setattr(sync_loop.os, "getpid", lambda: parent)
    thread = client._loop._thread
    assert thread is not None
    # The parent's thread is still there; stop it as the parent would have.
    loop = client._loop._loop
    assert loop is not None
    asyncio.run_coroutine_threadsafe(client._async.close(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()


def test_a_call_in_flight_when_closed_is_cancelled(threaded_fake: FakeTelnyx) -> None:
    """close() while another thread waits on a call ends that call instead of hanging it."""
    client = Client(api_key=threaded_fake.api_key, base_url=threaded_fake.base_url)
    client.messages.send(to="+13125550002", from_="+18445550001", text="warm up")
    started = threading.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(3600)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(client._loop.run, slow())
        assert started.wait(30)
        client.close()
        with pytest.raises(concurrent.futures.CancelledError):
            waiting.result(timeout=30)


LATER = datetime.now(timezone.utc) + timedelta(days=1)
SENDER, RECIPIENT, PROFILE = "+18445550001", "+13125550002", "4001767e-ce0f-4cae-9d5f-0d5e636e7809"
WHATSAPP = {"type": "text", "text": {"body": "Hi"}}


@pytest.mark.parametrize(
    ("call", "method", "path"),
    [
        pytest.param(
            lambda c, f: c.messages.send_whatsapp(
                from_=SENDER, to=RECIPIENT, whatsapp_message=WHATSAPP
            ),
            "POST",
            "/messages/whatsapp",
            id="send_whatsapp",
        ),
        pytest.param(
            lambda c, f: c.messages.send_group_mms(
                from_=SENDER, to=[RECIPIENT, "+13125550003"], text="hi"
            ),
            "POST",
            "/messages/group_mms",
            id="send_group_mms",
        ),
        pytest.param(
            lambda c, f: c.messages.send_long_code(from_=SENDER, to=RECIPIENT, text="hi"),
            "POST",
            "/messages/long_code",
            id="send_long_code",
        ),
        pytest.param(
            lambda c, f: c.messages.send_short_code(from_="12345", to=RECIPIENT, text="hi"),
            "POST",
            "/messages/short_code",
            id="send_short_code",
        ),
        pytest.param(
            lambda c, f: c.messages.send_number_pool(
                messaging_profile_id=PROFILE, to=RECIPIENT, text="hi"
            ),
            "POST",
            "/messages/number_pool",
            id="send_number_pool",
        ),
        pytest.param(
            lambda c, f: c.messages.schedule(to=RECIPIENT, from_=SENDER, send_at=LATER, text="x"),
            "POST",
            "/messages/schedule",
            id="schedule",
        ),
        pytest.param(
            lambda c, f: c.messages.cancel_scheduled(
                c.messages.schedule(to=RECIPIENT, from_=SENDER, send_at=LATER, text="x").id
            ),
            "DELETE",
            "/messages/",
            id="cancel_scheduled",
        ),
        pytest.param(
            lambda c, f: c.phone_numbers.messaging.retrieve(f.phone_number_settings[0]["id"]),
            "GET",
            "/phone_numbers/",
            id="phone_numbers.messaging.retrieve",
        ),
        pytest.param(
            lambda c, f: c.phone_numbers.messaging.update(
                f.phone_number_settings[0]["id"], tags=["x"]
            ),
            "PATCH",
            "/phone_numbers/",
            id="phone_numbers.messaging.update",
        ),
        pytest.param(
            lambda c, f: list(c.phone_numbers.messaging.list(page_size=250)),
            "GET",
            "/phone_numbers/messaging",
            id="phone_numbers.messaging.list",
        ),
        pytest.param(
            lambda c, f: c.mobile_phone_numbers.messaging.retrieve(
                f.mobile_phone_number_settings[0]["id"]
            ),
            "GET",
            "/mobile_phone_numbers/",
            id="mobile_phone_numbers.messaging.retrieve",
        ),
        pytest.param(
            lambda c, f: list(c.mobile_phone_numbers.messaging.list()),
            "GET",
            "/mobile_phone_numbers/messaging",
            id="mobile_phone_numbers.messaging.list",
        ),
        pytest.param(
            lambda c, f: c.messaging_numbers_bulk_updates.create(
                messaging_profile_id=PROFILE, numbers=[f.phone_number_settings[0]["phone_number"]]
            ),
            "POST",
            "/messaging_numbers_bulk_updates",
            id="bulk_updates.create",
        ),
        pytest.param(
            lambda c, f: c.messaging_numbers_bulk_updates.retrieve(
                c.messaging_numbers_bulk_updates.create(
                    messaging_profile_id=PROFILE, numbers=["+13125551002"]
                ).order_id
            ),
            "GET",
            "/messaging_numbers_bulk_updates/",
            id="bulk_updates.retrieve",
        ),
    ],
)
def test_every_sync_method_reaches_its_endpoint(
    sync_client: Client, threaded_fake: FakeTelnyx, call: Any, method: str, path: str
) -> None:
    """Each generated method sends its request and returns the model the fake answered with."""
    result = call(sync_client, threaded_fake)
    last = threaded_fake.requests[-1]
    assert last.method == method
    assert last.path.startswith(path)
    items = result if isinstance(result, list) else [result]
    assert items
    for item in items:
        assert item.raw  # a parsed model carrying the fake's answer


EXIT_SCRIPT = """
import asyncio, threading
from telnyx_messaging import Client
from telnyx_messaging.testing import FakeTelnyx

loop = asyncio.new_event_loop()
threading.Thread(target=loop.run_forever, daemon=True).start()
fake = FakeTelnyx()
asyncio.run_coroutine_threadsafe(fake.__aenter__(), loop).result()

client = Client(api_key=fake.api_key, base_url=fake.base_url)  # never closed
client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
print(len(fake.messages))
"""


def test_a_module_level_client_is_closed_cleanly_at_exit() -> None:
    """A script that never closes its client exits without unclosed-session warnings."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-W", "error::ResourceWarning", "-X", "dev", "-c", EXIT_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr
    assert "Unclosed" not in done.stderr
    assert "Exception ignored" not in done.stderr

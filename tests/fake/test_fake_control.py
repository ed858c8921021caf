"""The fake's control API (``/_fake/...``) and its clients, FakeTelnyxControl and the async one.

The first tests drive ``telnyx-messaging fake-server`` running as a real subprocess, as a test
suite beside a docker-compose fake would; the rest drive a FakeTelnyx in this process, to pin
each route's answers and refusals.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import aiohttp.web
import pytest

from telnyx_messaging import AsyncClient, Client, InvalidArgumentError, RateLimitError, webhooks
from telnyx_messaging._cli import fake_server as fake_server_cli
from telnyx_messaging._cli.main import build_parser
from telnyx_messaging.testing import (
    AsyncFakeTelnyxControl,
    DeliveryAttempt,
    FakeTelnyx,
    FakeTelnyxControl,
    RateLimits,
    RecordedRequest,
    Respond,
)

SENDER = "+18445550001"
KEY = "KEY_control_test"


class Hooks(ThreadingHTTPServer):
    """A webhook receiver on loopback, in a thread: works beside blocking and async tests."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def hooks() -> Iterator[Hooks]:
    server = Hooks()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fake_server(hooks: Hooks) -> Iterator[str]:
    """``telnyx-messaging fake-server`` in its own process; yields its base URL."""
    command = [sys.executable, "-m", "telnyx_messaging", "fake-server", "--port", "0"]
    command += ["--api-key", KEY, "--webhook-url", hooks.url, "--fail-delivery", "+13125550099"]
    process = subprocess.Popen(  # noqa: S603 - our own command line
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # "FakeTelnyx on http://127.0.0.1:PORT/v2; ..."
        assert first.startswith("FakeTelnyx on "), first + process.stderr.read()  # type: ignore[union-attr]
        yield first.split()[2].rstrip(";")
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.close()
        process.stderr.close()


@pytest.fixture
def control(fake_server: str, hooks: Hooks) -> FakeTelnyxControl:
    control = FakeTelnyxControl(fake_server, api_key=KEY)
    control.reset()
    hooks.bodies.clear()
    return control


def event_types(hooks: Hooks) -> list[str]:
    return sorted(body["data"].get("event_type", "link_clicked") for body in hooks.bodies)


def test_a_campaign_in_another_process_is_checked_through_the_control_api(
    fake_server: str, control: FakeTelnyxControl, hooks: Hooks
) -> None:
    """What the fake stored, delivered and was sent, read from another process."""
    recipients = [f"+1312555{n:04d}" for n in range(20)] + ["+13125550099"]
    with Client(api_key=KEY, base_url=fake_server) as client:
        sent = [client.messages.send(to=to, from_=SENDER, text="Hi") for to in recipients]
    control.deliveries_settled(timeout=30)

    messages = control.messages()
    assert sorted(messages) == sorted(message.id for message in sent)  # each created once
    statuses = {m["to"][0]["phone_number"]: m["to"][0]["status"] for m in messages.values()}
    assert statuses.pop("+13125550099") == "delivery_failed"  # --fail-delivery
    assert set(statuses.values()) == {"delivered"}
    posts = [r for r in control.requests() if (r.method, r.path) == ("POST", "/messages")]
    assert len(posts) == len(recipients)
    assert all(isinstance(r, RecordedRequest) and r.json["from"] == SENDER for r in posts)
    deliveries = control.deliveries()
    assert all(isinstance(d, DeliveryAttempt) and d.ok for d in deliveries)
    assert len(deliveries) == 2 * len(recipients) == len(hooks.bodies)
    assert control.message(sent[0].id) == messages[sent[0].id]
    assert control.message("no-such-id") is None


def test_receive_click_fail_and_advance_from_another_process(
    fake_server: str, control: FakeTelnyxControl, hooks: Hooks
) -> None:
    """receive, click_link, fail_delivery and advance act as FakeTelnyx's own methods do."""
    inbound = control.receive(from_="+13125550002", to=SENDER, text="Hello")
    control.fail_delivery("+13125550003", status="sending_failed")
    with Client(api_key=KEY, base_url=fake_server) as client:
        failed = client.messages.send(to="+13125550003", from_=SENDER, text="x")
        later = control.now() + timedelta(hours=1)
        scheduled = client.messages.send(to="+13125550004", from_=SENDER, text="y", send_at=later)
    control.deliveries_settled(timeout=30)
    control.click_link(failed.id, "https://example.com/a")
    control.deliveries_settled(timeout=30)
    assert control.message(scheduled.id)["to"][0]["status"] == "scheduled"  # type: ignore[index]

    control.advance(3600)
    control.deliveries_settled(timeout=30)
    assert control.message(scheduled.id)["to"][0]["status"] == "delivered"  # type: ignore[index]
    assert control.message(failed.id)["to"][0]["status"] == "sending_failed"  # type: ignore[index]
    assert control.message(inbound["id"])["direction"] == "inbound"  # type: ignore[index]
    assert event_types(hooks) == [
        "link_clicked",
        "message.finalized",
        "message.finalized",
        "message.received",
        "message.sent",
    ]
    for delivery in control.deliveries():  # each as posted, signed with the fake's key
        webhooks.verify(delivery.body, delivery.headers, public_key=control.public_key())


def test_reset_forgets_traffic_and_keeps_the_setup(
    fake_server: str, control: FakeTelnyxControl
) -> None:
    """After reset: no messages, requests or deliveries; --fail-delivery still holds."""
    with Client(api_key=KEY, base_url=fake_server) as client:
        client.messages.send(to="+13125550002", from_=SENDER, text="Hi")
    control.deliveries_settled(timeout=30)
    control.reset()
    assert (control.messages(), control.requests(), control.deliveries()) == ({}, [], [])
    with Client(api_key=KEY, base_url=fake_server) as client:
        failing = client.messages.send(to="+13125550099", from_=SENDER, text="Hi")
    control.deliveries_settled(timeout=30)
    assert control.message(failing.id)["to"][0]["status"] == "delivery_failed"  # type: ignore[index]


async def test_the_async_control_client_against_another_process(
    fake_server: str, hooks: Hooks
) -> None:
    """AsyncFakeTelnyxControl reads the same as the blocking one, awaited."""
    async with AsyncFakeTelnyxControl(fake_server, api_key=KEY) as control:
        await control.reset()
        async with AsyncClient(api_key=KEY, base_url=fake_server) as client:
            sent = await client.messages.send(to="+13125550002", from_=SENDER, text="Hi")
        await control.receive(from_="+13125550002", to=SENDER, text="Back")
        await control.fail_delivery("+13125550005")
        await control.advance(1)
        await control.deliveries_settled(timeout=30)
        assert set(await control.messages()) >= {sent.id}
        assert len(await control.messages()) == 2
        assert (await control.message(sent.id))["to"][0]["status"] == "delivered"  # type: ignore[index]
        assert await control.message("nope") is None
        assert len(await control.requests()) == 1
        assert {d.event_type for d in await control.deliveries()} == {
            "message.sent",
            "message.finalized",
            "message.received",
        }
        delivery = (await control.deliveries())[0]
        webhooks.verify(delivery.body, delivery.headers, public_key=await control.public_key())
        assert (await control.now()).tzinfo is not None
        await control.click_link(sent.id, "https://example.com")
        await control.deliveries_settled(timeout=30)


# --- routes and refusals, against a FakeTelnyx in this process


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelnyx]:
    async with FakeTelnyx() as server:
        yield server


async def raw(fake: FakeTelnyx, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    root = fake.base_url.removesuffix("/v2")
    headers = kwargs.pop("headers", {"Authorization": f"Bearer {fake.api_key}"})
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, root + path, **kwargs) as answer,
    ):
        assert answer.content_type == "application/json"
        return answer.status, await answer.json()


async def test_control_requests_are_not_api_traffic(fake: FakeTelnyx) -> None:
    """Control calls are not recorded in `requests`, and queued faults wait for API calls."""
    fake.fail_next(Respond(status=503))
    async with AsyncFakeTelnyxControl(fake.base_url, api_key=fake.api_key) as control:
        assert await control.messages() == {}
    assert fake.requests == []
    status, _ = await raw(fake, "GET", "/v2/messages/some-id")
    assert status == 503
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "detail"),
    [
        ("GET", "/_fake/nothing", None, 404, "control URL"),
        ("GET", "/_fake/deliveries/x", None, 404, "control URL"),
        ("DELETE", "/_fake/messages", None, 405, "use GET"),
        ("GET", "/_fake/reset", None, 405, "use POST"),
        ("POST", "/_fake/advance", {"seconds": -1}, 422, "only moves forward"),
        ("POST", "/_fake/advance", {"seconds": True}, 422, "'seconds' is required"),
        ("POST", "/_fake/advance", [1], 400, "JSON object"),
        ("POST", "/_fake/receive", {"from": "+13125550002", "to": "nope", "text": "x"}, 422, "to "),
        ("POST", "/_fake/receive", {"from": 1, "to": SENDER}, 422, "'from' is required"),
        (
            "POST",
            "/_fake/receive",
            {"from": "+13125550002", "to": SENDER, "media_urls": "x"},
            422,
            "media_urls",
        ),
        ("POST", "/_fake/fail_delivery", {"numbers": [1]}, 422, "list of phone numbers"),
        ("POST", "/_fake/fail_delivery", {"numbers": ["+1"], "status": "lost"}, 422, "status"),
        ("POST", "/_fake/click_link", {"message_id": "x", "url": "u"}, 422, "no outbound"),
        ("POST", "/_fake/deliveries_settled", {"timeout": "soon"}, 422, "'timeout'"),
    ],
)
async def test_control_refusals_are_telnyx_errors_that_say_why(
    fake: FakeTelnyx, method: str, path: str, body: Any, status: int, detail: str
) -> None:
    """A refused control call answers Telnyx's JSON error shape, naming what to fix."""
    code, answer = await raw(fake, method, path, json=body)
    assert code == status
    assert detail in answer["errors"][0]["detail"]


async def test_control_takes_the_fake_s_api_key(fake: FakeTelnyx) -> None:
    """Without the fake's key the control API answers 401, and the client says so."""
    status, answer = await raw(fake, "GET", "/_fake/messages", headers={})
    assert (status, answer["errors"][0]["code"]) == (401, "10009")
    async with AsyncFakeTelnyxControl(fake.base_url, api_key="KEY_wrong") as control:
        with pytest.raises(InvalidArgumentError, match="401 Authentication failed"):
            await control.messages()


async def test_deliveries_settled_times_out_as_timeout_error(fake: FakeTelnyx) -> None:
    """A settle that takes longer than its timeout raises TimeoutError in the caller."""

    async def hold(request: aiohttp.web.Request) -> aiohttp.web.Response:
        await asyncio.sleep(3600)  # a webhook receiver that never answers
        return aiohttp.web.Response()  # pragma: no cover

    slow = aiohttp.web.Application()
    slow.router.add_post("/slow", hold)
    runner = aiohttp.web.AppRunner(slow, shutdown_timeout=0.1)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with AsyncFakeTelnyxControl(fake.base_url, api_key=fake.api_key) as control:
            fake.messaging_profiles[
                fake.default_profile_id
            ].webhook_url = f"http://127.0.0.1:{port}/slow"
            await control.receive(from_="+13125550002", to=SENDER, text="hi")
            with pytest.raises(TimeoutError, match="still under way"):
                await control.deliveries_settled(timeout=0.2)
    finally:
        await fake.reset()
        await runner.cleanup()


async def test_a_client_with_no_fake_server_says_where_it_looked() -> None:
    """No fake-server at the URL: a ConnectionError naming it, from both clients."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v2"
    async with AsyncFakeTelnyxControl(url) as control:
        with pytest.raises(ConnectionError, match=r"no fake-server answering at .*/_fake/"):
            await control.reset()
    with pytest.raises(ConnectionError, match="is `telnyx-messaging fake-server` running"):
        FakeTelnyxControl(url).reset()


@pytest.mark.parametrize("url", ["127.0.0.1:8765", "", "ftp://x/v2"])
def test_the_base_url_must_be_the_fake_server_s(url: str) -> None:
    """A URL that is not http(s) is refused at once, with the form to use."""
    with pytest.raises(InvalidArgumentError, match=r"like 'http://127.0.0.1:8765/v2'"):
        FakeTelnyxControl(url)


@pytest.mark.parametrize("ident", ["", "a/b", 7])
def test_message_needs_an_id(ident: Any) -> None:
    """message() refuses an id that could not be one, before any request."""
    with pytest.raises(InvalidArgumentError, match="message_id must be"):
        FakeTelnyxControl().message(ident)


def test_the_blocking_client_reads_what_the_fake_holds(threaded_fake: FakeTelnyx) -> None:
    """FakeTelnyxControl against a fake in a loop thread: the same values FakeTelnyx holds."""
    control = FakeTelnyxControl(threaded_fake.base_url, api_key=threaded_fake.api_key)
    with Client(api_key=threaded_fake.api_key, base_url=threaded_fake.base_url) as client:
        sent = client.messages.send(to="+13125550002", from_=SENDER, text="Hi", idempotency_key="k")
    control.deliveries_settled()
    assert control.messages() == threaded_fake.messages
    (request,) = control.requests()
    assert request == threaded_fake.requests[0]
    assert request.idempotency_key == "k"
    assert request.query_dict == {}
    assert control.message(sent.id) == threaded_fake.messages[sent.id]
    assert control.deliveries() == threaded_fake.deliveries == []
    with pytest.raises(InvalidArgumentError, match="sending_failed"):
        control.fail_delivery("+13125550002", status="late")
    assert repr(control) == f"FakeTelnyxControl('{threaded_fake.base_url[:-2]}_fake/')"
    assert threaded_fake.api_key not in repr(control)


async def test_each_route_acts_on_the_fake_in_this_process(fake: FakeTelnyx) -> None:
    """advance, fail_delivery, message, deliveries and reset act on the FakeTelnyx itself."""
    hooks = Hooks()
    fake.messaging_profiles[fake.default_profile_id].webhook_url = hooks.url
    try:
        async with (
            AsyncFakeTelnyxControl(fake.base_url, api_key=fake.api_key) as control,
            AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
        ):
            await control.fail_delivery("+13125550009")
            assert fake.failing_numbers == {"+13125550009": "delivery_failed"}
            before = fake.now()
            await control.advance(90)
            assert fake.now() - before >= timedelta(seconds=90)
            sent = await client.messages.send(to="+13125550009", from_=SENDER, text="Hi")
            await control.deliveries_settled(timeout=30)
            assert (await control.message(sent.id)) == fake.messages[sent.id]
            assert await control.message("missing") is None
            assert await control.deliveries() == fake.deliveries
            assert [d.event_type for d in fake.deliveries] == ["message.sent", "message.finalized"]
            await control.reset()
            assert (fake.messages, fake.deliveries, fake.requests) == ({}, [], [])
            assert fake.failing_numbers == {"+13125550009": "delivery_failed"}  # kept
    finally:
        hooks.stop()


async def test_an_answer_that_is_not_the_fake_s_is_reported_with_its_body() -> None:
    """Something else on the port (a proxy's 502 page): an error quoting what came back."""

    async def bad_gateway(request: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.Response(status=502, text="Bad Gateway from the proxy")

    app = aiohttp.web.Application()
    app.router.add_route("*", "/{tail:.*}", bad_gateway)
    runner = aiohttp.web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await aiohttp.web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/v2"
    try:
        async with AsyncFakeTelnyxControl(url) as control:
            with pytest.raises(InvalidArgumentError, match=r"502 .*Bad Gateway from the proxy"):
                await control.reset()
            await control.aclose()  # a second close is harmless
        assert repr(control) == f"AsyncFakeTelnyxControl('{url[:-2]}_fake/')"
    finally:
        await runner.cleanup()


async def test_fake_server_flags_set_failing_numbers_and_pacing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--fail-delivery, --fail-sending, --send-seconds and --delivery-seconds reach the fake."""
    args = build_parser().parse_args(
        [
            "fake-server",
            "--port",
            "0",
            "--fail-delivery",
            "+13125550001",
            "--fail-sending",
            "+13125550002",
            "--send-seconds",
            "30",
            "--delivery-seconds",
            "1.5",
        ]
    )
    serving = asyncio.create_task(fake_server_cli.serve(args))
    out = ""
    while "control " not in out:
        await asyncio.sleep(0.01)
        out += capsys.readouterr().out
    try:
        url = out.split()[2].rstrip(";")
        assert f"control     {url.removesuffix('/v2')}/_fake/" in out
        async with AsyncFakeTelnyxControl(url) as control:
            async with AsyncClient(api_key="KEY_fake_test_key", base_url=url) as client:
                sent = await client.messages.send(to="+13125550002", from_=SENDER, text="x")
            await control.deliveries_settled(timeout=30)
            assert (await control.message(sent.id))["to"][0]["status"] == "queued"  # type: ignore[index]
            await control.advance(30)
            await control.deliveries_settled(timeout=30)
            assert (await control.message(sent.id))["to"][0]["status"] == "sending_failed"  # type: ignore[index]
        _, info = await raw_url(url, "GET", "/_fake/info")
        assert info["data"]["failing_numbers"] == {
            "+13125550001": "delivery_failed",
            "+13125550002": "sending_failed",
        }
    finally:
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving


async def raw_url(base_url: str, method: str, path: str) -> tuple[int, Any]:
    headers = {"Authorization": "Bearer KEY_fake_test_key"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, base_url.removesuffix("/v2") + path) as answer,
    ):
        return answer.status, await answer.json()


@pytest.mark.parametrize("bad", ["-1", "soon", "inf", "nan"])
def test_fake_server_seconds_must_be_a_number_of_seconds(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--send-seconds takes 0 or more seconds, and says so."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fake-server", "--send-seconds", bad])
    assert "must be a number of seconds, 0 or more" in capsys.readouterr().err


async def test_reset_forgets_the_rate_limit_windows_and_keeps_the_limits() -> None:
    """A send right after reset is not refused for the traffic before it; the limits hold."""
    async with (
        FakeTelnyx(rate_limits=RateLimits(account_per_second=1)) as fake,
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url, max_retries=0) as client,
    ):
        await client.messages.send(to="+13125550002", from_=SENDER, text="first")
        await fake.reset()
        await client.messages.send(to="+13125550002", from_=SENDER, text="after reset")
        assert fake.rate_limits == RateLimits(account_per_second=1)
        with pytest.raises(RateLimitError):
            await client.messages.send(to="+13125550002", from_=SENDER, text="third")

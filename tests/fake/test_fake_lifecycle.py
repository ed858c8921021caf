"""FakeTelnyx after the answer, over real HTTP: webhooks, failover, inbound, scheduling, limits.

The fake is driven with plain aiohttp (not the SDK's client) and its webhooks land on a real
loopback receiver built with ``webhooks.aiohttp_handler``, so each test checks the whole loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from telnyx_messaging import InvalidArgumentError, webhooks
from telnyx_messaging.testing import FakeTelnyx, MessagingProfile, RateLimits, WebhookSigner

SMS = {"from": "+18445550001", "to": "+13125550002", "text": "Hello, World!"}


class Receiver:
    """A loopback webhook endpoint: /hooks verifies with our handler; /status/<n> answers n."""

    def __init__(self, public_key: str) -> None:
        self.events: list[webhooks.WebhookEvent] = []
        self.hits: list[str] = []
        self.hang = asyncio.Event()
        app = web.Application()
        app.router.add_post("/hooks", self._verified(public_key))
        app.router.add_post("/status/{code}", self._status)
        app.router.add_post("/hang", self._hang)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        self.url = ""

    def _verified(self, public_key: str) -> Any:
        handler = webhooks.aiohttp_handler(self.events.append, public_key=public_key)

        async def handle(request: web.Request) -> web.StreamResponse:
            self.hits.append(request.path)
            return await handler(request)

        return handle

    async def _status(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return web.Response(status=int(request.match_info["code"]))

    async def _hang(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        await self.hang.wait()
        return web.Response()

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def close(self) -> None:
        self.hang.set()
        await self._runner.cleanup()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelnyx]:
    async with FakeTelnyx() as server:
        yield server


@pytest.fixture
async def receiver(fake: FakeTelnyx) -> AsyncIterator[Receiver]:
    hooks = Receiver(fake.public_key)
    await hooks.start()
    yield hooks
    await fake.close()  # stop deliveries before the receiver goes away
    await hooks.close()


@pytest.fixture
async def http(fake: FakeTelnyx) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {fake.api_key}"}) as s:
        yield s


async def post(
    http: aiohttp.ClientSession, fake: FakeTelnyx, path: str, body: Any
) -> tuple[int, Any, Any]:
    """POST JSON below /v2; (status, parsed body, headers)."""
    async with http.post(fake.base_url + path, json=body) as answer:
        return answer.status, await answer.json(), answer.headers


async def send(http: aiohttp.ClientSession, fake: FakeTelnyx, **changes: Any) -> dict[str, Any]:
    status, body, _ = await post(http, fake, "/messages", {**SMS, **changes})
    assert status == 200, body
    message: dict[str, Any] = body["data"]
    return message


async def until(condition: Any) -> None:
    """Wait for ``condition()`` to hold: the fake's work runs in tasks of this loop."""
    while not condition():  # noqa: ASYNC110 - the fake exposes state, not an event, to poll
        await asyncio.sleep(0.01)


def use_profile_hooks(fake: FakeTelnyx, url: str, failover: str | None = None) -> None:
    fake.messaging_profiles[fake.default_profile_id] = MessagingProfile(url, failover)


# --- delivery lifecycle


async def test_send_delivers_sent_then_finalized(
    fake: FakeTelnyx, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    """A send is followed by verified message.sent then message.finalized (delivered)."""
    use_profile_hooks(fake, receiver.url + "/hooks")
    message = await send(http, fake)
    assert message["to"][0]["status"] == "queued"

    await fake.deliveries_settled()

    assert [e.event_type for e in receiver.events] == ["message.sent", "message.finalized"]
    sent, finalized = receiver.events
    assert isinstance(sent, webhooks.DeliveryUpdate)
    assert isinstance(finalized, webhooks.DeliveryUpdate)
    assert sent.payload.id == finalized.payload.id == message["id"]
    assert sent.payload.to[0].status == "sent"
    assert finalized.payload.to[0].status == "delivered"
    assert fake.messages[message["id"]]["to"][0]["status"] == "delivered"
    assert fake.messages[message["id"]]["completed_at"] is not None
    first = fake.deliveries[0]
    assert (first.ok, first.attempt, first.url) == (True, 1, receiver.url + "/hooks")
    assert first.json["meta"] == {"attempt": 1, "delivered_to": receiver.url + "/hooks"}
    assert set(first.headers) >= {"telnyx-signature-ed25519", "telnyx-timestamp"}


async def test_message_webhook_url_comes_before_the_profile(
    fake: FakeTelnyx, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    """The message's own webhook_url is used first; use_profile_webhooks=false skips the profile."""
    use_profile_hooks(fake, receiver.url + "/status/500")
    await send(http, fake, webhook_url=receiver.url + "/hooks")
    await send(http, fake, webhook_url=receiver.url + "/status/503", use_profile_webhooks=False)
    await fake.deliveries_settled()

    urls = {(d.message_id, d.url) for d in fake.deliveries}
    assert {url for _, url in urls} == {receiver.url + "/hooks", receiver.url + "/status/503"}
    assert len(receiver.events) == 2


async def test_no_webhook_url_means_no_webhook(
    fake: FakeTelnyx, http: aiohttp.ClientSession
) -> None:
    """Without any webhook URL the message still moves to delivered, and nothing is posted."""
    message = await send(http, fake)
    await fake.deliveries_settled()
    assert fake.deliveries == []
    assert fake.messages[message["id"]]["to"][0]["status"] == "delivered"


@pytest.mark.parametrize(
    ("status", "events", "code"),
    [
        ("delivery_failed", ["message.sent", "message.finalized"], "40008"),
        ("sending_failed", ["message.finalized"], "40001"),
    ],
)
async def test_numbers_configured_to_fail(
    fake: FakeTelnyx,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    status: str,
    events: list[str],
    code: str,
) -> None:
    """A failing number ends in its failure status with Telnyx's error code in `errors`."""
    use_profile_hooks(fake, receiver.url + "/hooks")
    fake.fail_delivery("+13125550666", status=status)
    await send(http, fake, to="+13125550666")
    await fake.deliveries_settled()

    assert [e.event_type for e in receiver.events] == events
    final = receiver.events[-1]
    assert isinstance(final, webhooks.DeliveryUpdate)
    assert final.payload.to[0].status == status
    assert [error.code for error in final.payload.errors] == [code]


async def test_retries_three_times_then_fails_over(
    fake: FakeTelnyx, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    """A URL answering 500 gets 3 attempts, then webhook_failover_url gets the event."""
    await send(
        http,
        fake,
        webhook_url=receiver.url + "/status/500",
        webhook_failover_url=receiver.url + "/hooks",
    )
    await fake.deliveries_settled()

    sent = [d for d in fake.deliveries if d.event_type == "message.sent"]
    assert [(d.attempt, d.status, d.url.rsplit("/", 1)[-1]) for d in sent] == [
        (1, 500, "500"),
        (2, 500, "500"),
        (3, 500, "500"),
        (4, 200, "hooks"),
    ]
    assert len({d.event_id for d in sent}) == 1
    assert sent[-1].json["meta"] == {"attempt": 4, "delivered_to": receiver.url + "/hooks"}
    assert [e.event_type for e in receiver.events] == ["message.sent", "message.finalized"]


async def test_unreachable_url_fails_over(
    fake: FakeTelnyx, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    """A refused connection counts as a failed attempt with the reason recorded."""
    closed = Receiver(fake.public_key)
    await closed.start()
    dead_url = closed.url + "/hooks"
    await closed.close()
    use_profile_hooks(fake, dead_url, receiver.url + "/hooks")
    await send(http, fake)
    await fake.deliveries_settled()

    failed = [d for d in fake.deliveries if not d.ok]
    assert len(failed) == 6  # three per event, for sent and finalized
    assert all(d.status is None and d.error for d in failed)
    assert len(receiver.events) == 2


async def test_other_hosts_are_never_contacted(
    fake: FakeTelnyx, http: aiohttp.ClientSession
) -> None:
    """A webhook_url outside allowed_webhook_hosts is recorded as refused, never posted."""
    await send(http, fake, webhook_url="https://example.com/hooks")
    await fake.deliveries_settled()
    assert len(fake.deliveries) == 6
    assert all("allowed_webhook_hosts" in (d.error or "") for d in fake.deliveries)


async def test_a_redirect_to_a_forbidden_host_is_not_followed() -> None:
    """An allowed URL that redirects elsewhere: the fake does not follow, the body stays here."""
    leaked: list[bytes] = []

    async def redirect(request: web.Request) -> web.Response:
        # 307 keeps the method and body: a follower would POST the signed body to /leak.
        return web.Response(status=307, headers={"Location": leak_url})

    async def leak(request: web.Request) -> web.Response:
        leaked.append(await request.read())
        return web.Response()

    app = web.Application()
    app.router.add_post("/redirect", redirect)
    app.router.add_post("/leak", leak)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    # Only "localhost" is allowed: 127.0.0.1, the same server, stands for a forbidden host.
    leak_url = f"http://127.0.0.1:{port}/leak"
    try:
        async with (
            FakeTelnyx(allowed_webhook_hosts={"localhost"}) as fake,
            aiohttp.ClientSession(headers={"Authorization": f"Bearer {fake.api_key}"}) as http,
        ):
            await send(http, fake, webhook_url=f"http://localhost:{port}/redirect")
            await fake.deliveries_settled()
            assert leaked == []
            assert len(fake.deliveries) == 6  # each attempt failed, and was retried
            assert {d.status for d in fake.deliveries} == {307}
            assert not any(d.ok for d in fake.deliveries)
            assert all("redirect" in (d.error or "") for d in fake.deliveries)
    finally:
        await runner.cleanup()


async def test_slow_receiver_times_out() -> None:
    """A receiver that does not answer within webhook_timeout is a failed attempt."""
    async with FakeTelnyx(webhook_timeout=0.2) as fake:
        hooks = Receiver(fake.public_key)
        await hooks.start()
        try:
            fake.receive(from_="+13125550002", to="+18445550001", text="hi")
            fake.messaging_profiles[fake.default_profile_id].webhook_url = hooks.url + "/hang"
            fake.receive(from_="+13125550002", to="+18445550001", text="hi")
            await fake.deliveries_settled()
        finally:
            await fake.close()
            await hooks.close()
    assert [d.error for d in fake.deliveries] == ["no answer within 0.2 s"] * 3


async def test_a_slow_receiver_gets_duplicates() -> None:
    """A receiver that acts but answers after webhook_timeout sees the same event id again."""
    async with FakeTelnyx(webhook_timeout=0.3) as fake:
        seen: list[str] = []

        async def slow(request: web.Request) -> web.Response:
            seen.append((await request.json())["data"]["id"])
            await asyncio.sleep(0.6 if len(seen) == 1 else 0)
            return web.Response()

        app = web.Application()
        app.router.add_post("/slow", slow)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/slow"
            use_profile_hooks(fake, url)
            fake.receive(from_="+13125550002", to="+18445550001", text="hi")
            await fake.deliveries_settled()
        finally:
            await fake.close()
            await runner.cleanup()
    assert len(seen) == 2
    assert seen[0] == seen[1]
    assert [d.ok for d in fake.deliveries] == [False, True]


async def test_retry_waits_on_the_fake_clock() -> None:
    """With webhook_retry_wait the next attempt waits on the fake's clock; advance() skips it."""
    async with FakeTelnyx(webhook_retry_wait=600) as fake:
        hooks = Receiver(fake.public_key)
        await hooks.start()
        try:
            use_profile_hooks(fake, hooks.url + "/status/503")
            fake.receive(from_="+13125550002", to="+18445550001", text="hi")
            await until(lambda: fake.deliveries)
            await asyncio.sleep(0.05)
            assert len(fake.deliveries) == 1
            fake.advance(600)
            await until(lambda: len(fake.deliveries) >= 2)
            assert fake.deliveries[1].at - fake.deliveries[0].at >= timedelta(seconds=600)
        finally:
            await fake.close()
            await hooks.close()


async def test_deliveries_settled_can_give_up() -> None:
    """deliveries_settled(timeout=...) raises TimeoutError while a receiver still hangs."""
    async with FakeTelnyx(webhook_timeout=60) as fake:
        hooks = Receiver(fake.public_key)
        await hooks.start()
        try:
            use_profile_hooks(fake, hooks.url + "/hang")
            fake.receive(from_="+13125550002", to="+18445550001", text="hi")
            with pytest.raises(TimeoutError, match="still under way"):
                await fake.deliveries_settled(timeout=0.1)
        finally:
            await fake.close()
            await hooks.close()


async def test_close_stops_pending_deliveries() -> None:
    """close() ends deliveries under way and waits for no receiver."""
    fake = FakeTelnyx(webhook_timeout=60)
    await fake.start()
    hooks = Receiver(fake.public_key)
    await hooks.start()
    use_profile_hooks(fake, hooks.url + "/hang")
    fake.receive(from_="+13125550002", to="+18445550001", text="hi")
    await until(lambda: hooks.hits)
    await asyncio.wait_for(fake.close(), 5)
    await hooks.close()
    assert fake.deliveries == []


async def test_a_crash_in_the_fake_surfaces_in_deliveries_settled(
    fake: FakeTelnyx, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the fake's own background work is raised by deliveries_settled, not lost."""

    async def broken(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("bug in the fake")

    monkeypatch.setattr(fake._deliverer, "deliver", broken)
    await send(http, fake, webhook_url="http://127.0.0.1:9/hooks")
    with pytest.raises(RuntimeError, match="bug in the fake"):
        await fake.deliveries_settled()


# --- inbound and link clicks


async def test_receive_delivers_message_received(
    fake: FakeTelnyx, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    """receive() posts a verified message.received to the profile of the receiving number."""
    assert fake.failing_numbers == {}
    number = fake.phone_number_settings[1]
    fake.messaging_profiles[number["messaging_profile_id"]] = MessagingProfile(
        receiver.url + "/hooks"
    )
    payload = fake.receive(
        from_="+13125550002",
        to=number["phone_number"],
        text="STOP",
        media_urls=["https://example.com/cat.jpg"],
    )
    await fake.deliveries_settled()

    (event,) = receiver.events
    assert isinstance(event, webhooks.InboundMessage)
    assert event.payload.id == payload["id"]
    assert event.payload.text == "STOP"
    assert event.payload.direction == "inbound"
    assert event.payload.media[0].content_type == "image/jpeg"
    async with http.get(f"{fake.base_url}/messages/{payload['id']}") as answer:
        assert (await answer.json())["data"] == payload


async def test_link_click_goes_to_the_message_webhooks(
    fake: FakeTelnyx, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    """click_link() posts a link_clicked body (no envelope, no meta) to the message's URLs."""
    message = await send(http, fake, webhook_url=receiver.url + "/hooks")
    await fake.deliveries_settled()
    click = fake.click_link(message["id"], "https://telnyx.com")
    await fake.deliveries_settled()

    event = receiver.events[-1]
    assert isinstance(event, webhooks.ReplacedLinkClick)
    assert (event.message_id, event.url) == (message["id"], "https://telnyx.com")
    assert fake.deliveries[-1].json == {"data": click}
    assert fake.deliveries[-1].event_id is None


async def test_link_click_without_webhooks_posts_nothing(
    fake: FakeTelnyx, http: aiohttp.ClientSession
) -> None:
    """A click in a message with no webhook URL anywhere is returned but not posted."""
    message = await send(http, fake)
    click = fake.click_link(message["id"], "https://telnyx.com")
    await fake.deliveries_settled()
    assert click["message_id"] == message["id"]
    assert fake.deliveries == []


async def test_stop_blocks_sends_until_start(fake: FakeTelnyx, http: aiohttp.ClientSession) -> None:
    """An inbound STOP opts the sender out (409, error 40300) until they text START."""
    fake.receive(from_="+13125550002", to="+18445550001", text="please stop calling")
    assert (await post(http, fake, "/messages", SMS))[0] == 200

    fake.receive(from_="+13125550002", to="+18445550001", text="  Stop   All ")
    status, body, _ = await post(http, fake, "/messages", SMS)
    assert status == 409
    assert body["errors"][0]["code"] == "40300"
    assert body["errors"][0]["title"] == "Blocked due to STOP message"
    assert "'+18445550001' to '+13125550002'" in body["errors"][0]["detail"]
    other = {**SMS, "to": "+13125550003"}
    assert (await post(http, fake, "/messages", other))[0] == 200
    async with http.get(f"{fake.base_url}/messaging_optouts") as answer:
        newest = (await answer.json())["data"][0]
    assert (newest["from"], newest["to"], newest["keyword"]) == (
        "+18445550001",
        "+13125550002",
        "STOP ALL",
    )

    fake.receive(from_="+13125550002", to="+18445550001", text="STOP")  # already out
    fake.receive(from_="+13125550002", to="+18445550001", text="unstop")
    assert (await post(http, fake, "/messages", SMS))[0] == 200
    assert all(item["to"] != "+13125550002" for item in fake.optout_items)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"from_": "12", "to": "+18445550001", "text": "x"}, "from_ must be"),
        ({"from_": "+13125550002", "to": None, "text": "x"}, "to must be"),
        ({"from_": "+13125550002", "to": "+18445550001"}, "needs text or media_urls"),
    ],
)
async def test_receive_refuses_bad_arguments(
    fake: FakeTelnyx, kwargs: dict[str, Any], match: str
) -> None:
    """receive() says what to fix instead of delivering a nonsense message."""
    with pytest.raises(InvalidArgumentError, match=match):
        fake.receive(**kwargs)


async def test_refused_controls(fake: FakeTelnyx) -> None:
    """Clicking in an unknown message, an unknown failure status or going back in time raise."""
    with pytest.raises(InvalidArgumentError, match="no outbound message"):
        fake.click_link("nope", "https://telnyx.com")
    with pytest.raises(InvalidArgumentError, match="status must be one of"):
        fake.fail_delivery("+13125550002", status="lost")
    with pytest.raises(InvalidArgumentError, match="seconds >= 0"):
        fake.advance(-1)
    with pytest.raises(InvalidArgumentError, match="must be a RateLimits"):
        fake.rate_limits = 5  # type: ignore[assignment]
    with pytest.raises(InvalidArgumentError, match="whole number >= 1"):
        RateLimits(account_per_second=0)


# --- scheduling and the clock


async def test_scheduled_send_goes_out_at_send_at(
    fake: FakeTelnyx, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    """A scheduled message waits for send_at on the fake's clock, then runs its lifecycle."""
    use_profile_hooks(fake, receiver.url + "/hooks")
    send_at = (fake.now() + timedelta(hours=1)).isoformat()
    status, body, _ = await post(http, fake, "/messages/schedule", {**SMS, "send_at": send_at})
    assert (status, body["data"]["to"][0]["status"]) == (200, "scheduled")

    fake.advance(3590)
    await fake.deliveries_settled()
    assert receiver.events == []

    fake.advance(10)
    await fake.deliveries_settled()
    assert [e.event_type for e in receiver.events] == ["message.sent", "message.finalized"]
    assert fake.messages[body["data"]["id"]]["to"][0]["status"] == "delivered"


async def test_cancelled_schedule_never_sends(
    fake: FakeTelnyx, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    """A cancelled scheduled send is not sent; cancelling a sent message is Telnyx's 422."""
    use_profile_hooks(fake, receiver.url + "/hooks")
    later = (fake.now() + timedelta(minutes=10)).isoformat()
    _, first, _ = await post(http, fake, "/messages", {**SMS, "send_at": later})
    _, second, _ = await post(http, fake, "/messages", {**SMS, "send_at": later})
    async with http.delete(f"{fake.base_url}/messages/{first['data']['id']}") as answer:
        assert answer.status == 200

    fake.advance(600)
    await fake.deliveries_settled()
    assert {e.payload.id for e in receiver.events} == {second["data"]["id"]}  # type: ignore[union-attr]
    assert fake.messages[first["data"]["id"]]["to"][0]["status"] == "cancelled"
    async with http.delete(f"{fake.base_url}/messages/{second['data']['id']}") as answer:
        assert answer.status == 422
        assert (await answer.json())["errors"][0]["title"] == "Message not scheduled"


async def test_send_seconds_and_delivery_seconds_pace_the_lifecycle() -> None:
    """send_seconds keeps a message queued and delivery_seconds sent, until the clock moves."""
    async with (
        FakeTelnyx(send_seconds=30, delivery_seconds=60) as fake,
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {fake.api_key}"}) as http,
    ):
        message = await send(http, fake)
        await fake.deliveries_settled()
        status = lambda: fake.messages[message["id"]]["to"][0]["status"]  # noqa: E731
        assert status() == "queued"
        fake.advance(30)
        await fake.deliveries_settled(timeout=10)
        assert status() == "sent"
        fake.advance(60)
        await fake.deliveries_settled()
        assert status() == "delivered"
        async with http.delete(f"{fake.base_url}/messages/{message['id']}") as answer:
            assert answer.status == 422


@pytest.mark.parametrize("path", ["/messages", "/messages/schedule"])
@pytest.mark.parametrize(
    "later", [timedelta(days=-2000), timedelta(seconds=-1), timedelta(minutes=4, seconds=50)]
)
async def test_send_at_less_than_five_minutes_ahead_is_refused(
    fake: FakeTelnyx, http: aiohttp.ClientSession, path: str, later: timedelta
) -> None:
    """As Telnyx: send_at must be at least 5 minutes ahead; a past one is a 422, not a send."""
    send_at = (fake.now() + later).isoformat()
    status, body, _ = await post(http, fake, path, {**SMS, "send_at": send_at})
    assert status == 422
    (error,) = body["errors"]
    assert error["source"] == {"pointer": "/send_at"}
    assert "at least 5 minutes" in error["detail"]
    assert fake.messages == {}


async def test_send_at_five_minutes_ahead_is_scheduled_on_the_fake_s_clock(
    fake: FakeTelnyx, http: aiohttp.ClientSession
) -> None:
    """The 5 minutes count on the fake's clock, which advance() moves."""
    fake.advance(86400)
    message = await send(
        http, fake, send_at=(fake.now() + timedelta(minutes=5, seconds=5)).isoformat()
    )
    assert message["to"][0]["status"] == "scheduled"


# --- rate limits


async def test_rate_limits_per_sender_and_account() -> None:
    """Past the per-sender or account limit a send gets Telnyx's 429; the next window admits."""
    limits = RateLimits(account_per_second=3, per_sender_per_second=1)
    async with (
        FakeTelnyx(rate_limits=limits) as fake,
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {fake.api_key}"}) as http,
    ):
        status, _, headers = await post(http, fake, "/messages", SMS)
        assert status == 200
        assert (headers["x-ratelimit-limit"], headers["x-ratelimit-remaining"]) == ("1", "0")

        status, body, headers = await post(http, fake, "/messages", SMS)
        assert status == 429
        assert body == {
            "errors": [
                {
                    "code": "10011",
                    "title": "Too many requests",
                    "detail": "You have exceeded the maximum number of allowed requests.",
                }
            ]
        }
        assert headers["Retry-After"] == headers["x-ratelimit-reset"] == "1"
        assert headers["x-ratelimit-remaining"] == "0"

        assert (await post(http, fake, "/messages", {**SMS, "from": "+18445550002"}))[0] == 200
        assert (await post(http, fake, "/messages", {**SMS, "from": "+18445550003"}))[0] == 200
        status, _, headers = await post(http, fake, "/messages", {**SMS, "from": "+18445550004"})
        assert (status, headers["x-ratelimit-limit"]) == (429, "3")

        fake.advance(1)
        assert (await post(http, fake, "/messages", SMS))[0] == 200
        assert len(fake.messages) == 4


async def test_rate_limits_are_off_by_default_and_switchable(
    fake: FakeTelnyx, http: aiohttp.ClientSession
) -> None:
    """No limit by default and no x-ratelimit headers; assigning rate_limits switches them on."""
    for _ in range(5):
        status, _, headers = await post(http, fake, "/messages", SMS)
        assert status == 200
        assert "x-ratelimit-limit" not in headers
    assert fake.rate_limits == RateLimits()
    fake.rate_limits = RateLimits(per_sender_per_second=1)
    fake.advance(1)
    statuses = [(await post(http, fake, "/messages", SMS))[0] for _ in range(2)]
    assert statuses == [200, 429]


# --- request validation against the spec


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "pointer"),
    [
        ("/messages", {**SMS, "to": "3125550002"}, 422, "10016", "/to"),
        ("/messages", {**SMS, "to": "+1 312 555 0002"}, 422, "10016", "/to"),
        ("/messages", {**SMS, "text": 5}, 422, "10015", "/text"),
        ("/messages", {**SMS, "type": "FAX"}, 422, "10015", "/type"),
        ("/messages", {**SMS, "webhook_url": "not a url"}, 422, "10015", "/webhook_url"),
        ("/messages", {**SMS, "send_at": "tomorrow"}, 422, "10015", "/send_at"),
        ("/messages", {**SMS, "media_urls": ["ftp://x"]}, 422, "10015", "/media_urls/0"),
        ("/messages", {"from": "+18445550001", "text": "x"}, 422, "10004", "/to"),
        ("/messages/group_mms", {**SMS, "to": ["+13125550002", "x"]}, 422, "10016", "/to/1"),
        (
            "/messages/whatsapp",
            {"from": "+1", "to": "+13125550002"},
            422,
            "10004",
            "/whatsapp_message",
        ),
        ("/messaging_numbers_bulk_updates", {"numbers": []}, 422, "10004", "/messaging_profile_id"),
    ],
)
async def test_bad_requests_get_telnyx_errors(
    fake: FakeTelnyx,
    http: aiohttp.ClientSession,
    path: str,
    body: dict[str, Any],
    status: int,
    code: str,
    pointer: str,
) -> None:
    """A request the spec (or Telnyx's E.164 rule) refuses gets Telnyx's status and error."""
    got, answer, _ = await post(http, fake, path, body)
    (error,) = answer["errors"]
    assert (got, error["code"], error["source"]) == (status, code, {"pointer": pointer})
    assert error["title"]
    assert pointer.split("/")[1] in error["detail"]
    assert fake.messages == {}


@pytest.mark.parametrize(
    "query",
    ["filter[type]=landline", "sort[phone_number]=up", "page[size]=x", "page[number]=0"],
)
async def test_bad_query_parameters_are_400(
    fake: FakeTelnyx, http: aiohttp.ClientSession, query: str
) -> None:
    """A query parameter outside the spec's enum, type or range is a 400 naming it."""
    async with http.get(f"{fake.base_url}/phone_numbers/messaging?{query}") as answer:
        body = await answer.json()
    assert answer.status == 400
    assert body["errors"][0]["source"] == {"parameter": query.split("=")[0]}


async def test_short_codes_are_valid_recipients(
    fake: FakeTelnyx, http: aiohttp.ClientSession
) -> None:
    """`to` may be a short code, as the spec's description says."""
    assert (await send(http, fake, to="22395"))["to"][0]["phone_number"] == "22395"


async def test_signer_refuses_a_non_ascii_timestamp() -> None:
    """WebhookSigner.headers says the timestamp must be ASCII instead of a UnicodeEncodeError."""
    with pytest.raises(InvalidArgumentError, match="timestamp must be ASCII"):
        WebhookSigner().headers(b"{}", timestamp="\u0661\u0667" + "\u0660" * 8)


# --- deliveries_settled and the fake's clock


async def test_settled_does_not_wait_for_a_delivery_still_in_the_future() -> None:
    """deliveries_settled returns with delivery_seconds pending; advance() then finalizes."""
    async with (
        FakeTelnyx(delivery_seconds=3600) as fake,
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {fake.api_key}"}) as http,
    ):
        hooks = Receiver(fake.public_key)
        await hooks.start()
        use_profile_hooks(fake, hooks.url + "/hooks")
        try:
            message = await send(http, fake)
            await fake.deliveries_settled(timeout=10)
            assert [e.event_type for e in hooks.events] == ["message.sent"]
            assert fake.messages[message["id"]]["to"][0]["status"] == "sent"

            fake.advance(3600)
            await fake.deliveries_settled(timeout=10)
            assert [e.event_type for e in hooks.events] == ["message.sent", "message.finalized"]
            assert fake.messages[message["id"]]["to"][0]["status"] == "delivered"
        finally:
            await fake.close()
            await hooks.close()


async def test_settled_does_not_wait_for_a_retry_still_in_the_future() -> None:
    """deliveries_settled returns between webhook attempts a webhook_retry_wait apart."""
    async with FakeTelnyx(webhook_retry_wait=600) as fake:
        hooks = Receiver(fake.public_key)
        await hooks.start()
        use_profile_hooks(fake, hooks.url + "/status/500")
        try:
            fake.receive(from_="+13125550002", to="+18445550001", text="hi")
            await fake.deliveries_settled(timeout=10)
            assert hooks.hits == ["/status/500"]
            fake.advance(600)
            await fake.deliveries_settled(timeout=10)
            assert hooks.hits == ["/status/500"] * 2
        finally:
            await fake.close()
            await hooks.close()

"""The webhook gate's answers, metrics and log lines that mutation testing found unpinned.

Driven through the gate's public calls, as an adapter drives it (issue 24): what an operator
reads in the log (where, which code, the advice) and what a metrics hook receives are part of
the product. Pure: no sockets; the gate's clock is replaced where time matters.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import logging
import time
import tracemalloc
import types
import zlib
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

from telnyx_messaging import ConfigurationError, WebhookVerificationError, webhooks
from telnyx_messaging.testing._signer import WebhookSigner
from telnyx_messaging.webhooks import _policy
from telnyx_messaging.webhooks._signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    load_public_keys,
)

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
SIGNER = WebhookSigner(seed=b"\x09" * 32)
BODY = (EXAMPLES / "message.sent.json").read_bytes()


class FakeTime:
    """The gate's ``time`` module: a clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(
        _policy,
        "time",
        types.SimpleNamespace(monotonic=fake.monotonic, perf_counter=fake.perf_counter),
    )
    return fake


def make_gate(
    metrics: list[webhooks.WebhookMetric], on_event: Any = None, **kwargs: Any
) -> _policy.WebhookGate:
    receiver = webhooks.WebhookReceiver(
        public_key=SIGNER.public_key,
        on_event=on_event if on_event is not None else (lambda event: None),
        metrics=metrics.append,
        **kwargs,
    )
    return receiver.gate


def opened(gate: _policy.WebhookGate) -> _policy.VerifiedWebhook:
    webhook = gate.open(BODY, SIGNER.headers(BODY))
    assert isinstance(webhook, _policy.VerifiedWebhook)
    return webhook


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_only_a_503_asks_to_retry_later(caplog: pytest.LogCaptureFixture) -> None:
    """Retry-After goes with 503 alone; the log line names where, the status and the code."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert gate.refuse("bad_body", 400, "no\n  good") == _policy.Answer(400, "no\n  good")
        assert gate.refuse("closed", 503, "later", "/hooks") == _policy.Answer(
            503, "later", (("Retry-After", "1"),)
        )
    assert messages(caplog) == [
        "refused a webhook (400 bad_body): no good",
        "refused a webhook to /hooks (503 closed): later",
    ]
    assert [(m.name, m.reason) for m in metrics] == [("refused", "bad_body"), ("refused", "closed")]


def test_too_large_and_slow_bodies_are_answered_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """413 names the cap; 408 names the timeout and closes the connection."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics, max_body_size=100, body_timeout=2.5)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert gate.too_large() == _policy.Answer(
            413, "body is larger than 100 bytes; a Telnyx webhook is a few kilobytes"
        )
        gate.too_large("/a")
        assert gate.slow_body() == _policy.Answer(
            408,
            "the body did not arrive within 2.5s; a Telnyx webhook is a few kilobytes sent at once",
            (("Connection", "close"),),
        )
        gate.slow_body("/b")
    assert [m.reason for m in metrics] == ["too_large", "too_large", "body_timeout", "body_timeout"]
    lines = messages(caplog)
    assert lines[0].startswith("refused a webhook (413 too_large): ")
    assert lines[1].startswith("refused a webhook to /a (413 too_large): ")
    assert lines[2].startswith("refused a webhook (408 body_timeout): ")
    assert lines[3].startswith("refused a webhook to /b (408 body_timeout): ")


def test_disconnects_are_counted_each_and_logged_once_a_minute(
    clock: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    """Every disconnect is a metric; the log says how many, at most every 60 s."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        answer = gate.disconnected("/hooks")
        clock.now += 10
        gate.disconnected("/hooks")
        gate.disconnected()
        clock.now += 50  # 60 s after the first report: the next one is due
        gate.disconnected()
        clock.now += 59.5
        gate.disconnected()
        clock.now += 0.5
        gate.disconnected()
    assert answer == _policy.Answer(
        400, "the body ended before its Content-Length", (("Connection", "close"),)
    )
    assert [(m.name, m.reason) for m in metrics] == [("refused", "disconnected")] * 6
    tail = " ended before the whole body arrived: the client disconnected (next report in 60s"
    assert messages(caplog) == [
        f"1 webhook request to /hooks{tail} at the earliest)",
        f"3 webhook requests{tail} at the earliest)",
        f"2 webhook requests{tail} at the earliest)",
    ]


class AsyncCallable:
    async def __call__(self, event: object) -> None:
        return None


class AsyncGuard:
    async def claim(self, key: str) -> str:
        return "new"

    def complete(self, key: str) -> None:
        return None

    def release(self, key: str) -> None:
        return None


def test_a_wsgi_server_refuses_what_it_cannot_await() -> None:
    """Each refusal says what to use instead; an object with an async __call__ counts."""
    gate = make_gate([], acknowledge="on_receipt")
    with pytest.raises(ConfigurationError) as caught:
        gate.require_sync()
    assert str(caught.value) == (
        "acknowledge='on_receipt' needs an event loop to run on_event in the background "
        "(aiohttp, or an ASGI server); under WSGI use handoff= with a durable queue (Celery, "
        "RQ, SQS...) to answer fast"
    )
    with pytest.raises(ConfigurationError) as caught:
        make_gate([], on_event=AsyncCallable()).require_sync()
    assert str(caught.value) == (
        "a WSGI server cannot await an async on_event/handoff: pass a plain function"
    )
    with pytest.raises(ConfigurationError) as caught:
        make_gate([], duplicates=AsyncGuard()).require_sync()
    assert str(caught.value) == (
        "a WSGI server cannot await an async duplicate guard: give it plain methods"
    )
    make_gate([]).require_sync()  # plain function, plain guard: fine


def test_a_failing_callback_under_wsgi_is_reported_and_answered_500(
    clock: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    """The failure's type, time, event and key reach the metrics and the log; Telnyx gets 500."""

    def on_event(event: object) -> None:
        clock.now += 0.25
        raise ValueError("secret detail")

    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics, on_event=on_event)
    webhook = opened(gate)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert gate.dispatch_sync(webhook) == _policy.Answer(500, "webhook processing failed")
    failed = [m for m in metrics if m.name == "failed"]
    assert failed == [
        webhooks.WebhookMetric(
            name="failed",
            reason="ValueError",
            seconds=0.25,
            event_type="message.sent",
            key=webhook.key,
        )
    ]
    assert messages(caplog) == [
        f"webhook callback failed on message.sent {webhook.key} (ValueError)"
    ]
    # Released, not remembered: the retry is handled.
    assert gate.dispatch_sync(webhook) == _policy.Answer(500, "webhook processing failed")


def test_an_awaitable_under_wsgi_is_a_configuration_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An async on_event slipped past require_sync fails the request, saying why."""

    async def on_event(event: object) -> None:
        return None

    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics, on_event=on_event)
    with caplog.at_level(logging.ERROR, logger="telnyx_messaging"):
        assert gate.dispatch_sync(opened(gate)).status == 500
    assert [m.reason for m in metrics if m.name == "failed"] == ["ConfigurationError"]
    (record,) = caplog.records
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "on_event/handoff returned an awaitable under WSGI"


def test_a_slow_callback_under_wsgi_is_logged_with_advice(
    clock: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    """Past Telnyx's 2 s window the log says the event comes again and what to use instead."""

    def on_event(event: object) -> None:
        clock.now += 2.5

    gate = make_gate([], handoff=None, on_event=on_event)
    webhook = opened(gate)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert gate.dispatch_sync(webhook) == _policy.Answer(200)
    assert messages(caplog) == [
        f"webhook callback for message.sent {webhook.key} took 2.5s, beyond Telnyx's ~2s "
        "window: Telnyx will deliver it again; use acknowledge='on_receipt' or handoff= for "
        "slow work"
    ]


class BrokenGuard:
    def __init__(self, claim: Exception | None = None) -> None:
        self._claim = claim

    def claim(self, key: str) -> str:
        if self._claim is not None:
            raise self._claim
        return "new"

    def complete(self, key: str) -> None:
        raise RuntimeError("down")

    def release(self, key: str) -> None:
        raise OSError("down")


def test_a_guard_that_fails_is_answered_503_and_logged_with_its_cost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Claim failures ask Telnyx to retry; settle failures say what they cost."""
    metrics: list[webhooks.WebhookMetric] = []
    down = make_gate(metrics, duplicates=BrokenGuard(claim=ConnectionError("x")))
    full = make_gate(
        metrics, duplicates=BrokenGuard(claim=webhooks.DuplicateGuardFullError("it is full"))
    )
    ok = make_gate(metrics, duplicates=BrokenGuard())

    def fail(event: object) -> None:
        raise KeyError("x")

    failing = make_gate(metrics, on_event=fail, duplicates=BrokenGuard())
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert down.dispatch_sync(opened(down), "/d") == _policy.Answer(
            503,
            "the duplicate guard failed (ConnectionError); retry later",
            (("Retry-After", "1"),),
        )
        assert full.dispatch_sync(opened(full), "/f") == _policy.Answer(
            503, "it is full; retry later", (("Retry-After", "1"),)
        )
        webhook = opened(ok)
        assert ok.dispatch_sync(webhook) == _policy.Answer(200)
        assert failing.dispatch_sync(opened(failing)).status == 500
    refused = [m.reason for m in metrics if m.name == "refused"]
    assert refused == ["guard_unavailable", "guard_full"]
    lines = messages(caplog)
    assert lines[0] == (
        "refused a webhook to /d (503 guard_unavailable): the duplicate guard failed "
        "(ConnectionError); retry later"
    )
    assert lines[1] == "refused a webhook to /f (503 guard_full): it is full; retry later"
    assert lines[2] == (
        f"the duplicate guard could not complete event {webhook.key} (RuntimeError): a "
        "redelivery of it will be handled again"
    )
    assert lines[-1] == (
        f"the duplicate guard could not release event {webhook.key} (OSError): its "
        "redeliveries are refused until the guard forgets it"
    )


def test_a_closed_gate_under_wsgi_names_the_route(caplog: pytest.LogCaptureFixture) -> None:
    """Shutting down: 503 with Retry-After, logged against the route."""
    gate = make_gate([])
    webhook = opened(gate)
    gate.close()
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert gate.dispatch_sync(webhook, "/hooks") == _policy.Answer(
            503, "shutting down; retry later", (("Retry-After", "1"),)
        )
    assert messages(caplog) == [
        "refused a webhook to /hooks (503 closed): shutting down; retry later"
    ]


def test_a_callback_of_exactly_two_seconds_is_within_the_window(
    clock: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    """'Beyond' the ~2 s window means longer than 2 s: exactly 2 s logs nothing."""

    def on_event(event: object) -> None:
        clock.now += 2.0

    gate = make_gate([], on_event=on_event)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert gate.dispatch_sync(opened(gate)) == _policy.Answer(200)
    assert messages(caplog) == []


def test_without_a_route_the_log_line_names_none(caplog: pytest.LogCaptureFixture) -> None:
    """dispatch_sync and claim_sync called without where= log no route."""
    gate = make_gate([], duplicates=BrokenGuard(claim=ConnectionError("x")))
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert gate.dispatch_sync(opened(gate)).status == 503
        assert gate.claim_sync(opened(gate)) is not None
    assert [line.split(":")[0] for line in messages(caplog)] == [
        "refused a webhook (503 guard_unavailable)"
    ] * 2


# -- the request line and headers: head() ----------------------------------------------------


def test_head_lets_a_post_within_the_cap_through(caplog: pytest.LogCaptureFixture) -> None:
    """No length, a length up to the cap, and no or a known encoding, in any case: no answer."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics, max_body_size=100)
    with caplog.at_level(logging.DEBUG, logger="telnyx_messaging"):
        assert gate.head("POST", None) is None
        assert gate.head("POST", "") is None
        assert gate.head("POST", " 100 ") is None
        for encoding in (None, "", " identity ", "GZIP", " Deflate "):
            assert gate.head("POST", "10", encoding) is None
    assert metrics == []
    assert messages(caplog) == []


def test_head_refuses_with_a_status_a_reason_and_one_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Method, encoding and length are refused before the body; the reason quotes a short cut."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics, max_body_size=100)
    allow = (("Allow", "POST"),)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert gate.head("GET", None) == _policy.Answer(405, "'GET' is not allowed: POST", allow)
        # Methods are case-sensitive (RFC 9110 9.1).
        assert gate.head("post", "10", None, "/hooks") == _policy.Answer(
            405, "'post' is not allowed: POST", allow
        )
        assert gate.head("M" * 20, None) == _policy.Answer(
            405, f"{'M' * 16!r} is not allowed: POST", allow
        )
        assert gate.head("POST", "10", " BR ", "/hooks") == _policy.Answer(
            415, "Content-Encoding 'br' is not supported: send the body as is, or gzip/deflate"
        )
        assert gate.head("POST", "10", "e" * 30) == _policy.Answer(
            415,
            f"Content-Encoding {'e' * 24!r} is not supported: send the body as is, or gzip/deflate",
        )
        assert gate.head("POST", "12a", None, "/hooks") == _policy.Answer(
            400, "Content-Length '12a' is not a number"
        )
        # Digits, but not ASCII ones: no HTTP parser reads them as a length.
        assert gate.head("POST", "\u0661\u0662") == _policy.Answer(
            400, "Content-Length '\u0661\u0662' is not a number"
        )
        assert gate.head("POST", "-1") == _policy.Answer(400, "Content-Length '-1' is not a number")
        assert gate.head("POST", "x" * 30) == _policy.Answer(
            400, f"Content-Length {'x' * 24!r} is not a number"
        )
        assert gate.head("POST", "101", None, "/hooks") == _policy.Answer(
            413, "body is larger than 100 bytes; a Telnyx webhook is a few kilobytes"
        )
    assert [m.reason for m in metrics] == [
        *["method"] * 3,
        *["bad_encoding"] * 2,
        *["bad_length"] * 4,
        "too_large",
    ]
    assert [line.split(":")[0] for line in messages(caplog)] == [
        "refused a webhook (405 method)",
        "refused a webhook to /hooks (405 method)",
        "refused a webhook (405 method)",
        "refused a webhook to /hooks (415 bad_encoding)",
        "refused a webhook (415 bad_encoding)",
        "refused a webhook to /hooks (400 bad_length)",
        "refused a webhook (400 bad_length)",
        "refused a webhook (400 bad_length)",
        "refused a webhook (400 bad_length)",
        "refused a webhook to /hooks (413 too_large)",
    ]


# -- the body: open() ------------------------------------------------------------------------


def test_open_gives_the_body_as_signed_the_two_headers_the_key_and_the_event() -> None:
    """What a handoff stores: the exact bytes, only the signature headers, the event's key."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics)
    signed = SIGNER.headers(BODY)
    webhook = gate.open(BODY, {**signed, "Content-Type": "application/json", "X-Other": "1"})
    event = webhooks.parse(BODY)
    key = webhooks.duplicate_key(event)
    assert webhook == _policy.VerifiedWebhook(body=BODY, headers=signed, key=key, event=event)
    assert metrics == [webhooks.WebhookMetric(name="verified", event_type="message.sent", key=key)]


def test_a_link_click_is_reported_by_its_record_type() -> None:
    """Telnyx sends link clicks without an event_type: metrics name them by record_type."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics)
    body = (EXAMPLES / "replaced-link-click.json").read_bytes()
    webhook = gate.open(body, SIGNER.headers(body))
    assert isinstance(webhook, _policy.VerifiedWebhook)
    assert [(m.name, m.event_type) for m in metrics] == [("verified", "link_clicked")]


def raw_deflate(data: bytes) -> bytes:
    squeezer = zlib.compressobj(wbits=-15)
    return squeezer.compress(data) + squeezer.flush()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        (None, bytes),
        ("", bytes),
        (" Identity ", bytes),
        ("gzip", gzip.compress),
        (" GZIP ", gzip.compress),
        ("deflate", zlib.compress),  # the zlib wrapper, as RFC 9110 says
        ("Deflate", raw_deflate),  # what some clients send as "deflate"
    ],
)
def test_open_undoes_the_encoding_before_checking_the_signature(
    encoding: str | None, encode: Any
) -> None:
    """The signature is over the body as sent before compression."""
    gate = make_gate([])
    webhook = gate.open(encode(BODY), SIGNER.headers(BODY), encoding)
    assert isinstance(webhook, _policy.VerifiedWebhook)
    assert webhook.body == BODY


@pytest.mark.parametrize(
    ("encoding", "raw"),
    [
        ("gzip", zlib.compress(BODY)),  # a zlib stream is not gzip
        ("gzip", gzip.compress(BODY)[:-12]),  # cut short
        ("gzip", gzip.compress(BODY) + b"junk"),  # something after the end
        ("deflate", zlib.compress(BODY) + b"junk"),
        ("deflate", b"not compressed"),
    ],
)
def test_open_refuses_a_body_that_is_not_what_its_encoding_says(
    caplog: pytest.LogCaptureFixture, encoding: str, raw: bytes
) -> None:
    """400, not 401: the body is broken, whatever its signature."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        answer = gate.open(raw, SIGNER.headers(BODY), encoding, "/hooks")
    reason = f"body is not valid {encoding} data, as its Content-Encoding says"
    assert answer == _policy.Answer(400, reason)
    assert [m.reason for m in metrics] == ["bad_encoding"]
    assert messages(caplog) == [f"refused a webhook to /hooks (400 bad_encoding): {reason}"]


def test_the_size_cap_holds_as_sent_and_as_inflated(caplog: pytest.LogCaptureFixture) -> None:
    """A body of exactly max_body_size bytes passes, sent plain or compressed; one more does not."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics, max_body_size=len(BODY))
    headers = SIGNER.headers(BODY)
    assert isinstance(gate.open(BODY, headers), _policy.VerifiedWebhook)
    assert isinstance(gate.open(gzip.compress(BODY), headers, "gzip"), _policy.VerifiedWebhook)
    too_large = _policy.Answer(
        413, f"body is larger than {len(BODY)} bytes; a Telnyx webhook is a few kilobytes"
    )
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert gate.open(BODY + b" ", headers, None, "/plain") == too_large
        assert gate.open(gzip.compress(BODY + b" "), headers, "gzip", "/gzip") == too_large
    assert [m.reason for m in metrics if m.name == "refused"] == ["too_large"] * 2
    assert [line.split(":")[0] for line in messages(caplog)] == [
        "refused a webhook to /plain (413 too_large)",
        "refused a webhook to /gzip (413 too_large)",
    ]


def test_a_gzip_bomb_is_inflated_only_up_to_the_cap() -> None:
    """50 MB of zeros in a small gzip: refused having inflated about the cap, not all of it."""
    bomb = gzip.compress(b"0" * 50_000_000, compresslevel=9)
    gate = make_gate([], max_body_size=len(bomb))
    tracemalloc.start()
    try:
        answer = gate.open(bomb, SIGNER.headers(b""), "gzip")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(answer, _policy.Answer)
    assert answer.status == 413
    assert peak < 5_000_000


def test_open_refuses_what_fails_verification_with_401(caplog: pytest.LogCaptureFixture) -> None:
    """The verification's own reason and code, against the route; an old timestamp is stale."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics)
    forged = WebhookSigner(seed=b"\x0a" * 32).headers(BODY)
    with pytest.raises(WebhookVerificationError) as expected:
        webhooks.verify(BODY, forged, public_key=SIGNER.public_key)
    stale = SIGNER.headers(BODY, timestamp=int(time.time()) - 400)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert gate.open(BODY, forged, None, "/hooks") == _policy.Answer(401, expected.value.reason)
        answer = gate.open(BODY, stale)
    assert isinstance(answer, _policy.Answer)
    assert answer.status == 401
    assert [m.reason for m in metrics] == ["signature_mismatch", "stale"]
    assert [line.split(":")[0] for line in messages(caplog)] == [
        "refused a webhook to /hooks (401 signature_mismatch)",
        "refused a webhook (401 stale)",
    ]
    # tolerance=None (stored webhooks) takes the same old timestamp.
    assert isinstance(make_gate([], tolerance=None).open(BODY, stale), _policy.VerifiedWebhook)


def test_a_verified_body_that_is_no_webhook_is_unreadable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Signed by Telnyx's key but not an event: 400 with the parser's reason."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics)
    body = b'{"no": "data"}'
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        answer = gate.open(body, SIGNER.headers(body), None, "/hooks")
    assert answer == _policy.Answer(400, 'webhook body has no "data" object')
    assert [m.reason for m in metrics] == ["unreadable"]
    assert messages(caplog) == [
        'refused a webhook to /hooks (400 unreadable): webhook body has no "data" object'
    ]


# -- repeated signature headers, whatever the server did with them -----------------------------


def test_a_header_repeated_with_one_value_passes_and_with_two_is_refused() -> None:
    """aiohttp keeps each copy, WSGI joins them with commas: both get the same answer."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics)
    signed = SIGNER.headers(BODY)
    signature, stamp = signed[SIGNATURE_HEADER], signed[TIMESTAMP_HEADER]
    other = WebhookSigner(seed=b"\x0a" * 32).signature(BODY, stamp)

    def repeated(name: str) -> str:
        return (
            f"the {name} header was sent more than once with different values: send it once, "
            "as Telnyx does"
        )

    kept = CIMultiDict([(SIGNATURE_HEADER, signature), (SIGNATURE_HEADER, signature)])
    kept.add(TIMESTAMP_HEADER, stamp)
    webhook = gate.open(BODY, kept)
    assert isinstance(webhook, _policy.VerifiedWebhook)
    assert webhook.headers == signed
    joined = {SIGNATURE_HEADER: f"{signature}, {signature}", TIMESTAMP_HEADER: stamp}
    assert isinstance(gate.open(BODY, joined), _policy.VerifiedWebhook)

    two = CIMultiDict([(SIGNATURE_HEADER, signature), (SIGNATURE_HEADER, other)])
    two.add(TIMESTAMP_HEADER, stamp)
    assert gate.open(BODY, two) == _policy.Answer(401, repeated(SIGNATURE_HEADER))
    assert gate.open(
        BODY, {SIGNATURE_HEADER: f"{signature},{other}", TIMESTAMP_HEADER: stamp}
    ) == _policy.Answer(401, repeated(SIGNATURE_HEADER))
    stamps = CIMultiDict([(SIGNATURE_HEADER, signature), (TIMESTAMP_HEADER, stamp)])
    stamps.add(TIMESTAMP_HEADER, "1")
    assert gate.open(BODY, stamps) == _policy.Answer(401, repeated(TIMESTAMP_HEADER))
    # Checked header by header: a conflicting timestamp is named even without a signature.
    assert gate.open(BODY, {TIMESTAMP_HEADER: f"{stamp},1"}) == _policy.Answer(
        401, repeated(TIMESTAMP_HEADER)
    )
    assert [m.reason for m in metrics if m.name == "refused"] == ["repeated_header"] * 4


def test_a_missing_header_is_named_whatever_the_headers_object() -> None:
    """A multidict (getall) and a plain mapping without the signature: 401 missing_header."""
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics)
    stamp = SIGNER.headers(BODY)[TIMESTAMP_HEADER]
    for headers in (CIMultiDict([(TIMESTAMP_HEADER, stamp)]), {TIMESTAMP_HEADER: stamp}):
        answer = gate.open(BODY, headers)
        assert isinstance(answer, _policy.Answer)
        assert answer.status == 401
        assert answer.text.startswith(f"missing header {SIGNATURE_HEADER}: ")
    assert [m.reason for m in metrics] == ["missing_header"] * 2


# -- reporting: emit() and answered() -----------------------------------------------------------


def test_a_metrics_hook_that_raises_is_logged_once_and_receiving_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The hook still gets every metric; the log says so once, by the exception's type."""
    seen: list[webhooks.WebhookMetric] = []

    def broken(metric: webhooks.WebhookMetric) -> None:
        seen.append(metric)
        raise ValueError("hook detail")

    gate = bare_gate(metrics=broken)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert isinstance(gate.open(BODY, SIGNER.headers(BODY)), _policy.VerifiedWebhook)
        assert gate.head("GET", None) is not None
    assert [(m.name, m.reason) for m in seen] == [("verified", None), ("refused", "method")]
    assert messages(caplog) == [
        "webhook metrics hook raised ValueError; ignoring it",
        "refused a webhook (405 method): 'GET' is not allowed: POST",
    ]


def test_without_a_metrics_hook_nothing_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    gate = bare_gate(metrics=None)
    with caplog.at_level(logging.DEBUG, logger="telnyx_messaging"):
        assert isinstance(gate.open(BODY, SIGNER.headers(BODY)), _policy.VerifiedWebhook)
        assert gate.answered(_policy.Answer(200), 0.0) == _policy.Answer(200)
    assert messages(caplog) == []


def test_answered_reports_the_status_and_the_time_to_acknowledge(clock: FakeTime) -> None:
    metrics: list[webhooks.WebhookMetric] = []
    gate = make_gate(metrics)
    started = clock.now
    clock.now += 0.75
    answer = _policy.Answer(204, "x", (("A", "b"),))
    assert gate.answered(answer, started) is answer
    assert metrics == [webhooks.WebhookMetric(name="answered", status=204, seconds=0.75)]


# -- after verification: dispatch(), claim(), handle(), settle() --------------------------------


def bare_gate(
    *,
    metrics: Any = None,
    guard: Any = None,
    on_event: Any = None,
    enqueue: Any = None,
    acknowledge: _policy.Acknowledge = "after_callback",
) -> _policy.WebhookGate:
    """A gate built by hand: no metrics hook at all, or an ``on_receipt`` queue the test holds."""
    return _policy.WebhookGate(
        keys=load_public_keys(SIGNER.public_key),
        tolerance=300,
        max_body_size=64 * 1024,
        guard=guard,
        function=on_event if on_event is not None else (lambda event: None),
        handoff=False,
        acknowledge=acknowledge,
        metrics=metrics,
        enqueue=enqueue if enqueue is not None else (lambda webhook: False),
        queue_size=7,
        body_timeout=10.0,
    )


class RecordingGuard:
    """An async duplicate guard that records, after its own await, what the gate asked."""

    def __init__(self, answer: str = "new", fail: Exception | None = None) -> None:
        self.answer = answer
        self.fail = fail
        self.calls: list[tuple[str, str]] = []
        self.hold: asyncio.Event | None = None

    async def _record(self, name: str, key: str) -> None:
        await asyncio.sleep(0)
        if name == "claim" and self.hold is not None:
            await self.hold.wait()
        self.calls.append((name, key))
        if self.fail is not None:
            raise self.fail

    async def claim(self, key: str) -> str:
        await self._record("claim", key)
        return self.answer

    async def complete(self, key: str) -> None:
        await self._record("complete", key)

    async def release(self, key: str) -> None:
        await self._record("release", key)


async def test_dispatch_hands_the_event_over_once_and_tells_the_guard() -> None:
    """200 after on_event; a redelivery found done is 200 unhandled, one in progress is 503."""
    metrics: list[webhooks.WebhookMetric] = []
    events: list[object] = []
    guard = RecordingGuard()

    async def on_event(event: object) -> None:
        await asyncio.sleep(0)
        events.append(event)

    gate = make_gate(metrics, on_event=on_event, duplicates=guard)
    webhook = opened(gate)
    assert await gate.dispatch(webhook) == _policy.Answer(200)
    assert events == [webhook.event]
    assert guard.calls == [("claim", webhook.key), ("complete", webhook.key)]
    guard.answer = "done"
    assert await gate.dispatch(webhook) == _policy.Answer(200, "duplicate: already handled")
    guard.answer = "processing"
    assert await gate.dispatch(webhook) == _policy.Answer(
        503, "duplicate: still being handled; retry later", (("Retry-After", "1"),)
    )
    assert events == [webhook.event]
    assert [m for m in metrics if m.name == "duplicate"] == [
        webhooks.WebhookMetric(
            name="duplicate", reason=reason, event_type="message.sent", key=webhook.key
        )
        for reason in ("done", "processing")
    ]
    # A refusal from open() passes straight through.
    refused = _policy.Answer(401, "no")
    assert await gate.dispatch(refused) is refused


async def test_without_a_guard_every_delivery_is_handled() -> None:
    events: list[object] = []
    gate = make_gate([], on_event=events.append, duplicates=None)
    webhook = opened(gate)
    assert await gate.dispatch(webhook) == _policy.Answer(200)
    assert await gate.dispatch(webhook) == _policy.Answer(200)
    assert events == [webhook.event] * 2


async def test_a_failing_callback_is_answered_500_reported_and_released(
    clock: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    """The event is released so Telnyx's retry runs it; the log names it, never the message."""
    metrics: list[webhooks.WebhookMetric] = []
    guard = RecordingGuard()

    async def on_event(event: object) -> None:
        clock.now += 0.5
        raise KeyError("secret")

    gate = make_gate(metrics, on_event=on_event, duplicates=guard)
    webhook = opened(gate)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert await gate.dispatch(webhook) == _policy.Answer(500, "webhook processing failed")
    assert guard.calls == [("claim", webhook.key), ("release", webhook.key)]
    assert [m for m in metrics if m.name == "failed"] == [
        webhooks.WebhookMetric(
            name="failed",
            reason="KeyError",
            seconds=0.5,
            event_type="message.sent",
            key=webhook.key,
        )
    ]
    assert messages(caplog) == [f"webhook callback failed on message.sent {webhook.key} (KeyError)"]


async def test_a_handoff_gets_the_verified_webhook_and_its_failure_says_hand_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    received: list[object] = []

    async def handoff(webhook: webhooks.VerifiedWebhook) -> None:
        received.append(webhook)
        if len(received) > 1:
            raise OSError("queue down")

    gate = webhooks.WebhookReceiver(public_key=SIGNER.public_key, handoff=handoff).gate
    webhook = opened(gate)
    assert await gate.dispatch(webhook) == _policy.Answer(200)
    assert received == [webhook]
    other_body = (EXAMPLES / "message.finalized.json").read_bytes()
    other = gate.open(other_body, SIGNER.headers(other_body))
    assert isinstance(other, _policy.VerifiedWebhook)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert (await gate.dispatch(other)).status == 500
    assert messages(caplog) == [
        f"webhook hand-off failed on message.finalized {other.key} (OSError)"
    ]


async def test_a_cancelled_callback_releases_the_event() -> None:
    """The server gave up on the request: a redelivery must be handled, not found in progress."""
    guard = RecordingGuard()
    started = asyncio.Event()

    async def on_event(event: object) -> None:
        started.set()
        await asyncio.Event().wait()

    gate = make_gate([], on_event=on_event, duplicates=guard)
    webhook = opened(gate)
    handling = asyncio.ensure_future(gate.handle(webhook))
    await started.wait()
    handling.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handling
    assert guard.calls == [("release", webhook.key)]


async def test_a_slow_async_callback_is_warned_about_while_it_runs(
    clock: FakeTime, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once Telnyx's 2 s window has passed, not when the callback ends (it may never)."""
    loop = asyncio.get_running_loop()
    skew = [0.0]
    loop_time = loop.time
    monkeypatch.setattr(loop, "time", lambda: loop_time() + skew[0])
    release = asyncio.Event()

    async def on_event(event: object) -> None:
        skew[0] += 2.0  # the loop's clock: the warning is due
        clock.now += 2.5  # the gate's clock: how long it says the callback ran
        await release.wait()

    gate = make_gate([], on_event=on_event)
    webhook = opened(gate)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        handling = asyncio.ensure_future(gate.dispatch(webhook))
        for _ in range(50):
            await asyncio.sleep(0)
            if caplog.records:
                break
        assert messages(caplog) == [
            f"webhook callback for message.sent {webhook.key} is still running after 2.5s, "
            "beyond Telnyx's ~2s window: Telnyx will deliver it again; use "
            "acknowledge='on_receipt' or handoff= for slow work"
        ]
        release.set()
        assert await handling == _policy.Answer(200)


async def test_closing_while_the_guard_answers_releases_and_asks_for_a_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The claim came back after close(): 503, the event released, on_event never called."""
    events: list[object] = []
    guard = RecordingGuard()
    guard.hold = asyncio.Event()
    gate = make_gate([], on_event=events.append, duplicates=guard)
    webhook = opened(gate)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        answering = asyncio.ensure_future(gate.dispatch(webhook, "/hooks"))
        await asyncio.sleep(0)
        gate.close()
        guard.hold.set()
        assert await answering == _policy.Answer(
            503, "shutting down; retry later", (("Retry-After", "1"),)
        )
        # Closed already: refused before the guard is asked.
        assert (await gate.dispatch(webhook)).status == 503
    assert guard.calls == [("claim", webhook.key), ("release", webhook.key)]
    assert events == []
    assert messages(caplog) == [
        "refused a webhook to /hooks (503 closed): shutting down; retry later",
        "refused a webhook (503 closed): shutting down; retry later",
    ]


async def test_on_receipt_queues_the_webhook_or_answers_503_when_the_queue_is_full(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """200 once queued (on_event runs later); a full queue releases the event for the retry."""
    metrics: list[webhooks.WebhookMetric] = []
    queued: list[object] = []
    room = [True]
    guard = RecordingGuard()

    def enqueue(webhook: _policy.VerifiedWebhook) -> bool:
        if room[0]:
            queued.append(webhook)
        return room[0]

    gate = bare_gate(
        metrics=metrics.append,
        guard=guard,
        on_event=lambda event: pytest.fail("on_event runs from the queue, not here"),
        enqueue=enqueue,
        acknowledge="on_receipt",
    )
    webhook = opened(gate)
    assert await gate.dispatch(webhook) == _policy.Answer(200)
    assert queued == [webhook]
    assert guard.calls == [("claim", webhook.key)]
    room[0] = False
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert await gate.dispatch(webhook, "/hooks") == _policy.Answer(
            503, "the webhook queue is full (7 events); retry later", (("Retry-After", "1"),)
        )
    assert guard.calls[1:] == [("claim", webhook.key), ("release", webhook.key)]
    assert [m.reason for m in metrics if m.name == "refused"] == ["overloaded"]
    assert messages(caplog) == [
        "refused a webhook to /hooks (503 overloaded): the webhook queue is full (7 events); "
        "retry later"
    ]


async def test_running_counts_requests_past_verification_and_idle_waits_for_them() -> None:
    release = asyncio.Event()

    async def on_event(event: object) -> None:
        await release.wait()

    gate = make_gate([], on_event=on_event)
    await gate.idle()  # nothing to wait for
    webhook = opened(gate)
    handling = asyncio.ensure_future(gate.dispatch(webhook))
    await asyncio.sleep(0)
    assert gate.running == 1
    idle = asyncio.ensure_future(gate.idle())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not idle.done()
    release.set()
    assert await handling == _policy.Answer(200)
    assert gate.running == 0  # counted out before the answer goes back
    await idle


async def test_a_failure_after_the_request_went_away_is_not_left_unretrieved() -> None:
    """The request was cancelled, then queueing raised: nothing for asyncio to complain about."""
    complaints: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: complaints.append(context))
    guard = RecordingGuard()
    guard.hold = asyncio.Event()

    def enqueue(webhook: _policy.VerifiedWebhook) -> bool:
        raise RuntimeError("queue gone")

    gate = bare_gate(guard=guard, enqueue=enqueue, acknowledge="on_receipt")
    try:
        request = asyncio.ensure_future(gate.dispatch(opened(gate)))
        await asyncio.sleep(0)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        guard.hold.set()
        await gate.idle()
        del request
        gc.collect()
        assert complaints == []
    finally:
        loop.set_exception_handler(None)


async def test_a_guard_that_fails_is_answered_503_against_the_route(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An async guard that is down or full: 503 and Retry-After; claim() alone names no route."""
    down = make_gate([], duplicates=RecordingGuard(fail=ConnectionError("x")))
    full = make_gate(
        [], duplicates=RecordingGuard(fail=webhooks.DuplicateGuardFullError("it is full"))
    )
    later = (("Retry-After", "1"),)
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert await down.dispatch(opened(down), "/d") == _policy.Answer(
            503, "the duplicate guard failed (ConnectionError); retry later", later
        )
        assert await full.dispatch(opened(full), "/f") == _policy.Answer(
            503, "it is full; retry later", later
        )
        assert await down.claim(opened(down)) is not None
        assert await full.claim(opened(full)) is not None
    assert [line.split(":")[0] for line in messages(caplog)] == [
        "refused a webhook to /d (503 guard_unavailable)",
        "refused a webhook to /f (503 guard_full)",
        "refused a webhook (503 guard_unavailable)",
        "refused a webhook (503 guard_full)",
    ]


async def test_a_guard_that_cannot_settle_says_what_it_costs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The answer stands (200 or 500); the log names the event and the consequence."""
    guard = RecordingGuard()
    gate = make_gate([], duplicates=guard)
    webhook = opened(gate)
    guard.fail = RuntimeError("down")
    with caplog.at_level(logging.ERROR, logger="telnyx_messaging"):
        await gate.settle(webhook.key, done=True)
        await gate.settle(webhook.key, done=False)
    assert guard.calls == [("complete", webhook.key), ("release", webhook.key)]
    assert messages(caplog) == [
        f"the duplicate guard could not complete event {webhook.key} (RuntimeError): a "
        "redelivery of it will be handled again",
        f"the duplicate guard could not release event {webhook.key} (RuntimeError): its "
        "redeliveries are refused until the guard forgets it",
    ]


def test_the_documented_defaults_256_kib_and_10_s(caplog: pytest.LogCaptureFixture) -> None:
    """docs/webhooks.md promises them: 413 past 256 KiB, 408 past 10 s."""
    gate = make_gate([])
    assert gate.head("POST", str(256 * 1024)) is None
    with caplog.at_level(logging.WARNING, logger="telnyx_messaging"):
        assert gate.head("POST", str(256 * 1024 + 1)) == _policy.Answer(
            413, "body is larger than 262144 bytes; a Telnyx webhook is a few kilobytes"
        )
        assert gate.slow_body().text.startswith("the body did not arrive within 10s;")

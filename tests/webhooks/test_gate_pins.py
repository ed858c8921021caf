"""The webhook gate's answers, metrics and log lines that mutation testing found unpinned.

Driven through the gate's public calls, as an adapter drives it (issue 24): what an operator
reads in the log (where, which code, the advice) and what a metrics hook receives are part of
the product. Pure: no sockets; the gate's clock is replaced where time matters.
"""

from __future__ import annotations

import logging
import types
from pathlib import Path
from typing import Any

import pytest

from telnyx_messaging import ConfigurationError, webhooks
from telnyx_messaging.testing._signer import WebhookSigner
from telnyx_messaging.webhooks import _policy

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

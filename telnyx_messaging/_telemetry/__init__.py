"""The telemetry seam: whether OpenTelemetry is switched on, asked without importing it.

Everything the rest of the package needs to decide "instrument or not" lives here, in a module
that imports nothing heavy: :class:`Telemetry` (the options), the global switch
(:func:`enable` / :func:`disable`) and :func:`resolve`, which a client calls once, when it is
made. Nothing here runs per send: a client made with telemetry off is exactly the client that
existed before telemetry did (``benchmarks/count_instructions.py``). What is switched on is
built by :mod:`._instruments` (which imports ``opentelemetry``) and, for the client, by
:mod:`.client`.
"""

from __future__ import annotations

import time
from collections.abc import Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar

from attrs import field, frozen

from telnyx_messaging._errors import ConfigurationError, InvalidArgumentError

__all__ = [
    "BulkRun",
    "Telemetry",
    "active",
    "bulk_run",
    "bulk_run_ended",
    "bulk_run_started",
    "delivery_final",
    "disable",
    "enable",
    "instruments_for",
    "join_bulk_run",
    "observe_webhooks",
    "resolve",
    "traced_wait",
]

T = TypeVar("T")
H = TypeVar("H")


def _flag(name: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if not isinstance(value, bool):
            raise InvalidArgumentError(f"{name} must be True or False, got {value!r}")

    return check


@frozen
class Telemetry:
    """What the SDK reports to OpenTelemetry, and where.

    ``tracer_provider`` and ``meter_provider`` default to OpenTelemetry's global providers
    (what ``opentelemetry.trace.set_tracer_provider`` set, even later). Phone numbers and
    message text stay out of spans and metrics unless ``record_phone_numbers`` /
    ``record_message_text`` say otherwise; the API key never goes in.

    .. versionadded:: 0.2.0
    """

    tracer_provider: Any = None
    meter_provider: Any = None
    record_phone_numbers: bool = field(default=False, validator=_flag("record_phone_numbers"))
    record_message_text: bool = field(default=False, validator=_flag("record_message_text"))


_enabled: Telemetry | None = None
#: Whether anything was ever switched on (globally or for one client): until then a send_many
#: run does not even note its start.
_ever_on = False


def enable(
    *,
    tracer_provider: Any = None,
    meter_provider: Any = None,
    record_phone_numbers: bool = False,
    record_message_text: bool = False,
) -> Telemetry:
    """Switch telemetry on for every client, receiver and tracker made from now on."""
    global _enabled
    options = Telemetry(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        record_phone_numbers=record_phone_numbers,
        record_message_text=record_message_text,
    )
    instruments_for(options)  # fail now, at the switch, if opentelemetry is missing
    _enabled = options
    return options


def disable() -> None:
    """Switch the global telemetry off again (for what is made from now on)."""
    global _enabled
    _enabled = None


def active() -> Telemetry | None:
    """The global options when telemetry is switched on, else ``None``."""
    return _enabled


def resolve(telemetry: Telemetry | bool | None) -> Telemetry | None:
    """What a component's ``telemetry=`` argument means: ``None`` follows the global switch,
    ``False`` is off, ``True`` is on with the defaults, a :class:`Telemetry` is on with it."""
    if telemetry is None:
        return _enabled
    if telemetry is False:
        return None
    if telemetry is True:
        telemetry = Telemetry()
    if not isinstance(telemetry, Telemetry):
        raise InvalidArgumentError(
            "telemetry must be True, False, None (follow telnyx_messaging.telemetry.enable()) "
            f"or a telnyx_messaging.telemetry.Telemetry(...), got {type(telemetry).__name__}"
        )
    instruments_for(telemetry)
    return telemetry


def instruments_for(telemetry: Telemetry) -> Any:
    """The tracer, meter and instruments for ``telemetry`` (imports ``opentelemetry``)."""
    global _ever_on
    _ever_on = True
    try:
        from telnyx_messaging._telemetry import _instruments
    except ImportError as exc:  # pragma: no cover - run in a subprocess by tests/telemetry
        raise ConfigurationError(
            "Telemetry needs the OpenTelemetry API: pip install 'telnyx-messaging[otel]' "
            f"(and an OpenTelemetry SDK and exporter of your choice); {exc}"
        ) from None
    return _instruments.instruments(telemetry)


# -- one-line hooks for the other wings: each is a plain call that does nothing when off -------


def observe_webhooks(hook: H, acknowledge: str = "after_callback") -> H:
    """A receiver's ``metrics`` hook: ``hook`` itself when telemetry is off, else a hook that
    also makes a span per webhook and counts it (``_inbound.WebhookObserver``).
    ``acknowledge`` is the receiver's: with ``on_receipt`` a callback's failure comes after
    its request was answered."""
    if _enabled is None:
        return hook
    from telnyx_messaging._telemetry._inbound import WebhookObserver

    background = acknowledge == "on_receipt"
    observer: Any = WebhookObserver(instruments_for(_enabled), hook, background)  # type: ignore[arg-type]
    return observer  # type: ignore[no-any-return]


def traced_wait(message_id: str, waiting: Coroutine[Any, Any, T]) -> Coroutine[Any, Any, T]:
    """``DeliveryTracker.wait``'s coroutine, in a span linked to the send when telemetry is on."""
    if _enabled is None:
        return waiting
    from telnyx_messaging._telemetry import _inbound

    return _inbound.traced_wait(instruments_for(_enabled), message_id, waiting)


def delivery_final(outcome: Any) -> None:
    """Count a tracked message's final status per recipient (when telemetry is on)."""
    if _enabled is not None:
        from telnyx_messaging._telemetry import _inbound

        _inbound.delivery_final(instruments_for(_enabled), outcome)


class BulkRun:
    """A ``send_many`` run, as the traced client sees it: its span is made by the first row
    sent by a client with telemetry on, and every row's span links to it."""

    __slots__ = ("concurrency", "span", "started", "via")

    def __init__(self, via: str, concurrency: int) -> None:
        self.via = via
        self.concurrency = concurrency
        self.started = time.time_ns()
        self.span: Any = None


#: The run a send_many worker task sends for (set in the worker's own context).
bulk_run: ContextVar[BulkRun | None] = ContextVar("telnyx_telemetry_bulk_run", default=None)


def bulk_run_started(via: str, concurrency: int) -> BulkRun | None:
    """Note a run's start (``None`` while telemetry was never switched on)."""
    return BulkRun(via, concurrency) if _ever_on else None


def join_bulk_run(run: BulkRun | None) -> None:
    """Called first thing in each worker task: its sends belong to ``run``."""
    if run is not None:
        bulk_run.set(run)


def bulk_run_ended(run: BulkRun | None, counts: Any) -> None:
    """End the run's span (if a row made one) with how many rows were sent and failed
    (``counts.sent``, ``counts.failed``)."""
    if run is not None and run.span is not None:
        run.span.set_attributes(
            {"telnyx.bulk.sent": counts.sent, "telnyx.bulk.failed": counts.failed}
        )
        run.span.end()

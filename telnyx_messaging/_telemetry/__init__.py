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

from typing import Any

from attrs import field, frozen

from telnyx_messaging._errors import ConfigurationError, InvalidArgumentError

__all__ = ["Telemetry", "active", "disable", "enable", "instruments_for", "resolve"]


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
    try:
        from telnyx_messaging._telemetry import _instruments
    except ImportError as exc:  # pragma: no cover - run in a subprocess by tests/telemetry
        raise ConfigurationError(
            "Telemetry needs the OpenTelemetry API: pip install 'telnyx-messaging[otel]' "
            f"(and an OpenTelemetry SDK and exporter of your choice); {exc}"
        ) from None
    return _instruments.instruments(telemetry)

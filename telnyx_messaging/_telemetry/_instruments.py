"""The OpenTelemetry side: one tracer, one meter and the instruments, per set of options.

Imported only once telemetry is switched on (it imports ``opentelemetry``). Instruments are
made once per :class:`Telemetry` value and shared by every client, receiver and tracker that
uses it: a client per request handler does not leak a meter per client.

Attribute names of OpenTelemetry's semantic conventions are written out here (the package
depends on ``opentelemetry-api`` only); ``tests/telemetry`` checks each one against the
``opentelemetry-semantic-conventions`` constant.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from attrs import frozen
from opentelemetry import metrics, trace

from telnyx_messaging._errors import InvalidArgumentError

if TYPE_CHECKING:
    from telnyx_messaging._telemetry import Telemetry

__all__ = ["Instruments", "instruments"]

#: The instrumentation scope: what a backend shows as the library that made the spans.
SCOPE = "telnyx_messaging"
SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"

# Semantic conventions (stable unless noted).
HTTP_REQUEST_METHOD = "http.request.method"
HTTP_RESPONSE_STATUS_CODE = "http.response.status_code"
HTTP_REQUEST_RESEND_COUNT = "http.request.resend_count"
HTTP_REQUEST_HEADER_IDEMPOTENCY_KEY = "http.request.header.idempotency-key"
HTTP_RESPONSE_HEADER_X_REQUEST_ID = "http.response.header.x-request-id"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
URL_FULL = "url.full"
URL_TEMPLATE = "url.template"  # development status in semconv 1.26+
ERROR_TYPE = "error.type"
HTTP_CLIENT_REQUEST_DURATION = "http.client.request.duration"
#: The semantic conventions' advised buckets for http.client.request.duration, in seconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)

#: Rate-limit pauses run from a fraction of a second (pacing) to a minute (a 429's Retry-After).
PAUSE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

# Ours: no convention covers an SMS API.
OPERATION = "telnyx.operation"
IDEMPOTENCY_KEY = "telnyx.idempotency_key"
REQUEST_ID = "telnyx.request_id"
MESSAGE_ID = "telnyx.message.id"
SENDER_TYPE = "telnyx.sender.type"
ERROR_CODE = "telnyx.error.code"
OUTCOME_UNKNOWN = "telnyx.outcome_unknown"
ATTEMPTS = "telnyx.attempts"
WAIT_SECONDS = "telnyx.wait.seconds"
RATE_LIMIT_SOURCE = "telnyx.rate_limit.source"
MESSAGE_TO = "telnyx.message.to"  # opt-in: record_phone_numbers
MESSAGE_FROM = "telnyx.message.from"  # opt-in: record_phone_numbers
MESSAGE_TEXT = "telnyx.message.text"  # opt-in: record_message_text

WEBHOOK_EVENT_TYPE = "telnyx.webhook.event_type"
WEBHOOK_OUTCOME = "telnyx.webhook.outcome"
WEBHOOK_REASON = "telnyx.webhook.reason"
WEBHOOK_ID = "telnyx.webhook.id"
DELIVERY_STATUS = "telnyx.delivery.status"
DELIVERY_SOURCE = "telnyx.delivery.source"
BULK_VIA = "telnyx.bulk.via"
BULK_CONCURRENCY = "telnyx.bulk.concurrency"
BULK_SENT = "telnyx.bulk.sent"
BULK_FAILED = "telnyx.bulk.failed"

EVENT_RATE_LIMIT_WAIT = "telnyx.rate_limit.wait"
EVENT_RETRY_WAIT = "telnyx.retry.wait"

MESSAGES_SENT = "telnyx.messages.sent"
MESSAGES_FAILED = "telnyx.messages.failed"
CLIENT_RETRIES = "telnyx.client.retries"
RATE_LIMIT_PAUSE_DURATION = "telnyx.rate_limit.pause.duration"
WEBHOOKS_RECEIVED = "telnyx.webhooks.received"
WEBHOOKS_BACKGROUND_FAILURES = "telnyx.webhooks.background_failures"
DELIVERIES = "telnyx.deliveries"


@frozen
class Instruments:
    """The tracer, the instruments and the privacy options one :class:`Telemetry` makes."""

    tracer: trace.Tracer
    meter: metrics.Meter
    request_duration: metrics.Histogram
    messages_sent: metrics.Counter
    messages_failed: metrics.Counter
    retries: metrics.Counter
    rate_limit_pauses: metrics.Histogram
    webhooks_received: metrics.Counter
    webhooks_background: metrics.Counter
    deliveries: metrics.Counter
    record_phone_numbers: bool
    record_message_text: bool


def _version() -> str:
    from telnyx_messaging._version import __version__

    return __version__


@functools.cache
def instruments(options: Telemetry) -> Instruments:
    """The instruments for ``options``, made on first use and shared from then on."""
    tracer_provider: Any = options.tracer_provider
    meter_provider: Any = options.meter_provider
    if tracer_provider is not None and not isinstance(tracer_provider, trace.TracerProvider):
        raise InvalidArgumentError(
            "tracer_provider must be an opentelemetry TracerProvider (or None for the global "
            f"one), got {type(tracer_provider).__name__}"
        )
    if meter_provider is not None and not isinstance(meter_provider, metrics.MeterProvider):
        raise InvalidArgumentError(
            "meter_provider must be an opentelemetry MeterProvider (or None for the global "
            f"one), got {type(meter_provider).__name__}"
        )
    version = _version()
    tracer = trace.get_tracer(SCOPE, version, tracer_provider, schema_url=SCHEMA_URL)
    meter = metrics.get_meter(SCOPE, version, meter_provider, schema_url=SCHEMA_URL)
    return Instruments(
        tracer=tracer,
        meter=meter,
        request_duration=meter.create_histogram(
            HTTP_CLIENT_REQUEST_DURATION,
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        ),
        messages_sent=meter.create_counter(
            MESSAGES_SENT, unit="{message}", description="Messages Telnyx accepted."
        ),
        messages_failed=meter.create_counter(
            MESSAGES_FAILED,
            unit="{message}",
            description="Sends that ended in an error (after their retries).",
        ),
        retries=meter.create_counter(
            CLIENT_RETRIES, unit="{retry}", description="Attempts made again after a failure."
        ),
        rate_limit_pauses=meter.create_histogram(
            RATE_LIMIT_PAUSE_DURATION,
            unit="s",
            description="Pauses for a rate limit: its count is the pauses, its sum the seconds.",
            explicit_bucket_boundaries_advisory=list(PAUSE_BUCKETS),
        ),
        webhooks_received=meter.create_counter(
            WEBHOOKS_RECEIVED,
            unit="{webhook}",
            description="Webhook requests answered, by event type and outcome.",
        ),
        webhooks_background=meter.create_counter(
            WEBHOOKS_BACKGROUND_FAILURES,
            unit="{webhook}",
            description="Acknowledged (on_receipt) webhooks whose callback failed or never ran.",
        ),
        deliveries=meter.create_counter(
            DELIVERIES,
            unit="{recipient}",
            description="Recipients of tracked messages that reached a final status.",
        ),
        record_phone_numbers=options.record_phone_numbers,
        record_message_text=options.record_message_text,
    )

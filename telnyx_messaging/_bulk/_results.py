"""What a bulk run hands back: one :class:`SendResult` per row, :class:`BulkStats` snapshots.

Plain frozen values with no behaviour of their own beyond a few derived numbers, so the
progress hook, the CLI and the caller's loop can keep them, log them or pickle them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from telnyx_messaging._errors import AlreadySentError, APIError, APIStatusError
from telnyx_messaging._models import Message, WhatsAppMessage

if TYPE_CHECKING:
    from telnyx_messaging.webhooks._tracking import DeliveryOutcome

__all__ = ["BulkStats", "SendResult", "describe"]


@frozen
class SendResult:
    """The outcome of one input row. Every row the run reads gets exactly one.

    ``index`` is the row's 0-based position in the input and ``params`` the mapping it gave.
    When ``ok``, ``message`` is the :class:`~telnyx_messaging.Message` Telnyx queued (``None``
    for a row finished by an earlier run of the same journal, see ``resumed``); otherwise
    ``error`` is what failed it, usually a :class:`~telnyx_messaging.TelnyxError`.
    ``attempts`` counts HTTP attempts, not those Telnyx pushed back (a 429, 40318, 40011:
    they cost no attempt); 0 when the row was refused before sending.
    With ``send_many(..., await_delivery=tracker)``, a sent row's result comes once its
    delivery is final (or ``delivery_timeout`` passed), and ``delivery`` says how it ended.

    .. versionadded:: 0.2.0
    """

    index: int
    params: Mapping[str, Any] = field(repr=False)
    ok: bool
    message: Message | WhatsAppMessage | None = field(repr=False)
    error: Exception | None
    attempts: int
    #: The key every attempt of this row carried (``None`` if it was never sent).
    idempotency_key: str | None = field(repr=False)
    #: The message's id; kept by the journal, so also set for ``resumed`` rows.
    message_id: str | None
    #: Telnyx's error code (``"40310"``...) or, for failures without one, ``None``.
    error_code: str | None = field(repr=False)
    #: Telnyx's error title, or a short description of a failure Telnyx did not describe.
    error_title: str | None = field(repr=False)
    #: True when the outcome comes from the journal of an earlier run: nothing was sent now.
    resumed: bool = False
    #: With ``await_delivery``: the message's :class:`~telnyx_messaging.webhooks.DeliveryOutcome`,
    #: each recipient's final status in ``delivery.statuses``. Not final (``delivery.final``
    #: false) or ``None`` when the wait ended first, see ``delivery_error``. Always ``None``
    #: for failed and ``resumed`` rows, and without ``await_delivery``.
    delivery: DeliveryOutcome | None = field(default=None, repr=False)
    #: Why the wait for the delivery ended without a final outcome: usually a
    #: :class:`~telnyx_messaging.webhooks.DeliveryTimeoutError`; ``None`` otherwise.
    delivery_error: Exception | None = field(default=None, repr=False)

    @property
    def delivered(self) -> bool | None:
        """With ``await_delivery``: whether every recipient got the message.

        ``True`` when all are ``delivered``, ``False`` when the outcome is final and one is
        not (``delivery_failed``, ``sending_failed``...), ``None`` when nobody knows (no
        final outcome, a failed or resumed row, or no ``await_delivery``).
        """
        if self.delivery is None or not self.delivery.final:
            return None
        return self.delivery.delivered


@frozen
class BulkStats:
    """A snapshot of a run's progress (``run.stats``, and what the progress hook receives).

    .. versionadded:: 0.2.0
    """

    #: Rows in the input, when known (a sized input, or ``total=``).
    total: int | None
    #: Rows taken from the input so far.
    read: int
    #: Rows sent in this run.
    sent: int
    #: Rows that failed in this run.
    failed: int
    #: Rows finished by an earlier run of the same journal (nothing sent now).
    skipped: int
    #: HTTP requests in flight now.
    in_flight: int
    #: Rows waiting out a backoff before their next attempt.
    retrying: int
    #: HTTP requests made, retries and those Telnyx pushed back (429, 40318) included.
    attempts: int
    #: Seconds since the run started.
    elapsed: float
    #: Rows finished per second over the last few seconds.
    rate: float
    #: Whether a budget (the account's, a sender's) is held after a 429 right now.
    paused: bool
    #: Seconds the run spent with a budget held after a 429, each second counted once.
    paused_seconds: float
    #: How many such holds there were (overlapping ones count once).
    pauses: int
    #: With ``await_delivery``: sent rows whose result waits for their delivery outcome.
    awaiting_delivery: int = 0
    #: With ``await_delivery``: sent rows every recipient of which got the message.
    delivered: int = 0

    @property
    def done(self) -> int:
        """Rows with a result: sent, failed or skipped (sent rows awaiting delivery not yet)."""
        return self.sent + self.failed + self.skipped - self.awaiting_delivery

    @property
    def pending(self) -> int:
        """Rows read without a result yet: queued, pacing, in flight, waiting to retry or
        for their delivery outcome."""
        return self.read - self.done

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, when the total is known and the rate is not 0
        (``0`` once every row has its result, whatever the rate)."""
        if self.total is not None and self.done >= self.total:
            return 0.0  # a resume that only skipped rows has rate 0, but nothing is left
        if self.total is None or self.rate <= 0:
            return None
        return max(0, self.total - self.done) / self.rate


def describe(exc: Exception) -> tuple[str | None, str]:
    """Telnyx's code and title for a failure, or a short title of our own."""
    if isinstance(exc, AlreadySentError):
        return "already_sent", "already sent with other content"
    if isinstance(exc, APIStatusError):
        for detail in exc.errors:
            if detail.code is not None or detail.title is not None:
                return detail.code, detail.title or f"HTTP {exc.status}"
        return None, f"HTTP {exc.status}"
    if isinstance(exc, APIError):
        return None, type(exc).__name__
    return None, str(exc) or type(exc).__name__

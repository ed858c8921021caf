"""What send-bulk will do with each CSV row, decided before anything is sent: pure, no I/O.

The dry run and the live run share this plan, so the dry run reports exactly what the live
run would refuse, skip and send. A row is refused (``failed``, code ``invalid_argument``) when
a cell cannot fill the argument it is for, checked with the library's own argument checks;
it is ``skipped`` when the user asked (``--skip-duplicates``, ``--check-optouts``,
``--only-failed-from``). Every other row becomes ``messages.send`` keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from attrs import frozen

from telnyx_messaging import _args
from telnyx_messaging._cli._csv_input import BadInputError, CsvRow
from telnyx_messaging._cli._template import Template
from telnyx_messaging._errors import InvalidArgumentError

__all__ = [
    "COLUMNS",
    "INVALID",
    "NO_SENDER",
    "Earlier",
    "PlannedRow",
    "Planner",
    "Refusal",
]

#: Columns with a meaning of their own; any other column only fills ``{placeholders}``.
COLUMNS = (
    "to",
    "from",
    "messaging_profile_id",
    "media_urls",
    "send_at",
    "subject",
    "type",
    "webhook_url",
)
#: error_code of a row refused before sending because a value cannot be sent.
INVALID = "invalid_argument"
DUPLICATE = "duplicate_recipient"
OPTED_OUT = "opted_out"
SENT_EARLIER = "sent_earlier"
_TYPES = ("SMS", "MMS")
EMPTY_TO = "'to' is empty: fill in the recipient's number (E.164, e.g. +13125550100)"
NO_SENDER = "say who sends: fill 'from' or 'messaging_profile_id', or pass --from"


@frozen
class Refusal:
    """Why a row is not sent: ``status`` is ``failed`` or ``skipped``."""

    status: str
    code: str
    title: str
    #: For a row sent by an earlier run (``--only-failed-from``): its message id.
    message_id: str = ""


@frozen
class Earlier:
    """A row of an earlier results file (``--only-failed-from``)."""

    status: str
    to: str
    message_id: str
    code: str
    title: str


@frozen
class PlannedRow:
    """A CSV row and what the run does with it."""

    number: int
    line: int
    to: str
    #: ``messages.send`` keyword arguments, or None when the row is not sent (see refusal).
    kwargs: dict[str, Any] | None
    refusal: Refusal | None
    #: The ``to`` cell as written, when --default-region changed it.
    written_to: str | None = None
    #: The row number of an earlier row with the same recipient.
    duplicate_of: int | None = None


def _url(name: str, value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise InvalidArgumentError(f"{name} must be an http:// or https:// URL, got {value!r}")
    return value


def _send_at(value: str) -> datetime:
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgumentError(
            f"send_at must be an ISO 8601 date and time with its offset, such as "
            f"2026-12-24T09:00:00-05:00 or 2026-12-24T14:00:00Z; got {value!r}"
        ) from None
    _args.when("send_at", when)  # the library's check: a naive time is refused
    return when


class Planner:
    """Turns CSV rows into planned rows; one per pass over the file (it remembers recipients
    to find duplicates)."""

    def __init__(
        self,
        template: Template,
        sender: str | None,
        *,
        normalize: Callable[[str], str] | None = None,
        skip_duplicates: bool = False,
        optouts: Mapping[str, str] | None = None,
        earlier: Mapping[int, Earlier] | None = None,
        earlier_label: str = "",
    ) -> None:
        self._template = template
        self._sender = sender
        self._normalize = normalize
        self._skip_duplicates = skip_duplicates
        self._optouts = optouts or {}
        self._earlier = earlier
        self._earlier_label = earlier_label
        self._seen: dict[str, int] = {}

    def plan(self, row: CsvRow) -> PlannedRow:
        cells = {
            name: value.strip() if name in COLUMNS else value for name, value in row.cells.items()
        }
        written = cells["to"]
        to = written
        try:
            if not written:  # one row left blank: its row fails, the others go
                raise InvalidArgumentError(EMPTY_TO)
            if self._normalize is not None:
                to = self._normalize(written)
            kwargs = self._kwargs(cells, to)
        except InvalidArgumentError as exc:
            title = str(exc)
            if self._normalize is None and title.startswith("to must be a phone number"):
                title += " (or pass --default-region US to read national numbers)"
            refused = Refusal("failed", INVALID, title)
            return PlannedRow(row.number, row.line, to, None, refused, self._written(written, to))
        first = self._seen.setdefault(to, row.number)
        duplicate = first if first != row.number else None
        skip = self._skip(row, to, duplicate)
        return PlannedRow(
            row.number,
            row.line,
            to,
            None if skip else kwargs,
            skip,
            self._written(written, to),
            duplicate,
        )

    @staticmethod
    def _written(written: str, to: str) -> str | None:
        return written if written != to else None

    def _skip(self, row: CsvRow, to: str, duplicate: int | None) -> Refusal | None:
        if self._earlier is not None:
            earlier = self._earlier.get(row.number)
            if earlier is None:
                raise BadInputError(
                    f"row {row.number} is not in {self._earlier_label}: --only-failed-from "
                    "needs the results of this same list, every row in its place"
                )
            if earlier.status != "failed":
                if earlier.to != to:
                    raise BadInputError(
                        f"row {row.number} (line {row.line}) is to {to}, but row {row.number} "
                        f"of {self._earlier_label} went to {earlier.to}: keep every row in its "
                        "place (correct values; do not add, remove or reorder rows)"
                    )
                if earlier.status == "sent":
                    return Refusal(
                        "skipped",
                        SENT_EARLIER,
                        f"sent by the run of {self._earlier_label}",
                        earlier.message_id,
                    )
                return Refusal("skipped", earlier.code, earlier.title, earlier.message_id)
        if duplicate is not None and self._skip_duplicates:
            return Refusal("skipped", DUPLICATE, f"same recipient as row {duplicate}")
        if to in self._optouts:
            return Refusal("skipped", OPTED_OUT, f"opted out ({self._optouts[to]})")
        return None

    def _kwargs(self, cells: Mapping[str, str], to: str) -> dict[str, Any]:
        """The row as ``messages.send`` arguments, each checked as the library checks it."""
        kwargs: dict[str, Any] = {"to": _args.phone_number("to", to)}
        sender = cells.get("from") or self._sender
        if sender:
            kwargs["from_"] = _args.string("from", sender)
        if profile := cells.get("messaging_profile_id"):
            kwargs["messaging_profile_id"] = profile
        if not sender and not profile:
            raise InvalidArgumentError(NO_SENDER)
        text = self._template.fill(cells)
        if text:
            kwargs["text"] = text
        if media := cells.get("media_urls", "").split():
            kwargs["media_urls"] = [_url("every item of media_urls", url) for url in media]
        if not text and not media:
            raise InvalidArgumentError(
                "the message is empty: --text filled with this row's cells gives no text, "
                "and the row has no media_urls"
            )
        if value := cells.get("send_at"):
            kwargs["send_at"] = _send_at(value)
        if value := cells.get("subject"):
            kwargs["subject"] = value
        if value := cells.get("type"):
            if value.upper() not in _TYPES:
                raise InvalidArgumentError(f"type must be SMS or MMS, got {value!r}")
            kwargs["type"] = value.upper()
        if value := cells.get("webhook_url"):
            kwargs["webhook_url"] = _url("webhook_url", value)
        return kwargs

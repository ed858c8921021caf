"""Typed rows for ``send_many``: one ``TypedDict`` per ``via``, the keyword arguments of the
method it calls.

``send_many`` takes any mapping (rows often come from a CSV reader); annotating the rows with
these lets a type checker catch a misspelt key (``form_``), a missing required one and a
``type``/``encoding`` Telnyx would refuse, before a run starts::

    rows: list[SendRow] = [{"to": "+13125550002", "from_": "+18445550001", "text": "Hi"}]

The same checks run again on each row at send time, so untyped rows are as safe, only later.
A row's ``idempotency_key`` is optional: ``send_many`` gives each row one of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypedDict

from telnyx_messaging._args import Encoding, MessageType

__all__ = [
    "GroupMmsRow",
    "LongCodeRow",
    "NumberPoolRow",
    "ScheduleRow",
    "SendRow",
    "ShortCodeRow",
    "WhatsAppRow",
]


class _Content(TypedDict, total=False):
    text: str
    media_urls: Sequence[str]
    subject: str
    use_profile_webhooks: bool
    webhook_url: str
    webhook_failover_url: str
    idempotency_key: str


class _Options(_Content, total=False):
    type: MessageType
    encoding: Encoding
    auto_detect: bool


# Required keys sit in total=True bases (typing.Required is Python 3.11+).
class _To(TypedDict):
    to: str


class _ToFrom(_To):
    from_: str


class SendRow(_To, _Options, total=False):
    """A row of ``send_many(rows)`` (``via="send"``): the arguments of ``messages.send``.

    .. versionadded:: 0.2.0
    """

    from_: str
    messaging_profile_id: str
    send_at: datetime


class LongCodeRow(_ToFrom, _Options, total=False):
    """A row of ``send_many(rows, via="send_long_code")``.

    .. versionadded:: 0.2.0
    """


class ShortCodeRow(_ToFrom, _Options, total=False):
    """A row of ``send_many(rows, via="send_short_code")``.

    .. versionadded:: 0.2.0
    """


class _ToProfile(_To):
    messaging_profile_id: str


class NumberPoolRow(_ToProfile, _Options, total=False):
    """A row of ``send_many(rows, via="send_number_pool")``.

    .. versionadded:: 0.2.0
    """


class _ToAt(_To):
    send_at: datetime


class ScheduleRow(_ToAt, _Content, total=False):
    """A row of ``send_many(rows, via="schedule")``: ``send_at`` at least 5 minutes ahead.

    .. versionadded:: 0.2.0
    """

    from_: str
    messaging_profile_id: str
    type: MessageType
    auto_detect: bool


class _Group(TypedDict):
    to: Sequence[str]
    from_: str


class GroupMmsRow(_Group, _Content, total=False):
    """A row of ``send_many(rows, via="send_group_mms")``: one message to several numbers.

    .. versionadded:: 0.2.0
    """


class _WhatsApp(_ToFrom):
    whatsapp_message: Mapping[str, Any]


class WhatsAppRow(_WhatsApp, total=False):
    """A row of ``send_many(rows, via="send_whatsapp")``.

    .. versionadded:: 0.2.0
    """

    type: str
    messaging_profile_id: str
    webhook_url: str
    idempotency_key: str

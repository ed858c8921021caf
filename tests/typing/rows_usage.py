"""send_many rows typed per `via`, as users write them (mypy --strict and basedpyright).

Never run. Each `# type: ignore[...]` marks a mistake the checker must catch: mypy --strict
fails on an ignore that is not needed, so a row type that stops catching it fails the check.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from telnyx_messaging import (
    AsyncClient,
    GroupMmsRow,
    LongCodeRow,
    NumberPoolRow,
    ScheduleRow,
    SendRow,
    ShortCodeRow,
    WhatsAppRow,
)

LATER = datetime.now(timezone.utc) + timedelta(hours=1)

rows: list[SendRow] = [
    {"to": "+13125550002", "from_": "+18445550001", "text": "Hi", "type": "SMS"},
    {"to": "+13125550003", "messaging_profile_id": "p", "media_urls": ["https://x/a.png"]},
    {"to": "+13125550004", "from_": "+18445550001", "text": "Hi", "encoding": "ucs2"},
]
long_code: LongCodeRow = {"to": "+13125550002", "from_": "+18445550001", "text": "Hi"}
short_code: ShortCodeRow = {"to": "+13125550002", "from_": "12345", "text": "Hi"}
pool: NumberPoolRow = {"to": "+13125550002", "messaging_profile_id": "p", "text": "Hi"}
later: ScheduleRow = {"to": "+13125550002", "send_at": LATER, "text": "Hi"}
group: GroupMmsRow = {"to": ["+13125550002", "+13125550003"], "from_": "+1844", "text": "Hi"}
whatsapp: WhatsAppRow = {"to": "+1312", "from_": "+1844", "whatsapp_message": {"type": "text"}}

typo: SendRow = {"to": "+13125550002", "form_": "+18445550001", "text": "Hi"}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
lowercase: SendRow = {"to": "+13125550002", "text": "Hi", "type": "sms"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
utf8: SendRow = {"to": "+13125550002", "text": "Hi", "encoding": "utf8"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
no_sender: LongCodeRow = {"to": "+13125550002", "text": "Hi"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]


async def campaign(client: AsyncClient) -> int:
    sent = 0
    async with client.messages.send_many(rows, rate=50) as run:
        async for result in run:
            sent += result.ok
    async with client.messages.send_many([long_code], via="send_long_code") as run:
        sent += sum([result.ok async for result in run])
    await client.messages.send(to="+13125550002", text="Hi", type="MMS", encoding="auto")
    return sent

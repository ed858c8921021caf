"""``send-bulk --dry-run``'s report: per row what the live run would do, then the totals.

The rows come planned by :mod:`._campaign`, as the live run plans them. Costs are computed
only from the user's own prices: Telnyx's vary by destination, so none is invented.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import IO

from telnyx_messaging._cli._campaign import PlannedRow
from telnyx_messaging._cli._results_csv import spreadsheet_safe
from telnyx_messaging._cli._words import plural, rows_list
from telnyx_messaging._cli.sms import GSM7, non_gsm, sms_parts

__all__ = ["DRY_RUN_COLUMNS", "write_report"]

DRY_RUN_COLUMNS = (
    "row",
    "to",
    "status",
    "type",
    "encoding",
    "units",
    "parts",
    "non_gsm",
    "error_code",
    "reason",
    "note",
)


def write_report(
    rows: Iterable[PlannedRow],
    out: IO[str],
    *,
    per_part: Decimal | None = None,
    per_mms: Decimal | None = None,
) -> tuple[int, list[str]]:
    """Write the per-row report to ``out``; the rows that would fail, and the summary lines."""
    writer = csv.writer(out)
    writer.writerow(DRY_RUN_COLUMNS)
    parts = gsm = ucs = mms = ready = failed = skipped = 0
    forced: dict[str, list[int]] = {}
    total = 0
    for row in rows:
        total += 1
        kwargs = row.kwargs
        note = []
        if row.written_to is not None:
            note.append(f"written {row.written_to!r}")
        if row.duplicate_of is not None:
            note.append(f"same recipient as row {row.duplicate_of}")
        kind = encoding = chars = ""
        units = count = ""
        if kwargs is not None:
            ready += 1
            counted = sms_parts(kwargs.get("text", ""))
            kind = "MMS" if "media_urls" in kwargs else "SMS"
            encoding, units, count = counted.encoding, str(counted.units), str(counted.parts)
            if kind == "MMS":
                mms += 1
            else:
                parts += counted.parts
                gsm += counted.encoding == GSM7
                ucs += counted.encoding != GSM7
                chars = non_gsm(kwargs.get("text", ""))
                for char in chars:
                    forced.setdefault(char, []).append(row.number)
        refusal = row.refusal
        if refusal is not None:
            failed += refusal.status == "failed"
            skipped += refusal.status == "skipped"
        status = "send" if refusal is None else refusal.status
        cells = (
            row.number,
            row.to or row.written_to or "",
            status,
            kind,
            encoding,
            units,
            count,
            chars,
            "" if refusal is None else refusal.code,
            "" if refusal is None else refusal.title,
            "; ".join(note),
        )
        writer.writerow([spreadsheet_safe(str(cell)) for cell in cells])
    lines = [
        f"dry run, nothing sent: {plural(total, 'row')}: {ready:,} to send, "
        f"{failed:,} failed, {skipped:,} skipped",
        f"{plural(ready, 'message')}: {gsm + ucs:,} SMS in {plural(parts, 'part')} "
        f"({gsm:,} GSM-7, {ucs:,} UCS-2); {mms:,} MMS",
    ]
    if forced:
        each = "; ".join(
            f"{char!r} (U+{ord(char):04X}) in {rows_list(rows)}" for char, rows in forced.items()
        )
        lines.append(f"UCS-2 because of: {each}")
    if per_part is not None or per_mms is not None:
        cost = Decimal(0)
        said = []
        if per_part is not None:
            cost += parts * per_part
            said.append(f"{plural(parts, 'part')} x {per_part}")
        if per_mms is not None:
            cost += mms * per_mms
            said.append(f"{mms:,} MMS x {per_mms}")
        unpriced = ""
        if per_part is None and gsm + ucs:
            unpriced = " (SMS not priced: pass --price-per-part)"
        elif per_mms is None and mms:
            unpriced = " (MMS not priced: pass --price-per-mms)"
        lines.append(f"estimated cost: {' + '.join(said)} = {cost}{unpriced}")
    return failed, lines

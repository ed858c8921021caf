"""How send-bulk says counts: "1 row", "2,001 rows", "rows 4, 8 and 3 more"."""

from __future__ import annotations

__all__ = ["plural", "rows_list"]


def plural(count: int, word: str) -> str:
    """``1 message``, ``2 messages``."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def rows_list(numbers: list[int], most: int = 5) -> str:
    shown = ", ".join(str(n) for n in numbers[:most])
    more = f" and {len(numbers) - most} more" if len(numbers) > most else ""
    return ("row " if len(numbers) == 1 else "rows ") + shown + more

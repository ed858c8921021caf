"""What send-bulk writes: CSV cells a spreadsheet shows as text, never runs.

A cell starting with ``=``, ``@``, ``+``, ``-``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets, and ``=HYPERLINK(...)`` in a recipient list would run
when the results are opened. OWASP's advice (https://owasp.org/www-community/attacks/CSV_Injection):
prefix such a cell with a single quote, which the spreadsheet shows as text. A number
(``+13125550001``, ``-5``) is not a formula and stays as it is, so E.164 recipients read back
unchanged.
"""

from __future__ import annotations

import re

__all__ = ["spreadsheet_safe", "unescape"]

_FORMULA_START = ("=", "@", "+", "-", "\t", "\r")
# + or - followed by a plain number is data; anything else after them ("+cmd|...", "-2+3")
# would be computed.
_NUMBER = re.compile(r"[+-][0-9]+(\.[0-9]+)?")


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a spreadsheet will show it, not run it."""
    if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def unescape(cell: str) -> str:
    """The text :func:`spreadsheet_safe` was given (for reading a results file back)."""
    if cell.startswith("'") and spreadsheet_safe(cell[1:]) == cell:
        return cell[1:]
    return cell

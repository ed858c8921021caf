"""send-bulk's results file: one row per input row, flushed as it comes, cells a spreadsheet
shows as text and never runs.

A cell starting with ``=``, ``@``, ``+``, ``-``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets, and ``=HYPERLINK(...)`` in a recipient list would run
when the results are opened. OWASP's advice (https://owasp.org/www-community/attacks/CSV_Injection):
prefix such a cell with a single quote, which the spreadsheet shows as text. A number
(``+13125550001``, ``-5``) is not a formula and stays as it is, so E.164 recipients read back
unchanged.
"""

from __future__ import annotations

import contextlib
import csv
import re
from pathlib import Path
from typing import IO, Any

__all__ = [
    "RESULT_COLUMNS",
    "CannotWriteError",
    "ResultsFile",
    "open_results",
    "spreadsheet_safe",
    "unescape",
]

RESULT_COLUMNS = ("row", "to", "status", "message_id", "error_code", "error_title", "attempts")

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


def open_results(path: Path) -> IO[str]:
    """The results file, opened for writing (a seam the tests fill up like a full disk)."""
    return path.open("w", newline="", encoding="utf-8")


class CannotWriteError(Exception):
    """The results file could not be written (a full disk): the run stops."""

    def __init__(self, error: OSError, written: int) -> None:
        super().__init__(error.strerror or str(error))
        self.written = written


class ResultsFile:
    """results.csv, opened at the first result, every row flushed as it comes.

    A resume writes beside the earlier results and puts its file in their place when it
    ends: refused halfway (the input changed), it leaves them as they were.
    """

    def __init__(self, path: Path, *, replacing: bool) -> None:
        self.path = path.with_name(path.name + ".resuming") if replacing else path
        self._final = path
        self.written = 0
        self._file: IO[str] | None = None

    def write(self, row: tuple[Any, ...]) -> None:
        try:
            if self._file is None:
                self._file = open_results(self.path)
                self._writer = csv.writer(self._file)
                self._writer.writerow(RESULT_COLUMNS)
            self._writer.writerow([spreadsheet_safe(str(cell)) for cell in row])
            self._file.flush()  # a crash loses no result already seen
        except OSError as exc:
            raise CannotWriteError(exc, self.written) from exc
        self.written += 1

    def close(self, *, keep: bool = True) -> None:
        if self._file is None:
            return
        with contextlib.suppress(OSError):  # a flush failing again: already reported
            self._file.close()
        if self.path != self._final:
            if keep:
                self.path.replace(self._final)
            else:
                self.path.unlink()

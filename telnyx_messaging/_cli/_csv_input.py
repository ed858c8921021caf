"""Reading send-bulk's CSV: from a file or a pipe, with the file's own row and line numbers.

A regular file is read twice (once to check it, once to send), so a million rows take no
memory. Anything else (``-``, ``/dev/stdin``, a named pipe) can be read only once: it is read
whole before anything is checked or sent, or refused (a terminal).
"""

from __future__ import annotations

import csv
import io
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from attrs import frozen

__all__ = ["BadInputError", "CsvRow", "CsvSource", "read_rows"]


class BadInputError(Exception):
    """Input the command refuses before sending anything; the message says what to fix."""


@frozen
class CsvRow:
    """One row under the header: ``number`` counts from 1 (as results.csv's ``row``),
    ``line`` is the file's line it starts on, ``cells`` maps each column to its text."""

    number: int
    line: int
    cells: dict[str, str]


class CsvSource:
    """The recipients' CSV: a path to stream, or the text of a pipe read whole."""

    def __init__(self, label: str, path: Path | None, text: str | None) -> None:
        self.label = label
        #: The regular file, or None for input read whole (it has no place on disk to share).
        self.path = path
        self._text = text

    @classmethod
    def open(cls, name: str, stdin: IO[bytes] | None = None) -> CsvSource:
        """The source ``name`` names (``-`` is standard input); BadInputError if unreadable."""
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            return cls._whole("standard input", stream)
        path = Path(name)
        try:
            mode = path.stat().st_mode
            if stat.S_ISREG(mode):
                path.open("rb").close()  # readable: said now, not halfway through
                return cls(repr(name), path, None)
            if stat.S_ISDIR(mode):
                raise BadInputError(f"{name!r} is a directory: give the CSV file")
            with path.open("rb") as stream:
                return cls._whole(repr(name), stream)
        except OSError as exc:
            raise BadInputError(f"cannot read {name!r}: {exc.strerror or exc}") from None

    @classmethod
    def _whole(cls, label: str, stream: IO[bytes]) -> CsvSource:
        if stream.isatty():
            raise BadInputError(
                f"{label} is a terminal: pipe the CSV in (cat list.csv | send-bulk - ...) "
                "or give its path"
            )
        data = stream.read()  # a pipe can be read once: all of it, before anything is sent
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInputError(
                f"{label} is not UTF-8 text ({exc.reason}); save it as UTF-8"
            ) from None
        return cls(label, None, text)

    @contextmanager
    def lines(self) -> Iterator[IO[str]]:
        """The text, opened afresh each time (newline="" as the csv module asks)."""
        if self._text is not None:
            yield io.StringIO(self._text, newline="")
            return
        path = self.path
        if path is None:  # pragma: no cover - one of the two is set by construction
            raise ValueError("a CsvSource needs a path or a text")
        with path.open(newline="", encoding="utf-8-sig") as file:
            yield file


class _CountedLines:
    """The file's lines handed to csv.reader, counted: csv's own ``line_num`` is one short
    when a line fails to parse."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.count = 0

    def __iter__(self) -> _CountedLines:
        return self

    def __next__(self) -> str:
        line = next(self._file)
        self.count += 1
        return line


def read_rows(
    source: CsvSource, file: IO[str], delimiter: str = ","
) -> tuple[list[str], Iterator[CsvRow]]:
    """The header and an iterator of the rows below it, each checked to have one value per
    column; BadInputError names the row and line to fix."""
    lines = _CountedLines(file)
    reader = csv.reader(lines, delimiter=delimiter)
    where = source.label

    def failed(exc: Exception) -> BadInputError:
        if isinstance(exc, UnicodeDecodeError):
            return BadInputError(f"{where} is not UTF-8 text ({exc.reason}); save it as UTF-8")
        return BadInputError(f"{where} line {lines.count} is not valid CSV: {exc}")

    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise failed(exc) from None
    if not header:
        raise BadInputError(f"{where} is empty: the first line must name the columns")
    columns = [name.strip() for name in header]

    def rows() -> Iterator[CsvRow]:
        number = 0
        while True:
            start = lines.count + 1
            try:
                values = next(reader, None)
            except (csv.Error, UnicodeDecodeError) as exc:
                raise failed(exc) from None
            if values is None:
                return
            if not values:
                continue  # a blank line is not a row (csv.DictReader skips it too)
            number += 1
            if len(values) != len(columns):
                more = "more" if len(values) > len(columns) else "fewer"
                raise BadInputError(
                    f"{where} row {number} (line {start}) has {more} values than there are "
                    f"columns ({len(values)}, not {len(columns)})"
                )
            yield CsvRow(number, start, dict(zip(columns, values, strict=True)))

    return columns, rows()

"""``--text`` as a template: literal text and ``{column}`` placeholders, nothing else.

``str.format`` would also run format specs (``{name:>600}``), conversions (``{name!r}``),
attribute and index lookups, and nested fields whose value comes from another cell: a CSV
cell could then set a message's length, or a typo end in a raw ``KeyError``. So the template
is parsed once, anything but a plain column name is refused, and filling it in is string
concatenation: a cell's own braces go in as they are.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

__all__ = ["Template", "TemplateError"]


class TemplateError(ValueError):
    """``--text`` is not a template of ``{column}`` placeholders; the message says why."""


def _spelled(name: str, conversion: str | None, spec: str) -> str:
    return (
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    )


class Template:
    """A message text with ``{column}`` placeholders, checked when made."""

    __slots__ = ("_pieces", "columns")

    def __init__(self, text: str) -> None:
        #: Literal strings at even positions, column names at odd ones.
        self._pieces: list[str] = []
        #: The columns the placeholders name, in order of first use.
        self.columns: list[str] = []
        literal = ""
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise TemplateError(
                f"--text is not a valid template ({exc}): placeholders are {{column}}; "
                "write {{ and }} for literal braces"
            ) from None
        for before, name, spec, conversion in parsed:
            literal += before
            if name is None:
                continue
            placeholder = _spelled(name, conversion, spec or "")
            if spec:
                why = "a format spec (after ':')"
            elif conversion:
                why = "a conversion (after '!')"
            elif not name or name.isdigit():
                why = "no column name"
            elif "." in name or "[" in name:
                why = "an attribute or index"
            else:
                why = ""
            if why:
                raise TemplateError(
                    f"--text has the placeholder {placeholder}, with {why}: placeholders are "
                    "{column} only, a CSV column name in braces, e.g. {name} "
                    "(write {{ and }} for literal braces)"
                )
            self._pieces += [literal, name]
            literal = ""
            if name not in self.columns:
                self.columns.append(name)
        self._pieces.append(literal)

    def fill(self, row: Mapping[str, str]) -> str:
        """The text with each placeholder replaced by the row's cell, as it is."""
        pieces = self._pieces
        return "".join(piece if n % 2 == 0 else row[piece] for n, piece in enumerate(pieces))

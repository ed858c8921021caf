"""How many SMS parts a text costs, and in which encoding: pure functions, no I/O.

Telnyx bills an SMS per part (https://developers.telnyx.com/docs/messaging/messages/
message-encoding). A text that fits the GSM 03.38 alphabet (3GPP TS 23.038: the basic table,
plus the extension table whose characters take an escape septet each) goes as GSM-7: 160
septets in one part, 153 per part once it is split (7 go to the concatenation header). Any
other character makes the whole text UCS-2: 70 UTF-16 code units in one part, 67 per part when
split. A part never ends in the middle of an escape pair or a surrogate pair; the character
moves whole to the next part.
"""

from __future__ import annotations

from attrs import frozen

__all__ = ["GSM7", "UCS2", "SmsParts", "non_gsm", "sms_parts"]

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# 3GPP TS 23.038 section 6.2.1, the default alphabet in code order (0x1B, the escape to the
# extension table, left out: it is not a character anyone types).
_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
# Section 6.2.1.1, the extension table: each costs the escape septet plus its own.
_EXTENSION = frozenset("\x0c^{}\\[~]|€")

_SINGLE = {GSM7: 160, UCS2: 70}
_MULTI = {GSM7: 153, UCS2: 67}


@frozen
class SmsParts:
    """A text's encoding, its length in septets (GSM-7) or UTF-16 units (UCS-2), and parts."""

    encoding: str
    units: int
    parts: int


def _width(char: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if char in _EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def sms_parts(text: str) -> SmsParts:
    """The encoding and number of SMS parts Telnyx bills for ``text`` (0 parts when empty)."""
    encoding = GSM7 if all(c in _BASIC or c in _EXTENSION for c in text) else UCS2
    widths = [_width(c, encoding) for c in text]
    units = sum(widths)
    if units <= _SINGLE[encoding]:
        return SmsParts(encoding, units, 1 if units else 0)
    size = _MULTI[encoding]
    parts, used = 1, 0
    for width in widths:
        if used + width > size:  # the pair moves whole to the next part
            parts, used = parts + 1, 0
        used += width
    return SmsParts(encoding, units, parts)


def non_gsm(text: str) -> str:
    """The characters of ``text`` outside GSM 03.38, each once, in order: what made it UCS-2."""
    return "".join(dict.fromkeys(c for c in text if c not in _BASIC and c not in _EXTENSION))

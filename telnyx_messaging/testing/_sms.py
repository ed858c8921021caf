"""The encoding and part count Telnyx reports for an SMS text: pure, no I/O.

The fake keeps its own GSM 03.38 table rather than importing the CLI's, so it stays an
independent oracle (tests/fake/test_fake_encoding.py holds it to the `gsm0338` codec).

Telnyx (https://developers.telnyx.com/docs/messaging/messages/message-encoding): a text that
fits the GSM 03.38 alphabet goes as GSM-7, 160 septets in one part or 153 per part once split,
an extension-table character costing an escape septet too; any other character makes the whole
text UCS-2, 70 UTF-16 units in one part or 67 per part. A part never splits an escape pair or a
surrogate pair. The request's ``encoding``: ``ucs2`` forces UCS-2; ``gsm7`` forces GSM-7, and
Telnyx answers 400 when the text has a character GSM-7 cannot carry (the spec's words).
"""

from __future__ import annotations

__all__ = ["GSM7", "GSM_ALPHABET", "UCS2", "not_gsm", "sms_encoding"]

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# 3GPP TS 23.038 6.2.1, the basic table (one septet each; ESC 0x1B is not a text character),
# and 6.2.1.1, the extension table (the escape septet plus its own).
_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION = "\x0c^{}\\[~]|€"
GSM_ALPHABET: dict[str, int] = {**dict.fromkeys(_BASIC, 1), **dict.fromkeys(_EXTENSION, 2)}

# (units in a single part, units per part of a split text)
_SIZES = {GSM7: (160, 153), UCS2: (70, 67)}
_MAX_PARTS = 10  # the spec's maximum; Telnyx refuses longer texts, the fake clamps


def not_gsm(text: str) -> str:
    """The characters of ``text`` GSM-7 cannot carry, each once, in order."""
    return "".join(dict.fromkeys(c for c in text if c not in GSM_ALPHABET))


def sms_encoding(text: str, requested: str = "auto") -> tuple[str, int]:
    """The ``encoding`` and ``parts`` Telnyx reports for ``text`` sent with ``requested``.

    ``gsm7`` with non-GSM text is the caller's to refuse (see `not_gsm`); here it counts as auto.
    """
    gsm = requested != "ucs2" and not not_gsm(text)
    encoding = GSM7 if gsm else UCS2
    widths = [GSM_ALPHABET[c] if gsm else 1 + (ord(c) > 0xFFFF) for c in text]
    single, per_part = _SIZES[encoding]
    if sum(widths) <= single:
        return encoding, 1  # an empty text (MMS) still reports 1: the spec's minimum
    parts, used = 1, 0
    for width in widths:
        if used + width > per_part:  # a pair moves whole to the next part
            parts, used = parts + 1, 0
        used += width
    return encoding, min(parts, _MAX_PARTS)

"""Recipients as people have them, made E.164: ``(312) 555-0002`` -> ``+13125550002``.

Telnyx takes ``to`` in E.164 only, but real lists hold national numbers. These helpers read
them with Google's libphonenumber rules (the `phonenumbers` package, the ``phonenumbers``
extra: ``pip install 'telnyx-messaging[phonenumbers]'``), imported only when they are called.
Nothing is guessed silently: a number that is not a valid number for its region is refused
with the reason, and :func:`normalize_numbers` says which rows it changed.

::

    from telnyx_messaging.recipients import normalize_numbers

    checked = normalize_numbers(rows, default_region="US")
    for fix in checked.changed:
        print(f"row {fix.index}: {fix.before!r} -> {fix.after}")
    for fix in checked.refused:
        print(f"row {fix.index}: {fix.before!r} not sent: {fix.reason}")
    async for result in client.messages.send_many(checked.sendable()):
        ...

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from attrs import frozen

from telnyx_messaging._errors import ConfigurationError, InvalidArgumentError

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["Normalized", "NumberFix", "normalize_number", "normalize_numbers"]


def _phonenumbers() -> ModuleType:
    try:
        import phonenumbers
    except ImportError:  # pragma: no cover - the extra is installed wherever tests run
        raise ConfigurationError(
            "normalising numbers needs the phonenumbers package: "
            "pip install 'telnyx-messaging[phonenumbers]'"
        ) from None
    return phonenumbers


def _region(phonenumbers: ModuleType, default_region: object) -> str:
    if isinstance(default_region, str) and default_region.upper() in phonenumbers.SUPPORTED_REGIONS:
        return default_region.upper()
    raise InvalidArgumentError(
        "default_region must be a two-letter region code (ISO 3166-1) such as 'US' or 'GB', "
        f"the country a number without '+' belongs to; got {default_region!r}"
    )


def _why_not(phonenumbers: ModuleType, parsed: Any, region: str) -> str:
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    results = phonenumbers.ValidationResult
    where = phonenumbers.region_code_for_number(parsed) or region
    if reason == results.TOO_SHORT:
        return f"too short for a number in {where}"
    if reason in (results.TOO_LONG, results.INVALID_LENGTH):
        return f"not the length of a number in {where}"
    if reason == results.INVALID_COUNTRY_CODE:
        return f"+{parsed.country_code} is not a country code"
    return f"not a valid number in {where} (no such area or range)"


_PARSE_ERRORS = {
    0: "its country code is not one that exists",  # INVALID_COUNTRY_CODE
    1: "it is not a phone number",  # NOT_A_NUMBER
    2: "too short after the international prefix",  # TOO_SHORT_AFTER_IDD
    3: "too short to be a phone number",  # TOO_SHORT_NSN
    4: "too long to be a phone number",  # TOO_LONG
}


def normalize_number(number: str, *, default_region: str) -> str:
    """``number`` in E.164, reading numbers without ``+`` as numbers of ``default_region``.

    Raises :class:`~telnyx_messaging.InvalidArgumentError` saying why when the number is not
    a valid number (libphonenumber's metadata decides: ``+1 555 555 0100`` is refused).

    .. versionadded:: 0.2.0
    """
    phonenumbers = _phonenumbers()
    region = _region(phonenumbers, default_region)
    if not isinstance(number, str) or not number.strip():
        raise InvalidArgumentError(f"a phone number must be a non-empty string, got {number!r}")
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        why = _PARSE_ERRORS.get(exc.error_type, str(exc))
        raise InvalidArgumentError(f"{number!r} cannot be read as a phone number: {why}") from None
    if not phonenumbers.is_valid_number(parsed):
        why = _why_not(phonenumbers, parsed, region)
        raise InvalidArgumentError(f"{number!r} cannot be read as a phone number: {why}")
    e164: str = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164


@frozen
class NumberFix:
    """A row whose number :func:`normalize_numbers` changed (``after`` is its E.164) or could
    not read (``after`` is ``None`` and ``reason`` says why). ``index`` counts from 0.

    .. versionadded:: 0.2.0
    """

    index: int
    before: str
    after: str | None
    reason: str | None = None


@frozen
class Normalized:
    """What :func:`normalize_numbers` made of the rows.

    ``rows`` holds every input row in order (new dicts; yours are not changed), its number in
    E.164 where it could be read and as it was where not. ``changed`` lists the rows whose
    number was rewritten, ``refused`` those whose number could not be read, with the reason.

    .. versionadded:: 0.2.0
    """

    rows: list[dict[str, Any]]
    changed: list[NumberFix]
    refused: list[NumberFix]

    def sendable(self) -> list[dict[str, Any]]:
        """The rows without the refused ones (so their positions no longer match the input)."""
        refused = {fix.index for fix in self.refused}
        return [row for index, row in enumerate(self.rows) if index not in refused]


def normalize_numbers(
    rows: Iterable[Mapping[str, Any]], *, default_region: str, key: str = "to"
) -> Normalized:
    """Each row's ``key`` (``"to"``) in E.164, and which rows changed or could not be read.

    A row without ``key``, or whose value is not a string, is refused like an unreadable
    number. See :func:`normalize_number` for the rules.

    .. versionadded:: 0.2.0
    """
    _region(_phonenumbers(), default_region)  # a bad region is the caller's, not each row's
    out: list[dict[str, Any]] = []
    changed: list[NumberFix] = []
    refused: list[NumberFix] = []
    for index, row in enumerate(rows):
        copy = dict(row)
        out.append(copy)
        before: Any = copy.get(key)
        try:
            after = normalize_number(before, default_region=default_region)
        except InvalidArgumentError as exc:
            refused.append(NumberFix(index, str(before), None, str(exc)))
            continue
        if after != before:
            copy[key] = after
            changed.append(NumberFix(index, str(before), after))
    return Normalized(out, changed, refused)

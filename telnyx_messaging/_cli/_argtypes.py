"""Argument types shared by the subcommands, each with a message that names what to write."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation


def _positive(text: str) -> int:
    # argparse would report a ValueError as "invalid _positive value", naming this function.
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _positive_rate(text: str) -> float:
    """Messages per second: a number above 0 (argparse then names the flag in its message)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number, such as 10 or 0.5, not {text!r}"
        ) from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be above 0 (messages per second), not {text!r}")
    return value


def _price(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"must be a number such as 0.004, not {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text!r}")
    return value


def _delimiter(text: str) -> str:
    value = "\t" if text in ("\\t", "tab") else text
    if len(value) != 1:
        raise argparse.ArgumentTypeError(f"must be one character, such as ';', not {text!r}")
    return value

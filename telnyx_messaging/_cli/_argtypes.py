"""Argument types shared by the subcommands, each with a message that names what to write."""

from __future__ import annotations

import argparse


def _positive(text: str) -> int:
    # argparse would report a ValueError as "invalid _positive value", naming this function.
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value

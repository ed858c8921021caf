"""The command line: ``python -m telnyx_messaging demo``, ``fake-server`` and ``send-bulk``.

Each command lives in its own module and adds a subparser with a ``run`` default (a function
of the parsed arguments that returns the exit status) and, optionally, a ``refuse`` default
(a check of the parsed arguments that returns what is wrong, or None). Adding a command is
a module and a line in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from telnyx_messaging import _version
from telnyx_messaging._cli.demo import add_demo
from telnyx_messaging._cli.fake_server import add_fake_server
from telnyx_messaging._cli.send_bulk import add_send_bulk

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; each subcommand sets ``run`` to its function."""
    parser = argparse.ArgumentParser(
        prog="telnyx-messaging",
        description="Try telnyx-messaging against a local fake of the Telnyx API, or serve it.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    add_demo(commands)
    add_fake_server(commands)
    add_send_bulk(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m telnyx_messaging`` and the ``telnyx-messaging`` script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    refuse: Callable[[argparse.Namespace], str | None] | None = getattr(args, "refuse", None)
    if refuse is not None and (refused := refuse(args)):
        parser.error(refused)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:  # pragma: no cover
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

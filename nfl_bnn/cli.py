"""The ``nfl-bnn`` console script.

Subcommands other tools script against. Each prints what it did, exits 0 on success, and on a user
error prints one line ``nfl-bnn: error: <reason>`` and exits non-zero (see :mod:`nfl_bnn.errors`).
Commands are grouped by the part of the system that owns them; heavy imports happen inside handlers
so that ``nfl-bnn --help`` is instant.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from nfl_bnn import __version__
from nfl_bnn.errors import NflBnnError

log = logging.getLogger("nfl_bnn.cli")


# --- data: warehouse and importers -------------------------------------------------------------
def _data_commands(sub: argparse._SubParsersAction) -> None:
    pass


# --- model: training, validation, backtest ----------------------------------------------------
def _model_commands(sub: argparse._SubParsersAction) -> None:
    pass


# --- betting: weekly run, ledger, settlement, review -----------------------------------------
def _betting_commands(sub: argparse._SubParsersAction) -> None:
    pass


# --- operations: doctor, drift, backup, restore, reports --------------------------------------
def _ops_commands(sub: argparse._SubParsersAction) -> None:
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nfl-bnn", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"nfl-bnn {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (_data_commands, _model_commands, _betting_commands, _ops_commands):
        group(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status (0 ok, 1 error, 2 bad parameters, others documented)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from nfl_bnn.logs import setup_logging

    setup_logging(logging.DEBUG if args.verbose else logging.INFO)
    try:
        return int(args.handler(args) or 0)
    except NflBnnError as exc:
        print(f"nfl-bnn: error: {exc}", file=sys.stderr)
        log.error("%s failed: %s", args.command, exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("nfl-bnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

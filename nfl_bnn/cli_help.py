"""Help text for every ``nfl-bnn`` option, and plain text in ``--help``.

``nfl-bnn weekly --help`` used to list ``--bankroll BANKROLL`` and ``--min-edge MIN_EDGE`` with no
word on what they mean, their unit or their default. The options are declared where their commands
are (``cli.py``, where several people add options); this table fills in the help of any option
declared without one, after the parser is built, so a new option cannot ship silent: a test walks
every subcommand and fails on an option without help. Help is also made plain text: the docstring
style's ``literal`` backticks read as noise in a terminal.
"""
from __future__ import annotations

import argparse

#: Help of an option by its destination name, for every command that has it. A command-specific
#: entry ("weekly.lines") wins over the general one.
HELP: dict[str, str] = {
    "season": "NFL season, the year it starts in (e.g. 2024 for the 2024-25 season)",
    "week": "NFL week of the season (e.g. 10)",
    "weekly.week": "NFL week, or 'next': the first week of the season with a kickoff still ahead (for cron)",
    "bankroll": "bankroll in currency units; stakes are fractions of it (default from params/weekly.yaml or the "
                "profile)",
    "review.bankroll": "starting bankroll (default: the one recorded with the season's first bets)",
    "profile": "risk profile: ultra_conservative | conservative (default) | moderate | aggressive "
               "(params/profiles/)",
    "kelly_fraction": "fraction of the full Kelly stake to bet, in (0, 1] (default from the profile, e.g. 0.15)",
    "max_bet_fraction": "largest stake as a fraction of the bankroll, in (0, 1] (default from the profile)",
    "min_edge": "smallest edge to bet, model probability minus market probability, e.g. 0.03 = 3 points "
                "(default from the profile)",
    "min_confidence": "smallest share of posterior draws with positive expected value at the offered odds, "
                      "in (0, 1] (default from the profile)",
    "paper_trade": "paper trade: run everything, mark every bet simulated in the files and the ledger",
    "model": "model artifact, .npz (default models/latest.npz)",
    "lines": "where lines come from: warehouse (imported lines) or proxy (clearly labelled PROXY lines)",
    "backtest.lines": "lines to compare with: nflcom:PATH (NFL.com projection rounded to .5) or warehouse",
    "backtest-bets.lines": "auto (imported lines where present, else PROXY lines) | warehouse | proxy",
    "params": "YAML parameters file",
    "first_season": "first season to train on (e.g. 2012)",
    "last_season": "last season to train on, inclusive (e.g. 2024)",
    "out": "output path",
    "seasons": "only these seasons",
    "path": "file to import",
    "format": "file format",
    "weeks": "weeks to run, e.g. 1-17 or 3,4,5 (default: every regular-season week)",
    "nflcom": "NFL.com projections CSV, for proxy:nflcom lines (e.g. 2024)",
    "last_week": "use weeks up to this one (default 22: the whole season)",
    "threshold": "shift of a feature's mean, in training standard deviations, that recommends retraining",
    "calibration_weeks": "how many of the latest weeks with eligible backs the calibration check scores",
    "archive": "backup archive, backups/nfl_bnn_backup_<timestamp>.tar.gz",
    "force": "overwrite existing models and reports",
    "name": "notebook: train, weekly, calibration, review, drift or backtest",
    "regions": "The Odds API regions (default us)",
    "bookmakers": "comma-separated bookmaker keys (default: all in the regions)",
    "no_progress": "no progress bar (for cron logs)",
    "log_output": "also stream every cell's output to the log",
    "run_id": "name of the run folder (default s<season>_w<week>_<timestamp>)",
    "verbose": "debug logging",
}


def plain(text: str | None) -> str | None:
    """Help text without reStructuredText literals: ``x`` and `x` become x and 'x'."""
    if not text:
        return text
    return text.replace("``", "").replace("`", "'")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def fill_help(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give every option without help its text from :data:`HELP`, and make all help plain text."""
    parser.description = plain(parser.description)
    for command, sub in _subparsers(parser).items():
        sub.description = plain(sub.description)
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not action.help:
                action.help = HELP.get(f"{command}.{action.dest}") or HELP.get(action.dest)
            action.help = plain(action.help)
    for action in parser._actions:
        action.help = plain(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = plain(choice.help)
    return parser


def options_without_help(parser: argparse.ArgumentParser) -> list[str]:
    """``command --option`` of every option that still has no help (a test keeps this empty)."""
    missing = []
    for command, sub in _subparsers(parser).items():
        for action in sub._actions:
            if not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{command} {'/'.join(action.option_strings) or action.dest}")
    return missing

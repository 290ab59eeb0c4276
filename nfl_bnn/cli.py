"""The ``nfl-bnn`` console script.

Subcommands other tools script against. Each prints what it did, exits 0 on success, and on a user
error prints one line ``nfl-bnn: error: <reason>`` and exits non-zero (see :mod:`nfl_bnn.errors`).
Commands are grouped by the part of the system that owns them; heavy imports happen inside handlers
so that ``nfl-bnn --help`` is instant.
"""
from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Sequence

from nfl_bnn import __version__, config
from nfl_bnn.cli_betting import (  # noqa: F401  (the handlers stay reachable as nfl_bnn.cli.X)
    _betting_commands,
    _cmd_backtest_bets,
    _cmd_review,
    _cmd_settle,
    _cmd_weekly,
    _week_or_next,
    _weeks_arg,
)
from nfl_bnn.cli_data import _data_commands
from nfl_bnn.cli_ops import _ops_commands
from nfl_bnn.errors import NflBnnError

log = logging.getLogger("nfl_bnn.cli")


# --- model: training, validation, backtest ----------------------------------------------------
def _model_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fit the mixture-of-experts model on the warehouse's seasons A-B")
    p.add_argument("--first-season", type=int, required=True)
    p.add_argument("--last-season", type=int, required=True)
    p.add_argument("--out", required=True, help="artifact path (.npz)")
    p.add_argument("--params", default=None, help="YAML of TrainParams (default params/train.yaml)")
    p.add_argument("--validate-season", type=int, default=None,
                   help="season the fit is checked on before saving (default: the next one if loaded, "
                        "else the last training season, in-sample)")
    p.set_defaults(handler=_cmd_train)
    p = sub.add_parser("backtest", help="predict every week of a season from pre-kickoff information")
    p.add_argument("--season", type=int, required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True, help="CSV, one row per eligible player-game")
    p.add_argument("--lines", default=None, help="nflcom:PATH (projection rounded to .5) or warehouse")
    p.set_defaults(handler=_cmd_backtest)


def _load_history(first: int, last: int):
    from nfl_bnn import features, warehouse

    wh = warehouse.connect()
    return features.load_history(wh, first, last), wh


def _load_frames(first: int, last: int):
    h, wh = _load_history(first, last)
    return h.stats, h.games, h.injuries, wh


def _cmd_train(args) -> int:
    from nfl_bnn import role_features, train

    params = train.load_train_params(args.params)
    check = args.validate_season if args.validate_season is not None else args.last_season + 1
    if check <= args.last_season:
        from nfl_bnn.errors import ConfigError

        raise ConfigError(f"--validate-season {check} must come after --last-season {args.last_season} "
                          "(walk-forward: the model never sees the season it is checked on)")
    history, _ = _load_history(args.first_season, check)  # targets graded with snap counts (docs/roles.md)
    frame, valid = (role_features.for_training_if_used(history, history.training_frame(a, b), params.features)
                    for a, b in ((args.first_season, args.last_season), (check, check)))  # role features if used
    model, diag = train.fit(frame, params, args.first_season, args.last_season)
    holdout = train.check_season(model, frame, valid, check, required=args.validate_season is not None)
    train.save_if_fit(model, diag, holdout, args.out)
    print(f"trained on {len(frame)} player-games {args.first_season}-{args.last_season} in {diag['wall_s']} s; "
          f"checked on {holdout.rows} player-games of {holdout.season}"
          f"{'' if holdout.held_out else ' (in-sample)'}; wrote {args.out}")
    return 0


def _cmd_backtest(args) -> int:
    import numpy as np

    from nfl_bnn import features
    from nfl_bnn.errors import ConfigError
    from nfl_bnn.fileio import atomic_write, csv_writer
    from nfl_bnn.model import MixtureExpertsBNN

    model = MixtureExpertsBNN.load(args.model)
    history, wh = _load_history(args.season, args.season)
    frame = history.with_targets(args.season, args.season).rename(columns={"rushing_yards": "actual_yards"})
    from nfl_bnn import role_features  # a model trained with role features is scored on the same numbers

    frame = role_features.for_training_if_used(history, frame, model.feature_names)
    line = np.full(len(frame), np.nan)
    if args.lines and args.lines.startswith("nflcom:"):
        from nfl_bnn import nflcom

        proj = nflcom.join_projections(frame, nflcom.read_projections(args.lines.split(":", 1)[1]))
        line = nflcom.line_from_projection(proj)
    elif args.lines == "warehouse":
        from nfl_bnn import warehouse

        for wk in sorted(frame["week"].unique()):
            bl = warehouse.load_best_lines(wh, args.season, int(wk))
            if len(bl):
                bl = bl[bl["side"] == "over"].drop_duplicates("player_id").set_index("player_id")["line"]
                sel = (frame["week"] == wk).to_numpy()
                line[sel] = frame.loc[sel, "player_id"].map(bl).to_numpy(float)
    elif args.lines:
        raise ConfigError(f"--lines {args.lines!r} is not understood; use nflcom:PATH or warehouse")
    pred = model.predict(frame)
    p_over = np.full(len(frame), np.nan)
    ok = np.isfinite(line)
    if ok.any():
        p_over[ok] = model.prob_over(frame[ok], line[ok])
    out = frame[features.COLUMNS].join(pred)
    out["p_over"], out["line"], out["actual_yards"] = p_over, line, frame["actual_yards"]
    atomic_write(args.out, csv_writer(out))
    print(f"wrote {len(out)} player-games of {args.season} to {args.out}")
    return 0


# --- argument types: every range check and path rule of the options, in one place --------------
#: the largest bankroll taken: a typo beyond it (1e308) would make stakes overflow to infinity
MAX_BANKROLL = 1e12


def _int_in(lo: int, hi: int, what: str):
    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{what} must be {lo}-{hi}, not {value}")
        return value
    return check


def _float_in(lo: float, hi: float, what: str):
    """A finite float with lo < value <= hi (nan, inf and 1e400 are refused)."""
    def check(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
        if not (math.isfinite(value) and lo < value <= hi):
            raise argparse.ArgumentTypeError(f"{what} must be a number above {lo:g} and at most {hi:g}, not {text}")
        return value
    return check


def _path(text: str) -> str:
    """Any path option: resolved by the one rule of :func:`nfl_bnn.config.resolve_path`."""
    return str(config.resolve_path(text))


def _path_or_url(text: str) -> str:
    return text if "://" in text else _path(text)


def _lines_spec(text: str) -> str:
    """``backtest --lines``: ``nflcom:PATH`` has its PATH resolved like every other path."""
    return "nflcom:" + _path(text.split(":", 1)[1]) if text.startswith("nflcom:") else text


_season = _int_in(1999, 2100, "season")
_week = _int_in(1, 22, "week (NFL weeks run 1-22)")
_bankroll = _float_in(0, MAX_BANKROLL, "bankroll")

#: (command, option dest) -> type. Kept apart from the option definitions so the rules are read and
#: reviewed together; weekly's --season/--week are checked by WeeklyParams (one line, exit 2).
ARG_TYPES = {
    **{(c, "season"): _season for c in ("settle", "review", "backtest-bets", "backtest", "drift", "fetch-lines",
                                        "import-lines")},
    **{(c, "week"): _week for c in ("settle", "review", "fetch-lines", "import-lines")},
    ("train", "first_season"): _season, ("train", "last_season"): _season, ("train", "validate_season"): _season,
    ("drift", "last_week"): _week,
    **{(c, "bankroll"): _bankroll for c in ("weekly", "review", "backtest-bets")},
    ("drift", "threshold"): _float_in(0, 100, "threshold (in training sd)"),
    ("doctor", "calibration_weeks"): _int_in(1, 22, "calibration weeks"),
    **{(c, d): _path for c, d in (("train", "out"), ("train", "params"), ("backtest", "model"), ("backtest", "out"),
                                  ("weekly", "model"), ("weekly", "params"), ("backtest-bets", "model"),
                                  ("backtest-bets", "nflcom"), ("drift", "model"), ("doctor", "model"),
                                  ("restore", "archive"), ("import-lines", "path"), ("run-notebook", "params"),
                                  ("import-game-lines", "paths"))},
    **{("import-nflverse", d): _path_or_url for d in ("player_stats", "schedules", "injuries")},
    ("backtest", "lines"): _lines_spec,
}


def _apply_arg_types(sub: argparse._SubParsersAction) -> list[tuple[str, str]]:
    """Set each option's type from ARG_TYPES; return the entries the parser lacks (a test keeps that empty,
    so a renamed option is caught there rather than breaking every command)."""
    missing = []
    for (command, dest), check in ARG_TYPES.items():
        parser = sub.choices.get(command)
        actions = [a for a in parser._actions if a.dest == dest] if parser else []
        for action in actions:
            action.type = check
        if not actions:
            missing.append((command, dest))
    return missing


#: commands that need an existing warehouse: a missing DuckDB file is refused rather than created empty
#: (a mistyped NFL_BNN_WAREHOUSE); init-db and the imports create it, the others do not open it
READS_WAREHOUSE = {"weekly", "settle", "review", "backtest-bets", "train", "backtest", "drift"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nfl-bnn", description="NFL rushing-yards predictions and prop bets: data, training, the weekly "
        "run, settlement and reports.", epilog="Run 'nfl-bnn COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"nfl-bnn {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (_data_commands, _model_commands, _betting_commands, _ops_commands):
        group(sub)
    from nfl_bnn.cli_help import fill_help

    _apply_arg_types(sub)
    return fill_help(parser)  # help text for every option, plain text (no reST backticks)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status (0 ok, 1 error, 2 bad parameters, others documented)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from nfl_bnn.logs import setup_logging

    setup_logging(logging.DEBUG if args.verbose else logging.INFO)
    try:
        if args.command in READS_WAREHOUSE:
            from nfl_bnn.warehouse import existing_file_only

            with existing_file_only():
                return int(args.handler(args) or 0)
        return int(args.handler(args) or 0)
    except NflBnnError as exc:
        print(f"nfl-bnn: error: {exc}", file=sys.stderr)
        log.error("%s failed: %s", args.command, exc, extra={"file_only": True})  # stderr: one line
        return exc.exit_code
    except OSError as exc:  # a file the user named is a folder, unreadable, on a full disk ...: one line too
        if isinstance(exc, IsADirectoryError):
            msg = f"{exc.filename} is a folder; give the path of a file"
        else:
            msg = f"cannot use {exc.filename}: {exc.strerror}" if exc.filename else f"{exc.strerror or exc}"
        print(f"nfl-bnn: error: {msg}", file=sys.stderr)
        log.error("%s failed: %s", args.command, msg, extra={"file_only": True})
        return 1
    except KeyboardInterrupt:
        print("nfl-bnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

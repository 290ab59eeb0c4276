"""``nfl-bnn`` betting commands: weekly, settle, review, backtest-bets.

Registered on the console script's parser by :func:`nfl_bnn.cli.build_parser`; heavy imports happen
inside the handlers so that ``nfl-bnn --help`` is instant.
"""
from __future__ import annotations

import argparse

from nfl_bnn import config


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
    b.add_argument("--bet-time", help="replay the REAL quote history (prop_lines) at open, close or H hours "
                                      "before kickoff, with the market blend learned walk-forward (needs --out)")
    b.add_argument("--out", help="CSV of the real-line backtest: one row per priced player-game")
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
    if args.bet_time is not None or args.out:
        from pathlib import Path

        from nfl_bnn import fileio
        from nfl_bnn.errors import ConfigError

        if args.bet_time is None or not args.out or args.lines == "proxy":
            raise ConfigError("a real-line backtest needs --lines warehouse (or auto), --bet-time open|close|H "
                              "and --out CSV")
        bt = backtest_betting.parse_bet_time(args.bet_time)
        with warehouse.connect(read_only=True) as wh:
            rows, blends = backtest_betting.real_run(args.season, model, p, wh, bt, weeks=_weeks_arg(args.weeks))
        out = Path(args.out)
        fileio.ensure_writable_dir(out.parent if str(out.parent) else Path("."))
        fileio.atomic_write_group({out: lambda f: rows[backtest_betting.REAL_COLUMNS].to_csv(f, index=False),
                                   out.with_suffix(".blends.csv"): lambda f: blends.to_csv(f, index=False)})
        print(backtest_betting.real_summary(rows, bt))
        print(f"wrote {out} and {out.with_suffix('.blends.csv')} (the market blend's window and weights per week)")
        return 0
    with warehouse.connect() as wh:
        res = backtest_betting.run(args.season, model, p, wh, weeks=_weeks_arg(args.weeks), lines_mode=args.lines)
    print(res.text)
    for f in res.output_files:
        print(f"wrote {f}")
    return 0

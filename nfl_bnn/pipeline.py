"""The weekly run: predictions -> lines -> sized bets -> files + ledger, with monitoring.

Order of a run, chosen so that a crash at any point leaves files and ledger consistent:

1. validate every parameter (:class:`WeeklyParams`; ConfigError, exit 2) before anything else;
2. prove ``reports/weekly/`` is writable (fileio.ensure_writable_dir) before any heavy work;
3. take the run lock of (season, week) (fileio.run_lock; a second run refuses, exit 75);
4. read the warehouse, build features, predict, price lines, size stakes: nothing written yet;
5. STAGE the three week files as hidden temp files beside their targets (written and fsync'ed; the
   visible files are untouched). A failure here removes the temp files: files and ledger as before;
6. record the bets in the ledger in ONE transaction (replace this week's open bets of the same
   model/profile/paper flag). A failure or a lost database rolls back: files and ledger as before;
   in a week already under way (some games kicked off, some not: a rerun after Friday's injury
   report) the games that have kicked off are not priced again and their bets are kept as placed.
   Every bet the run keeps (kicked off, settled, another model version: ``ledger.kept_bets``) uses up
   the week's and its game's cap before new bets are sized, is listed in the bets file and the
   summary beside the new ones, and counts in monitoring, so files, summary and ledger always hold
   the same bets. Without ``--bankroll`` the bankroll is the ledger's (first recorded bankroll +
   settled profit of earlier weeks, per profile and paper flag);
7. PUBLISH: rename the staged files over the targets (atomic per file, same folder, no new space
   needed) and repoint ``latest_bets.csv`` / ``latest_summary.txt``.
Only a kill in the instant between 6 and 7 can leave the ledger one run ahead of the files; both then
hold complete results of the same week, and re-running the week (idempotent) brings both to the same run.

Exit statuses of ``nfl-bnn weekly``: 0 ok, 3 ok but monitoring raised alerts, 1 error (data, model,
database; also a postseason week: the model prices the regular season only), 2 bad parameters, 75
another run of the same week holds the lock.

The parts live beside this module and are re-exported here: the parameters in :mod:`nfl_bnn.weekly_params`,
pricing in :mod:`nfl_bnn.pricing`, the week's frames and summary in :mod:`nfl_bnn.week_report`.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from nfl_bnn import config, eligibility, fileio, game_lines, ledger, monitoring, proxy_lines
from nfl_bnn.errors import DataError
from nfl_bnn.legacy_pipeline import BNNMoEProductionPipeline
from nfl_bnn.pricing import (
    Committed,
    _team_changed,
    _team_changed_rows,
    load_week_lines,
    market_gate,
    price_week,
    weekly_blend,  # called by this global name in _compute_and_write: tests replace pipeline.weekly_blend
)
from nfl_bnn.week_report import (
    BET_COLUMNS,
    bets_frame,
    kept_bets_frame,
    lines_not_priced,
    no_bet_reasons,
    predictions_frame,
    summary_text,
    week_bets,
    zero_bet_streak,
)
from nfl_bnn.weekly_params import PROFILES, WeeklyParams, load_weekly_params

__all__ = [  # the moved names stay importable from here: `from nfl_bnn.pipeline import X`, `pipeline.X`
    "BET_COLUMNS",
    "PROFILES",
    "BNNMoEProductionPipeline",
    "Committed",
    "WeekResult",
    "WeekRun",
    "WeeklyParams",
    "_team_changed",
    "_team_changed_rows",
    "bets_frame",
    "kept_bets_frame",
    "ledger_bankroll",
    "lines_not_priced",
    "load_week_lines",
    "load_weekly_params",
    "market_gate",
    "no_bet_reasons",
    "predictions_frame",
    "price_week",
    "reports_as_of",
    "require_regular_season",
    "run_week",
    "started_games",
    "summary_text",
    "week_bets",
    "weekly_blend",
    "weekly_dir",
    "zero_bet_streak",
]

log = logging.getLogger("nfl_bnn.pipeline")


def weekly_dir() -> Path:
    """Where weekly outputs go: ``reports/weekly/`` (moves with NFL_BNN_HOME)."""
    return config.reports_dir() / "weekly"


@dataclass
class WeekResult:
    params: WeeklyParams
    predictions: pd.DataFrame
    candidates: pd.DataFrame
    bets: pd.DataFrame
    summary: str
    alerts: list[monitoring.Alert]
    output_files: list[Path] = field(default_factory=list)
    ledger_counts: ledger.RecordCounts | None = None
    run_id: str = ""
    kept: int = 0  # bets of the week the run left as they were (kicked off, settled, another model version)

    @property
    def exit_status(self) -> int:
        return monitoring.ALERT_EXIT_STATUS if self.alerts else 0


# --- the computation (no side effects) ------------------------------------------------------------
def reports_as_of(injuries: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Injury reports published at or before ``as_of`` (UTC); ``reported_at`` is US/Eastern wall clock.

    A report published after the as-of time was not known then, so it must not move a prediction of a
    run (or a rerun) made as of that time. Reports without a publication time are kept (nothing says
    they are late) and counted in the log.
    """
    if injuries.empty:
        return injuries
    cut = pd.Timestamp(as_of).tz_localize("UTC").tz_convert("America/New_York").tz_localize(None)
    at = pd.to_datetime(injuries["reported_at"])
    late = at.notna() & (at > cut)
    if late.any():
        log.info("%d injury report(s) published after the as-of time %s UTC are not used", int(late.sum()), as_of)
    if at.isna().any():
        log.info("%d injury report(s) have no publication time and are used as published", int(at.isna().sum()))
    return injuries[~late].reset_index(drop=True)


def started_games(games: pd.DataFrame, season: int, week: int, now: datetime) -> set[str]:
    """Games of a week under way that have kicked off by ``now`` (US/Eastern wall clock, as stored).

    Empty when no game of the week has kicked off, and when all have: a past week is a replay
    (paper trading, backtests), where every game is priced as it stood before kickoff.
    """
    wk = games[(games["season"] == season) & (games["week"] == week)]
    kicked = wk["kickoff"].notna() & (pd.to_datetime(wk["kickoff"]) <= pd.Timestamp(now))
    if kicked.all() or not kicked.any():
        return set()
    return set(wk.loc[kicked, "game_id"].astype(str))


# --- files ----------------------------------------------------------------------------------------
def _clean_stale_temps(out_dir: Path, tag: str) -> None:
    """Remove temp files a killed earlier run of this week left behind (.s<season>_w<week>_*.tmp)."""
    for f in out_dir.glob(f".{tag}_*.tmp"):
        f.unlink(missing_ok=True)


def _text_writer(text: str) -> Callable[[Path], None]:
    return lambda p: p.write_text(text)


# --- the run --------------------------------------------------------------------------------------
def run_week(p: WeeklyParams, *, wh: Any = None, model: Any = None, record: bool = True,
             now: datetime | None = None) -> WeekResult:
    """Run one week end to end (see the module docstring for the order and its guarantees).

    ``now`` (US/Eastern wall clock, default the current time) decides which games have kicked off.
    """
    if now is None:
        from nfl_bnn.warehouse import eastern_now

        now = eastern_now()
    out_dir = fileio.ensure_writable_dir(weekly_dir())
    tag = f"s{p.season}_w{p.week}"
    with fileio.run_lock(out_dir / f".{tag}.lock", f"the weekly run of season {p.season} week {p.week}"):
        _clean_stale_temps(out_dir, tag)
        run_id = uuid.uuid4().hex[:12]
        if model is None:
            from nfl_bnn.model import MixtureExpertsBNN

            model = MixtureExpertsBNN.load(config.resolve_model_path(p.model_path))
        own = wh is None
        if own:
            from nfl_bnn import warehouse

            wh = warehouse.connect()
        try:
            result = _compute_and_write(WeekRun(p, wh, model, out_dir, tag, run_id, record, now))
        finally:
            if own:
                wh.close()
    monitoring.log_alerts(result.alerts, f"s{p.season} w{p.week}")
    return result


@dataclass(frozen=True)
class WeekRun:
    """What one weekly run works with, handed to :func:`_compute_and_write` as one value."""

    p: WeeklyParams
    wh: Any
    model: Any
    out_dir: Path
    tag: str
    run_id: str
    record: bool
    now: datetime


def require_regular_season(games: pd.DataFrame, season: int, week: int, where: str) -> None:
    """Refuse a week with no regular-season game: features and training use regular-season games only,
    so a playoff week would give no prediction at all (and a misleading low-volume alert)."""
    wk = games[(games["season"] == season) & (games["week"] == week)]
    if wk.empty:
        raise DataError(f"no games for season {season} week {week} in mart.games ({where}); "
                        "check the season and week, or import that schedule")
    if not (wk["season_type"] == "REG").any():
        kinds = ", ".join(sorted(set(wk["season_type"].astype(str))))
        raise DataError(f"season {season} week {week} is a postseason week ({kinds} games): the model prices the "
                        "regular season only (its features and training use regular-season games); nothing was "
                        "priced or written. Run a regular-season week (1-18 since 2021, 1-17 before)")


def ledger_bankroll(p: WeeklyParams, wh: Any) -> tuple[WeeklyParams, str]:
    """``p`` with the ledger's bankroll (first recorded + settled profit of earlier weeks), and a note
    saying where the bankroll came from. A bankroll the user gave is used as is."""
    if not p.bankroll_from_ledger:
        return p, "given"
    lb = ledger.bankroll_before(wh, season=p.season, week=p.week, profile=p.profile, paper=p.paper_trade)
    if lb is None:
        return p, f"from params: the ledger has no {'paper ' if p.paper_trade else ''}bets of profile {p.profile} yet"
    note = (f"from the ledger: start {lb.start:,.2f} + settled profit {lb.settled_profit:,.2f} of "
            f"{lb.settled_bets} bets of earlier weeks")
    if lb.bankroll <= 0:
        raise DataError(f"the ledger's bankroll for profile {p.profile}{' (paper)' if p.paper_trade else ''} is "
                        f"{lb.bankroll:,.2f} ({note[len('from the ledger: '):]}): nothing left to stake; "
                        "give --bankroll to start again")
    return p.model_copy(update={"bankroll": lb.bankroll}), note


def _compute_and_write(run: WeekRun) -> WeekResult:
    from nfl_bnn import features

    p, wh, model, out_dir, tag = run.p, run.wh, run.model, run.out_dir, run.tag
    history = features.load_history(wh, p.season, p.season)
    stats, games = history.stats, history.games
    require_regular_season(games, p.season, p.week, wh.description)
    version = str(model.version)
    frozen = started_games(games, p.season, p.week, run.now)
    kept = ledger.kept_bets(wh, season=p.season, week=p.week, market=p.market, profile=p.profile,
                            model_version=version, paper=p.paper_trade, keep_games=frozen)
    p, bankroll_note = ledger_bankroll(p, wh)
    as_of = pd.Timestamp(p.as_of) if p.as_of else pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))
    # the week's spread and total as known at as_of where stored (mart.game_lines), else the schedule's
    games_now, game_lines_note = game_lines.week_games_as_of(wh, history.games, p.season, p.week, as_of)
    history = replace(history, injuries=reports_as_of(history.injuries, as_of), games=games_now)
    injuries = history.injuries
    if model.learned_from("mate_out_share") and not features.injury_coverage(injuries, p.season, p.week):
        log.warning("no injury report for season %d week %d in the warehouse: the model's injury feature reads "
                    "'nobody out', so backups of an injured starter are under-projected; import the report "
                    "first (`nfl-bnn import-nflverse --injuries injuries_%d.parquet`)", p.season, p.week, p.season)
    eastern = as_of.tz_localize("UTC").tz_convert("America/New_York").tz_localize(None)  # as mart.games.kickoff
    feats = history.for_week(p.season, p.week, as_of=eastern).reset_index(drop=True)  # rosters known by then
    roster_note = eligibility.roster_note(history.roles, history.games, p.season, p.week, eastern)
    from nfl_bnn.role_features import for_week_if_used  # role sources (issue 13): warns when one is missing

    feats = for_week_if_used(wh, feats, games, p.season, p.week, model.feature_names, as_of=eastern)
    preds = model.predict(feats) if len(feats) else pd.DataFrame(columns=["mean", "median", "sd"])
    line_notes: list[str] = []
    if p.lines == "proxy":
        lines = proxy_lines.proxy_lines(stats, feats, p.season, p.week, nflcom_path=p.nflcom_path)
    else:
        lines, line_notes = load_week_lines(wh, p, as_of, set(stats["player_id"].astype(str)))
    if frozen:
        log.info("week s%s w%s is under way: %d game(s) kicked off are not priced again, their bets stay as "
                 "placed", p.season, p.week, len(frozen))
        lines = lines[~lines["player_id"].isin(feats.loc[feats["game_id"].isin(frozen), "player_id"])]
    if len(kept):  # their bets stand (settled, kicked off, another model version): never a second bet
        log.info("week s%s w%s: %d bet(s) kept as placed, staked %.2f, count toward the caps", p.season, p.week,
                 len(kept), kept["stake"].sum())
        lines = lines[~lines["player_id"].isin(kept["player_id"])]
    blend = weekly_blend(wh, model, p, stats, games, injuries)
    log.debug("%s", blend.describe())  # recorded in the summary file too
    sized = (price_week(feats, preds, lines, model, p, Committed.of(kept), blend=blend) if len(feats)
             else pd.DataFrame(columns=["player_id", "reason"]))
    new_bets = bets_frame(sized, p.paper_trade)
    bets = week_bets(new_bets, kept)
    predictions = predictions_frame(feats, preds, sized)
    predictions.loc[predictions["player_id"].isin(kept["player_id"]), "decision"] = "kept"
    predictions.loc[predictions["game_id"].isin(frozen), "decision"] = "kicked_off"
    staked = float(bets["bet_amount"].sum())
    health = monitoring.WeekHealth(
        n_predictions=len(predictions), n_bets=len(bets),
        zero_bet_streak=zero_bet_streak(out_dir, p.season, p.week, len(bets)),
        staked=staked, bankroll=p.bankroll, avg_edge=float(bets["edge"].mean()) if len(bets) else None,
        kept_staked=float(kept["stake"].sum()) if len(kept) else 0.0,
        median_edge=float(new_bets["edge"].median()) if len(new_bets) else None,
    )
    alerts = monitoring.check(health, p.alerts)
    summary = summary_text(p, version, predictions, sized, bets, lines, health, alerts, run.run_id, bankroll_note,
                           notes=[f"quotes and injury reports as of {as_of:%Y-%m-%d %H:%M} UTC", game_lines_note,
                                  roster_note]
                           + line_notes,
                           blend_text=blend.describe())

    files = {out_dir / f"{tag}_predictions.csv": fileio.csv_writer(predictions),
             out_dir / f"{tag}_bets.csv": fileio.csv_writer(bets[BET_COLUMNS]),
             out_dir / f"{tag}_summary.txt": _text_writer(summary)}
    staged = fileio.stage_files(files)  # step 5
    try:
        counts = None
        if run.record:  # step 6
            rows = ledger.to_ledger_rows(
                new_bets.rename(columns={"bet_amount": "stake", "kelly_fraction": "bet_fraction"}),
                season=p.season, week=p.week, market=p.market, profile=p.profile, model_version=version,
                paper=p.paper_trade, bankroll=p.bankroll, params=p.model_dump(), run_id=run.run_id,
                placed_at=datetime.now(UTC).replace(tzinfo=None),
            )
            counts = ledger.record_week(wh, rows, season=p.season, week=p.week, market=p.market, profile=p.profile,
                                        model_version=version, paper=p.paper_trade, keep_games=frozen)
    except BaseException:
        fileio.discard_staged(staged)
        raise
    fileio.publish_staged(staged)  # step 7
    fileio.atomic_symlink(out_dir / "latest_bets.csv", f"{tag}_bets.csv")
    fileio.atomic_symlink(out_dir / "latest_summary.txt", f"{tag}_summary.txt")
    log.info("week s%s w%s: %d predictions, %d new bets, %d kept, staked %.2f%s -> %s", p.season, p.week,
             len(predictions), len(new_bets), len(kept), staked, " (paper)" if p.paper_trade else "", out_dir)
    return WeekResult(p, predictions, sized, bets, summary, alerts, list(files), counts, run.run_id, len(kept))


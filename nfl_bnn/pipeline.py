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
"""
from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from nfl_bnn import betting, config, fileio, ledger, monitoring
from nfl_bnn.errors import ConfigError, DataError, NflBnnError
from nfl_bnn.params import ModelPath, Season, StrictModel, Week, load_params, read_yaml

log = logging.getLogger("nfl_bnn.pipeline")

PROFILES = ("ultra_conservative", "conservative", "moderate", "aggressive")


class WeeklyParams(StrictModel):
    """Everything a weekly run depends on; merged from params/weekly.yaml, the profile, overrides."""

    season: Season
    week: Week
    bankroll: float = Field(gt=0, allow_inf_nan=False, description="bankroll; stakes are shares of it")
    bankroll_from_ledger: bool = Field(True, description="size from the ledger's bankroll (first recorded "
                                       "bankroll + settled profit) once it has bets; off when a bankroll is given")
    profile: str = "conservative"
    kelly_fraction: float = Field(gt=0, le=1, description="share of full Kelly staked")
    max_bet_fraction: float = Field(gt=0, le=1, description="cap on one bet, share of bankroll")
    min_edge: float = Field(ge=0, lt=1, description="minimum edge (probability points)")
    min_confidence: float = Field(ge=0, le=1, description="minimum share of draws with positive EV")
    max_week_fraction: float = Field(gt=0, le=1, description="cap on the week's stakes, share of bankroll")
    max_game_fraction: float = Field(gt=0, le=1, description="cap on one game's stakes, share of bankroll")
    margin_method: Literal["multiplicative", "power", "shin"] = "power"
    paper_trade: bool = False
    model_path: ModelPath = "models/latest.npz"
    market: str = "player_rush_yds"
    lines: Literal["warehouse", "proxy"] = "warehouse"
    nflcom_path: str | None = None
    as_of: str | None = Field(default=None, description="use only quotes fetched and injury reports published "
                              "at or before this time (ISO 8601; no zone = UTC); default: the time of the run")
    alerts: monitoring.AlertThresholds = monitoring.AlertThresholds()

    @field_validator("as_of", mode="before")
    @classmethod
    def _iso_time(cls, v: Any) -> Any:
        if v is None:
            return v
        try:
            ts = pd.Timestamp(v)
        except (TypeError, ValueError):
            ts = pd.NaT
        if ts is pd.NaT:
            raise ValueError(f"{v!r} is not a time; use ISO 8601, e.g. 2024-10-06T12:00:00Z")
        ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
        return ts.isoformat()

    @field_validator("bankroll", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"must be a number, not {type(v).__name__} {v!r}")
        return float(v)

    @field_validator("profile")
    @classmethod
    def _profile_name(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z_]+", v):
            raise ValueError(f"profile names are lowercase words ({', '.join(PROFILES)})")
        return v


def load_weekly_params(season: Any, week: Any, weekly_file: str | Path | None = None,
                       **overrides: Any) -> WeeklyParams:
    """params/weekly.yaml < params/profiles/<profile>.yaml < overrides (None = not given)."""
    wf = Path(weekly_file) if weekly_file else config.params_dir() / "weekly.yaml"
    base = read_yaml(wf)
    profile = overrides.get("profile") or base.get("profile", "conservative")
    prof_dir = config.params_dir() / "profiles"
    known = sorted(p.stem for p in prof_dir.glob("*.yaml"))
    if not isinstance(profile, str) or not re.fullmatch(r"[a-z_]+", profile) or profile not in known:
        raise ConfigError(f"unknown risk profile {profile!r}; choose one of {', '.join(known)} "
                          f"(files in {prof_dir})")
    ov = {k: v for k, v in overrides.items() if v is not None}
    if "bankroll" in ov:  # a bankroll the user gives is used as is
        ov.setdefault("bankroll_from_ledger", False)
    ov.update(season=season, week=week, profile=profile)
    return load_params(WeeklyParams, wf, prof_dir / f"{profile}.yaml", overrides=ov)


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


BET_COLUMNS = ["player_name", "player_id", "team", "opponent", "game_id", "side", "line", "odds", "book", "source",
               "model_prob", "market_prob", "edge", "confidence", "ev", "kelly_full", "kelly_fraction", "bet_amount",
               "paper", "status", "kept"]


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


def load_week_lines(wh: Any, p: WeeklyParams, as_of: pd.Timestamp, known_ids: set[str]
                    ) -> tuple[pd.DataFrame, list[str]]:
    """The week's best prices from quotes fetched at or before ``as_of``, the unusable ones left out.

    Same validation as at import (:func:`nfl_bnn.quotes.validate_quote_frame`); a bad or one-sided
    quote or an unmatched player is skipped with a note for the summary, never a failed week.
    """
    from nfl_bnn import quotes, warehouse

    best = warehouse.load_lines_as_of(wh, p.season, p.week, as_of, p.market)
    return quotes.priceable(best, known_ids)


@dataclass(frozen=True)
class Committed:
    """Stakes the week already holds that a run does not replace (:func:`ledger.kept_bets`): they use up
    the week's cap and each game's cap before any new bet is sized."""

    week: float = 0.0
    games: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, kept: pd.DataFrame) -> Committed:
        if kept.empty:
            return cls()
        by_game = kept.groupby(kept["game_id"].astype(str))["stake"].sum()
        return cls(float(kept["stake"].sum()), {g: float(v) for g, v in by_game.items()})

    def shares(self, bankroll: float) -> dict[str, Any]:
        """The :func:`betting.size_stakes` arguments: the committed stakes as shares of ``bankroll``."""
        return {"committed_week": self.week / bankroll,
                "committed_games": {g: v / bankroll for g, v in self.games.items()}}


def price_week(feats: pd.DataFrame, preds: pd.DataFrame, lines: pd.DataFrame, model: Any,
               p: WeeklyParams, committed: Committed | None = None) -> pd.DataFrame:
    """Evaluate every line of an eligible player and size stakes; one row per priced player.

    A line whose team is not the team the player is predicted for is not priced (reason
    ``team_changed``): without a roster table a back who changed teams is predicted with his old team
    until he plays for the new one (mostly week 1), so his features describe another game.
    """
    lines = lines[lines["player_id"].isin(feats["player_id"])].reset_index(drop=True)
    ids = feats.drop_duplicates("player_id").set_index("player_id")
    moved = _team_changed(lines, ids["team"])
    if moved.any():
        log.warning("not pricing %d player(s) whose line is for another team than the one they are predicted "
                    "for (changed teams; priced again once they have played for the new one): %s",
                    lines.loc[moved, "player_id"].nunique(),
                    ", ".join(sorted(set(lines.loc[moved, "player_name"].astype(str)))))
    held = lines[moved].drop_duplicates("player_id")
    lines = lines[~moved].reset_index(drop=True)
    if lines.empty:
        return _team_changed_rows(held)
    idx = feats.reset_index(drop=True).set_index("player_id")
    X = idx.loc[lines["player_id"]].reset_index()
    draws = np.asarray(model.prob_over(X, lines["line"].to_numpy(dtype=float), per_draw=True), dtype=float)
    ev = betting.evaluate_lines(lines, draws, p.margin_method)
    best = betting.best_side_per_player(ev)
    for c in ("game_id", "opponent"):
        best[c] = best["player_id"].map(ids[c])
    if "team" not in best or best["team"].isna().any():
        best["team"] = best["player_id"].map(ids["team"])
    sized = betting.size_stakes(
        best, p.bankroll, kelly_fraction=p.kelly_fraction, max_bet_fraction=p.max_bet_fraction,
        min_edge=p.min_edge, min_confidence=p.min_confidence, max_week_fraction=p.max_week_fraction,
        max_game_fraction=p.max_game_fraction, **(committed or Committed()).shares(p.bankroll),
    )
    return pd.concat([sized, _team_changed_rows(held)], ignore_index=True) if len(held) else sized


def _team_changed(lines: pd.DataFrame, predicted_team: pd.Series) -> pd.Series:
    """Lines that name a team other than the one their player is predicted for (unknown team: kept)."""
    if lines.empty or "team" not in lines:
        return pd.Series(False, index=lines.index)
    predicted = lines["player_id"].map(predicted_team)
    team = lines["team"].astype("string").str.strip()
    return (team.notna() & (team != "") & (team != predicted.astype("string"))).fillna(False).astype(bool)


def _team_changed_rows(held: pd.DataFrame) -> pd.DataFrame:
    """One decision row per player held back by :func:`_team_changed` (no price, no stake)."""
    keep = [c for c in ("player_id", "player_name", "team", "line", "book", "source") if c in held]
    out = held[keep].reset_index(drop=True).copy()
    for c in ("side", "odds", "model_prob", "market_prob", "edge", "confidence"):
        out[c] = np.nan
    out["reason"], out["stake"] = "team_changed", 0.0
    return out


def bets_frame(sized: pd.DataFrame, paper: bool) -> pd.DataFrame:
    b = sized[sized["reason"] == "bet"].copy() if len(sized) else pd.DataFrame(columns=BET_COLUMNS)
    b["kelly_fraction"] = b.get("bet_fraction", pd.Series(dtype=float))
    b["bet_amount"] = b.get("stake", pd.Series(dtype=float))
    b["paper"] = bool(paper)
    b["status"], b["kept"] = "open", False
    for c in BET_COLUMNS:
        if c not in b:
            b[c] = np.nan
    return b.sort_values("bet_amount", ascending=False).reset_index(drop=True)


def kept_bets_frame(kept: pd.DataFrame) -> pd.DataFrame:
    """Ledger rows of bets a run keeps (:func:`ledger.kept_bets`) in the shape of :func:`bets_frame`."""
    if kept.empty:
        return pd.DataFrame(columns=BET_COLUMNS)
    b = kept.rename(columns={"line_source": "source", "bet_fraction": "kelly_fraction", "stake": "bet_amount"})
    for c in ("line", "odds", "model_prob", "market_prob", "edge", "confidence", "kelly_fraction", "bet_amount"):
        b[c] = pd.to_numeric(b[c], errors="coerce").astype(float)
    dec = b["odds"].map(betting.american_to_decimal)
    b["ev"], b["kelly_full"], b["kept"] = b["model_prob"] * dec - 1.0, np.nan, True
    b["paper"] = b["paper"].astype(bool)
    return b[BET_COLUMNS].reset_index(drop=True)


def week_bets(new: pd.DataFrame, kept: pd.DataFrame) -> pd.DataFrame:
    """Every bet the ledger holds for the week once this run is recorded: the new ones and the kept ones."""
    parts = [f for f in (new, kept_bets_frame(kept)) if len(f)]
    if not parts:
        return new
    out = pd.concat(parts, ignore_index=True)
    out["kept"] = out["kept"].astype(bool)
    return out.sort_values("bet_amount", ascending=False, kind="mergesort").reset_index(drop=True)


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


def predictions_frame(feats: pd.DataFrame, preds: pd.DataFrame, sized: pd.DataFrame) -> pd.DataFrame:
    """Every eligible player with his predictive summary, and his line and decision where he has one."""
    ids = [c for c in ("season", "week", "game_id", "player_id", "player_name", "team", "opponent", "is_home")
           if c in feats]
    out = pd.concat([feats[ids].reset_index(drop=True), preds.reset_index(drop=True)], axis=1)
    if len(sized):
        keep = sized[["player_id", "side", "line", "odds", "book", "source", "model_prob", "market_prob", "edge",
                      "confidence", "reason", "stake"]].rename(columns={"reason": "decision"})
        out = out.merge(keep, on="player_id", how="left")
    else:
        for c in ("side", "line", "odds", "book", "source", "model_prob", "market_prob", "edge", "confidence",
                  "decision", "stake"):
            out[c] = np.nan
    out["decision"] = out["decision"].fillna("no_line")
    return out


def no_bet_reasons(n_pred: int, n_lines_players: int, sized: pd.DataFrame) -> str:
    """Why there are no (or few) bets, in words, so the user never has to guess."""
    c = betting.reason_counts(sized["reason"]) if len(sized) else {}
    if n_lines_players == 0:
        return "no lines: best_prop_lines has no quotes for this week's eligible players (import lines first)"
    parts = [f"{n_pred - n_lines_players} eligible players had no line"]
    labels = {"edge": "failed the edge threshold", "confidence": "failed the confidence threshold",
              "no_ev": "had no positive expected value at the offered odds", "nan": "had a missing probability",
              "too_small": "had a stake under one cent",
              "cap_used": "found the week's or their game's cap already used by the bets kept from earlier runs",
              "team_changed": "had a line for another team than the one they are predicted for (changed teams; "
                              "not priced until they have played for the new one)"}
    parts += [f"{c[k]} {v}" for k, v in labels.items() if c.get(k)]
    return "; ".join(parts)


def summary_text(p: WeeklyParams, model_version: str, preds: pd.DataFrame, sized: pd.DataFrame,
                 bets: pd.DataFrame, lines: pd.DataFrame, health: monitoring.WeekHealth,
                 alerts: list[monitoring.Alert], run_id: str, bankroll_note: str = "",
                 notes: list[str] | tuple[str, ...] = ()) -> str:
    """The week's summary. ``bets`` holds every bet of the week (column ``kept``: left as placed by an
    earlier run), so the summary, the bets file and the ledger list the same bets and the same stakes;
    ``notes`` are the line-loading notes (as-of time, skipped quotes)."""
    from nfl_bnn import proxy_lines

    proxy = proxy_lines.is_proxy(lines)
    title = f"Weekly bets: season {p.season} week {p.week}"
    if proxy:
        title += f" ({proxy_lines.PROXY_TITLE})"
    if p.paper_trade:
        title += " [PAPER TRADE: simulated bets]"
    out = [title, "=" * len(title),
           f"run {run_id} at {datetime.now(UTC):%Y-%m-%d %H:%M UTC}; model {model_version}",
           f"profile {p.profile}: Kelly x{p.kelly_fraction:g}, max bet {p.max_bet_fraction:.0%}, min edge "
           f"{p.min_edge:.0%}, min confidence {p.min_confidence:.0%}, week cap {p.max_week_fraction:.0%}, game cap "
           f"{p.max_game_fraction:.0%}; margin removed by the {p.margin_method} method",
           f"bankroll {p.bankroll:,.2f}" + (f" ({bankroll_note})" if bankroll_note else ""), ""]
    if proxy:
        out += [proxy_lines.proxy_note(lines), ""]
    if notes:
        out += [f"Lines: {n}" for n in notes] + [""]
    n_line_players = int(sized["player_id"].nunique()) if len(sized) else 0
    is_kept = bets["kept"].astype(bool) if "kept" in bets else pd.Series(False, index=bets.index)
    new, kept = bets[~is_kept], bets[is_kept]
    n_open = int((~preds["decision"].isin(["kicked_off", "kept"])).sum()) if "decision" in preds else len(preds)
    out.append(f"{len(preds)} players predicted, {n_line_players} with a line, {len(new)} bets, "
               f"staked {new['bet_amount'].sum():,.2f}")
    if len(kept):
        total = float(bets["bet_amount"].sum())
        out.append(f"{len(kept)} bet(s) of this week kept as placed by an earlier run (game kicked off, bet settled "
                   f"or another model version), staked {kept['bet_amount'].sum():,.2f}; the week holds {len(bets)} "
                   f"bets, staked {total:,.2f} = {total / p.bankroll:.1%} of the bankroll "
                   f"(week cap {p.max_week_fraction:.0%})")
    if new.empty:
        out.append(("NO NEW BETS" if len(kept) else "NO BETS this week") + ". Why: "
                   + no_bet_reasons(n_open, n_line_players, sized))
    if len(new):
        out.append("Other players: " + no_bet_reasons(n_open, n_line_players, sized[sized.reason != "bet"]))
    if len(bets):
        cols = ["player_name", "team", "opponent", "side", "line", "odds", "book", "model_prob", "market_prob",
                "edge", "confidence", "bet_amount"] + (["status"] if len(kept) else [])
        show = bets[cols].copy()
        for c in ("model_prob", "market_prob", "edge", "confidence"):
            show[c] = show[c].map(lambda v: f"{v:.1%}")
        show["odds"] = show["odds"].map(lambda v: f"{int(v):+d}")
        if len(kept):
            show["status"] = np.where(is_kept, "kept, " + bets["status"].astype(str), "new")
        out += ["", show.to_string(index=False)]
    out += ["", monitoring.report(health, alerts), ""]
    return "\n".join(out)


def zero_bet_streak(out_dir: Path, season: int, week: int, n_bets: int, max_back: int = 10) -> int:
    """Weeks in a row without bets ending this week, from the earlier weeks' bets files."""
    if n_bets:
        return 0
    streak = 1
    for w in range(week - 1, max(week - 1 - max_back, 0), -1):
        f = out_dir / f"s{season}_w{w}_bets.csv"
        if not f.is_file():
            break
        try:
            if len(pd.read_csv(f)) > 0:
                break
        except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError):
            break
        streak += 1
    return streak


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
    from nfl_bnn import features, proxy_lines

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
    history = replace(history, injuries=reports_as_of(history.injuries, as_of))
    injuries = history.injuries
    if model.learned_from("mate_out_share") and not features.injury_coverage(injuries, p.season, p.week):
        log.warning("no injury report for season %d week %d in the warehouse: the model's injury feature reads "
                    "'nobody out', so backups of an injured starter are under-projected; import the report "
                    "first (`nfl-bnn import-nflverse --injuries injuries_%d.parquet`)", p.season, p.week, p.season)
    feats = history.for_week(p.season, p.week).reset_index(drop=True)
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
    sized = (price_week(feats, preds, lines, model, p, Committed.of(kept)) if len(feats)
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
    )
    alerts = monitoring.check(health, p.alerts)
    summary = summary_text(p, version, predictions, sized, bets, lines, health, alerts, run.run_id, bankroll_note,
                           notes=[f"quotes and injury reports as of {as_of:%Y-%m-%d %H:%M} UTC"] + line_notes)

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


# --- the older system's API -----------------------------------------------------------------------
class BNNMoEProductionPipeline:
    """Backwards-compatible entry point of the older system.

    ``BNNMoEProductionPipeline(model_path=..., bankroll=..., kelly_fraction=..., max_bet_fraction=...,
    min_edge=..., min_confidence=...).run_pipeline(season=..., week=...)`` returns a dict with
    ``success``, ``predictions``, ``bets`` (DataFrames), ``output_files`` (paths) and ``error`` (None or
    the one-line reason). Values not given come from params/weekly.yaml and the profile.
    """

    def __init__(self, model_path: str | None = None, bankroll: float | None = None,
                 kelly_fraction: float | None = None, max_bet_fraction: float | None = None,
                 min_edge: float | None = None, min_confidence: float | None = None, profile: str | None = None,
                 paper_trade: bool | None = None, **more: Any):
        self.overrides = dict(model_path=None if model_path is None else str(model_path), bankroll=bankroll,
                              kelly_fraction=kelly_fraction, max_bet_fraction=max_bet_fraction, min_edge=min_edge,
                              min_confidence=min_confidence, profile=profile, paper_trade=paper_trade, **more)
        self.last_result: WeekResult | None = None

    def run_pipeline(self, season: int, week: int, wh: Any = None, model: Any = None) -> dict[str, Any]:
        """Run one week (:func:`run_week`), reporting a user error in the result instead of raising it.

        Parameters
        ----------
        season, week : int
            The week to predict and bet.
        wh : Warehouse, optional
            An open warehouse; default :func:`nfl_bnn.warehouse.connect`.
        model : MixtureExpertsBNN, optional
            A loaded model; default the artifact at ``model_path``.

        Returns
        -------
        dict
            ``success`` (bool), ``predictions`` and ``bets`` (DataFrames, None on failure),
            ``output_files`` (paths as str), ``error`` (None, or the one-line reason) and, on success,
            ``alerts`` (monitoring messages).
        """
        try:
            p = load_weekly_params(season, week, **self.overrides)
            res = run_week(p, wh=wh, model=model)
        except NflBnnError as exc:
            log.error("weekly run failed: %s", exc)
            return {"success": False, "predictions": None, "bets": None, "output_files": [], "error": str(exc)}
        self.last_result = res
        return {"success": True, "predictions": res.predictions, "bets": res.bets,
                "output_files": [str(f) for f in res.output_files], "error": None,
                "alerts": [a.message for a in res.alerts]}

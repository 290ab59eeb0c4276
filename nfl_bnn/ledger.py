"""The ``bets`` ledger: record a week's bets idempotently, settle them, and review P&L.

Why it is shaped this way:

* Every bet has a deterministic ``bet_id`` (season, week, market, player, profile, model version,
  paper/real), so re-running a week can never add a second copy of the same bet.
* :func:`record_week` runs in ONE transaction: it deletes that week's still-open bets of the same
  model version, profile and paper flag, then inserts the new ones (``ON CONFLICT DO NOTHING`` keeps
  any bet already settled). A crash or a lost connection part-way leaves the ledger as it was.
* :func:`settle` reads actual results from ``mart.player_game_stats``: a played game with a row for
  the player settles win / loss / push, a played game without one is ``void`` (did not play, stake
  returned); bets on games not yet played stay open. Settling twice changes nothing.
* The review functions are pure over a DataFrame of bets, so they are tested on hand-made frames.

SQL is written once with ``?`` placeholders (see :mod:`nfl_bnn.warehouse`) and works on DuckDB and
PostgreSQL; values are always parameters.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from nfl_bnn import betting
from nfl_bnn.errors import DataError
from nfl_bnn.schema import TABLES

log = logging.getLogger("nfl_bnn.ledger")

TABLE = "bets"
STATUSES = ("open", "win", "loss", "push", "void")

#: DDL of the ledger, kept in nfl_bnn/schema.py so ``init-db`` creates it with the other tables.
BETS_DDL = TABLES["bets"]

INSERT_COLUMNS = [
    "bet_id", "run_id", "placed_at", "season", "week", "game_id", "player_id", "player_name", "team", "opponent",
    "market", "side", "line", "odds", "book", "line_source", "model_prob", "market_prob", "edge", "confidence",
    "bet_fraction", "stake", "bankroll", "profile", "model_version", "params_json", "paper", "status",
]


def ensure_table(wh) -> None:
    """Create the ledger if it does not exist (also done by ``init-db`` through schema.TABLES)."""
    wh.execute(BETS_DDL)


def bet_id(season: int, week: int, market: str, player_id: str, profile: str, model_version: str, paper: bool) -> str:
    """The deterministic key that makes re-runs idempotent."""
    return f"{int(season)}|{int(week):02d}|{market}|{player_id}|{profile}|{model_version}|{'paper' if paper else 'real'}"


@dataclass
class RecordCounts:
    replaced: int  # open bets of the same run key removed
    inserted: int
    kept_settled: int  # new bets skipped because that bet is already settled


def _py(v: Any) -> Any:
    """numpy scalars and NaN -> plain Python / None, for both drivers."""
    if v is None:
        return None
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def to_ledger_rows(bets: pd.DataFrame, *, season: int, week: int, market: str, profile: str, model_version: str,
                   paper: bool, bankroll: float, params: dict, run_id: str, placed_at: datetime) -> list[tuple]:
    """Rows (in :data:`INSERT_COLUMNS` order) for the bets with a positive stake."""
    pj = json.dumps(params, sort_keys=True, default=str)
    rows = []
    for r in bets.itertuples(index=False):
        if not r.stake > 0:
            continue
        rows.append(tuple(_py(v) for v in (
            bet_id(season, week, market, r.player_id, profile, model_version, paper), run_id, placed_at,
            int(season), int(week), getattr(r, "game_id", None), r.player_id, getattr(r, "player_name", None),
            getattr(r, "team", None), getattr(r, "opponent", None), market, r.side, float(r.line), int(r.odds),
            getattr(r, "book", None), getattr(r, "source", None), r.model_prob, r.market_prob, r.edge, r.confidence,
            r.bet_fraction, float(r.stake), float(bankroll), profile, model_version, pj, bool(paper), "open",
        )))
    return rows


def record_week(wh, rows: list[tuple], *, season: int, week: int, market: str, profile: str, model_version: str,
                paper: bool, keep_games: Iterable[str] = ()) -> RecordCounts:
    """Replace the week's open bets for this (model version, profile, paper) with ``rows``, atomically.

    Open bets on ``keep_games`` (games that have kicked off) stay as they were placed.
    """
    placeholders = ", ".join("?" for _ in INSERT_COLUMNS)
    key = (int(season), int(week), market, profile, model_version, bool(paper))
    where = "season = ? AND week = ? AND market = ? AND profile = ? AND model_version = ? AND paper = ?"
    keep = {str(g) for g in keep_games}
    with wh.transaction():
        ensure_table(wh)
        open_bets = wh.query_df(f"SELECT bet_id, game_id FROM bets WHERE {where} AND status = 'open'", key)
        drop = open_bets.loc[~open_bets["game_id"].astype(str).isin(keep), "bet_id"].tolist()
        replaced = len(drop)
        for bid in drop:
            wh.execute("DELETE FROM bets WHERE bet_id = ?", (bid,))
        before = int(wh.scalar(f"SELECT count(*) FROM bets WHERE {where}", key))
        for row in rows:
            wh.execute(
                f"INSERT INTO bets ({', '.join(INSERT_COLUMNS)}) VALUES ({placeholders}) "
                "ON CONFLICT (bet_id) DO NOTHING",
                row,
            )
        after = int(wh.scalar(f"SELECT count(*) FROM bets WHERE {where}", key))
    inserted = after - before
    counts = RecordCounts(replaced=replaced, inserted=inserted, kept_settled=len(rows) - inserted)
    log.info("ledger s%s w%s %s/%s%s: %s", season, week, profile, model_version, " (paper)" if paper else "", counts)
    return counts


def kept_bets(wh, *, season: int, week: int, market: str, profile: str, model_version: str, paper: bool,
              keep_games: Iterable[str] = ()) -> pd.DataFrame:
    """The week's bets that a run recording (model_version, profile, paper) will NOT replace.

    That is every bet of the week, market, profile and paper flag except the open bets of the same model
    version on games that have not kicked off (the ones :func:`record_week` deletes): settled bets, open
    bets on ``keep_games``, and bets placed by another model version. Why: this money is already at stake
    (or already won or lost), so it uses up the week's and the games' caps before any new bet is sized,
    the files list it beside the new bets, and its players are not priced a second time.
    """
    ensure_table(wh)
    df = wh.query_df(
        "SELECT * FROM bets WHERE season = ? AND week = ? AND market = ? AND profile = ? AND paper = ? "
        "ORDER BY stake DESC, bet_id",
        (int(season), int(week), market, profile, bool(paper)),
    )
    if "stake" in df:
        df["stake"] = pd.to_numeric(df["stake"], errors="coerce").astype(float)
    keep = {str(g) for g in keep_games}
    replaced = ((df["status"] == "open") & (df["model_version"] == model_version)
                & ~df["game_id"].astype(str).isin(keep))
    return df[~replaced].reset_index(drop=True)


@dataclass(frozen=True)
class LedgerBankroll:
    bankroll: float
    start: float  # the bankroll recorded with the group's first bet
    settled_profit: float  # profit of the group's settled bets of earlier weeks
    settled_bets: int


def bankroll_before(wh, *, season: int, week: int, profile: str, paper: bool) -> LedgerBankroll | None:
    """Bankroll at the start of (season, week) from the ledger: first recorded bankroll + settled profit.

    One bankroll per (profile, paper flag), across model versions (a retrain does not reset the money),
    counting only bets of earlier weeks, so every run of the same week sizes from the same bankroll.
    None when the ledger has no bet of this profile and paper flag yet.
    """
    ensure_table(wh)
    df = wh.query_df(
        "SELECT season, week, placed_at, bankroll, status, profit FROM bets WHERE profile = ? AND paper = ? "
        "ORDER BY season, week, placed_at, bet_id",
        (profile, bool(paper)),
    )
    if df.empty:
        return None
    start = float(df["bankroll"].iloc[0])
    earlier = (df["season"] < int(season)) | ((df["season"] == int(season)) & (df["week"] < int(week)))
    settled = df[earlier & df["status"].isin(["win", "loss", "push", "void"])]
    profit = float(pd.to_numeric(settled["profit"], errors="coerce").fillna(0.0).sum())
    return LedgerBankroll(round(start + profit, 2), start, profit, len(settled))


def load_bets(wh, season: int, week: int | None = None, *, profile: str | None = None,
              model_version: str | None = None, paper: bool | None = None) -> pd.DataFrame:
    """Bets of a season (optionally one week / profile / model version / paper flag)."""
    ensure_table(wh)
    where, params = ["season = ?"], [int(season)]
    for col, val in (("week", week), ("profile", profile), ("model_version", model_version), ("paper", paper)):
        if val is not None:
            where.append(f"{col} = ?")
            params.append(val)
    df = wh.query_df(f"SELECT * FROM bets WHERE {' AND '.join(where)} ORDER BY week, player_name, bet_id", params)
    for c in ("stake", "profit", "line", "closing_line", "edge", "bankroll"):
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


# --- settlement -----------------------------------------------------------------------------------
def settle_outcome(side: str, line: float, yards: float | None, odds: float, stake: float,
                   played: bool) -> tuple[str, float]:
    """(status, profit) of one bet. ``played``: the game is final. ``yards`` None: player had no row."""
    if not played:
        return "open", float("nan")
    if yards is None or (isinstance(yards, float) and not np.isfinite(yards)):
        return "void", 0.0
    if yards == line:
        return "push", 0.0
    won = yards > line if side == "over" else yards < line
    return ("win", betting.profit_on_win(stake, odds)) if won else ("loss", -float(stake))


@dataclass
class SettleCounts:
    win: int = 0
    loss: int = 0
    push: int = 0
    void: int = 0
    still_open: int = 0

    def __str__(self) -> str:
        return (f"{self.win} won, {self.loss} lost, {self.push} pushed, {self.void} void (did not play), "
                f"{self.still_open} still open (game not final)")


def settle(wh, season: int, week: int | None = None, now: datetime | None = None) -> SettleCounts:
    """Settle open bets of a season (or one week) from ``mart.player_game_stats``, in one transaction."""
    ensure_table(wh)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    wk_sql, wk_par = ("AND b.week = ?", [int(week)]) if week is not None else ("", [])
    open_bets = wh.query_df(
        "SELECT b.bet_id, b.game_id, b.player_id, b.side, b.line, b.odds, b.stake, "
        "g.home_score AS home_score, s.rushing_yards AS yards, s.player_id AS stat_player "
        "FROM bets b LEFT JOIN mart.games g ON g.game_id = b.game_id "
        "LEFT JOIN mart.player_game_stats s ON s.game_id = b.game_id AND s.player_id = b.player_id "
        f"WHERE b.status = 'open' AND b.season = ? {wk_sql}",
        [int(season)] + wk_par,
    )
    counts = SettleCounts()
    updates = []
    for r in open_bets.itertuples(index=False):
        played = r.home_score is not None and not pd.isna(r.home_score)
        yards = None if (r.stat_player is None or pd.isna(r.stat_player)) else float(r.yards)
        status, profit = settle_outcome(r.side, float(r.line), yards, float(r.odds), float(r.stake), played)
        if status == "open":
            counts.still_open += 1
            continue
        setattr(counts, status, getattr(counts, status) + 1)
        updates.append((status, None if yards is None else int(yards), round(profit, 2), now, r.bet_id))
    with wh.transaction():
        for u in updates:
            wh.execute(
                "UPDATE bets SET status = ?, actual_yards = ?, profit = ?, settled_at = ? "
                "WHERE bet_id = ? AND status = 'open'",
                u,
            )
    _record_closing_lines(wh, season, week)
    log.info("settled season %s%s: %s", season, f" week {week}" if week else "", counts)
    return counts


def _record_closing_lines(wh, season: int, week: int | None) -> int:
    """Closing line = the same book's last quote in ``prop_lines`` fetched at or before kickoff."""
    if not wh.table_exists("prop_lines"):
        return 0
    wk_sql, wk_par = ("AND b.week = ?", [int(week)]) if week is not None else ("", [])
    q = wh.query_df(
        "SELECT b.bet_id, b.side, p.line, p.over_odds, p.under_odds, p.fetched_at FROM bets b "
        "JOIN mart.games g ON g.game_id = b.game_id "
        "JOIN prop_lines p ON p.season = b.season AND p.week = b.week AND p.market = b.market "
        "AND p.player_id = b.player_id AND p.book = b.book AND p.fetched_at <= g.kickoff "
        f"WHERE b.season = ? AND b.closing_line IS NULL {wk_sql}",
        [int(season)] + wk_par,
    )
    if q.empty:
        return 0
    last = q.sort_values("fetched_at").groupby("bet_id").tail(1)
    with wh.transaction():
        for r in last.itertuples(index=False):
            odds = r.over_odds if r.side == "over" else r.under_odds
            wh.execute("UPDATE bets SET closing_line = ?, closing_odds = ? WHERE bet_id = ?",
                       (float(r.line), None if pd.isna(odds) else int(odds), r.bet_id))
    return len(last)


# --- review ---------------------------------------------------------------------------------------
def _clv(df: pd.DataFrame) -> pd.Series:
    """Closing-line value in yards: positive when the bet beat the close (over bought below the
    closing line, under sold above it); NaN where no closing line is known."""
    sign = np.where(df["side"] == "over", 1.0, -1.0)
    return (df["closing_line"].astype(float) - df["line"].astype(float)) * sign


def weekly_review(bets: pd.DataFrame, start_bankroll: float | None = None) -> pd.DataFrame:
    """One row per week: counts, staked, profit, ROI, win rate, rolling 4-week ROI, bankroll, drawdown, CLV.

    ROI = profit / staked over settled non-void bets; win rate = wins / (wins + losses);
    bankroll = start + cumulative profit (start: ``start_bankroll`` or the first week's recorded
    bankroll); drawdown = (running peak - bankroll) / running peak.
    """
    cols = ["week", "bets", "open", "wins", "losses", "pushes", "voids", "staked", "profit", "win_rate", "roi",
            "roi_4wk", "bankroll", "drawdown", "clv_yards", "clv_known"]
    if bets.empty:
        return pd.DataFrame(columns=cols)
    df = bets.copy()
    df["closing_line"] = pd.to_numeric(df.get("closing_line"), errors="coerce")
    df["clv"] = _clv(df)
    rows = []
    for wk, g in df.groupby("week", sort=True):
        st = g["status"]
        graded = g[st.isin(["win", "loss", "push"])]
        wins, losses = int((st == "win").sum()), int((st == "loss").sum())
        staked = float(graded["stake"].sum())
        profit = float(g["profit"].fillna(0.0).sum())
        rows.append({
            "week": int(wk), "bets": len(g), "open": int((st == "open").sum()), "wins": wins, "losses": losses,
            "pushes": int((st == "push").sum()), "voids": int((st == "void").sum()), "staked": staked,
            "profit": profit, "win_rate": wins / (wins + losses) if wins + losses else np.nan,
            "roi": profit / staked if staked else np.nan,
            "clv_yards": float(g["clv"].mean()) if g["clv"].notna().any() else np.nan,
            "clv_known": int(g["clv"].notna().sum()),
        })
    out = pd.DataFrame(rows)
    st4 = out["staked"].rolling(4, min_periods=1).sum()
    out["roi_4wk"] = out["profit"].rolling(4, min_periods=1).sum() / st4.replace(0.0, np.nan)
    if start_bankroll is None:
        first = df.loc[df["week"] == df["week"].min(), "bankroll"]
        start_bankroll = float(first.iloc[0]) if len(first) else 0.0
    out["bankroll"] = start_bankroll + out["profit"].cumsum()
    peak = np.maximum.accumulate(np.concatenate([[start_bankroll], out["bankroll"].to_numpy()]))[1:]
    out["drawdown"] = np.where(peak > 0, (peak - out["bankroll"]) / peak, 0.0)
    return out[cols]


def season_totals(bets: pd.DataFrame, weeks: pd.DataFrame) -> dict[str, float]:
    """Season figures: bets, record, staked, profit, ROI, win rate, final bankroll, max drawdown, CLV."""
    if bets.empty:
        return {"bets": 0}
    wins, losses = int(weeks["wins"].sum()), int(weeks["losses"].sum())
    staked, profit = float(weeks["staked"].sum()), float(weeks["profit"].sum())
    clv = _clv(bets.assign(closing_line=pd.to_numeric(bets.get("closing_line"), errors="coerce")))
    return {
        "bets": len(bets), "wins": wins, "losses": losses, "pushes": int(weeks["pushes"].sum()),
        "voids": int(weeks["voids"].sum()), "open": int(weeks["open"].sum()), "staked": staked, "profit": profit,
        "roi": profit / staked if staked else float("nan"),
        "win_rate": wins / (wins + losses) if wins + losses else float("nan"),
        "final_bankroll": float(weeks["bankroll"].iloc[-1]), "max_drawdown": float(weeks["drawdown"].max()),
        "clv_yards": float(clv.mean()) if clv.notna().any() else float("nan"),
        "clv_beat_share": float((clv[clv.notna()] > 0).mean()) if clv.notna().any() else float("nan"),
    }


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    return f"{v:.1%}" if pct else (f"{v:,.2f}" if isinstance(v, float) else str(v))


def review_text(title: str, weeks: pd.DataFrame, totals: dict[str, float]) -> str:
    """Human-readable review; ``title`` must say "PROXY LINES" when the lines were proxies."""
    lines = [title, "=" * len(title)]
    if not totals.get("bets"):
        return "\n".join(lines + ["No bets recorded."]) + "\n"
    lines.append(
        f"bets {totals['bets']}: {totals['wins']} won, {totals['losses']} lost, {totals['pushes']} pushed, "
        f"{totals['voids']} void, {totals['open']} open")
    lines.append(f"staked {_fmt(totals['staked'])}  profit {_fmt(totals['profit'])}  ROI {_fmt(totals['roi'], True)}  "
                 f"win rate {_fmt(totals['win_rate'], True)}")
    lines.append(f"final bankroll {_fmt(totals['final_bankroll'])}  max drawdown {_fmt(totals['max_drawdown'], True)}")
    lines.append(f"closing-line value {_fmt(totals['clv_yards'])} yards/bet, beat the close "
                 f"{_fmt(totals['clv_beat_share'], True)} (only bets with a known closing line)")
    lines.append("")
    show = weeks.copy()
    for c in ("win_rate", "roi", "roi_4wk", "drawdown"):
        show[c] = show[c].map(lambda v: _fmt(v, True))
    for c in ("staked", "profit", "bankroll", "clv_yards"):
        show[c] = show[c].map(_fmt)
    lines.append(show.to_string(index=False))
    return "\n".join(lines) + "\n"


def review_groups(bets: pd.DataFrame) -> Iterable[tuple[tuple, pd.DataFrame]]:
    """Split bets by (profile, model_version, paper): mixing them would double-count the bankroll."""
    if bets.empty:
        return []
    return list(bets.groupby(["profile", "model_version", "paper"], sort=True))


def require_positive_season_week(season: Any, week: Any | None = None) -> None:
    """Clear error for an out-of-range season/week passed to settle/review."""
    if not isinstance(season, (int, np.integer)) or not 1999 <= int(season) <= 2100:
        raise DataError(f"season {season!r} is out of range; use a year such as 2024")
    if week is not None and (not isinstance(week, (int, np.integer)) or not 1 <= int(week) <= 22):
        raise DataError(f"week {week!r} is out of range; NFL weeks run 1-22")

"""Walk-forward betting backtest of one season, with a fixed model trained on earlier seasons.

Week by week: build that week's features from games before its kickoffs only, predict, take lines
from ``best_prop_lines`` where the week has any, otherwise from a clearly labelled proxy
(:mod:`nfl_bnn.proxy_lines`), size bets on the CURRENT bankroll with the profile's rules, settle them
against the week's results, and carry the bankroll forward. Nothing is written to the ledger: a
backtest is not a bet. When any week used proxy lines, the report's title says "PROXY LINES".
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nfl_bnn import config, fileio, ledger, pipeline, proxy_lines
from nfl_bnn.errors import DataError

log = logging.getLogger("nfl_bnn.backtest_betting")


@dataclass
class BacktestResult:
    bets: pd.DataFrame
    weeks: pd.DataFrame
    totals: dict[str, Any]
    title: str
    text: str
    proxy: bool
    output_files: list[Path]


def _settle_frame(bets: pd.DataFrame, stats: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    yards = stats.set_index(["game_id", "player_id"])["rushing_yards"]
    played = games.set_index("game_id")["home_score"].notna()
    st, pr, yd = [], [], []
    for r in bets.itertuples(index=False):
        y = yards.get((r.game_id, r.player_id))
        s, p = ledger.settle_outcome(r.side, float(r.line), None if y is None else float(y), float(r.odds),
                                     float(r.stake), bool(played.get(r.game_id, False)))
        st.append(s)
        pr.append(0.0 if s == "open" else p)
        yd.append(y)
    return bets.assign(status=st, profit=pr, actual_yards=yd)


def run(season: int, model: Any, p: pipeline.WeeklyParams, wh: Any, weeks: list[int] | None = None,
        lines_mode: str = "auto", write: bool = True) -> BacktestResult:
    """Backtest ``season``; ``lines_mode``: auto (best_prop_lines, else proxy), warehouse or proxy."""
    from nfl_bnn import betting, features, warehouse

    history = features.load_history(wh, season, season)
    stats, games = history.stats, history.games
    sg = games[(games["season"] == season) & (games["season_type"] == "REG")]
    if sg.empty:
        raise DataError(f"no regular-season games for season {season} in mart.games; import that season first")
    weeks = weeks or sorted(int(w) for w in sg["week"].unique())
    bankroll = float(p.bankroll)
    all_bets, used_proxy = [], False
    for wk in weeks:
        feats = history.for_week(season, wk).reset_index(drop=True)
        if feats.empty:
            continue
        lines = pd.DataFrame()
        if lines_mode in ("auto", "warehouse"):
            lines = warehouse.load_best_lines(wh, season, wk, p.market)
            betting.validate_lines(lines, f"best_prop_lines season {season} week {wk}")
        if lines.empty and lines_mode in ("auto", "proxy"):
            lines = proxy_lines.proxy_lines(stats, feats, season, wk, nflcom_path=p.nflcom_path)
            used_proxy = used_proxy or not lines.empty
        if lines.empty:
            continue
        preds = model.predict(feats)
        pw = p.model_copy(update={"bankroll": max(bankroll, 0.01), "week": wk, "season": season})
        sized = pipeline.price_week(feats, preds, lines, model, pw)
        b = sized[sized["reason"] == "bet"].copy()
        if b.empty:
            continue
        b = _settle_frame(b.assign(week=wk, season=season, bankroll=bankroll), stats, games)
        bankroll += float(b["profit"].sum())
        all_bets.append(b)
        log.info("backtest s%s w%s: %d bets, profit %.2f, bankroll %.2f", season, wk, len(b), b["profit"].sum(),
                 bankroll)
    bets = pd.concat(all_bets, ignore_index=True) if all_bets else pd.DataFrame(
        columns=["week", "side", "line", "status", "stake", "profit", "bankroll", "closing_line", "source"])
    if "closing_line" not in bets:
        bets["closing_line"] = np.nan
    wk_table = ledger.weekly_review(bets, start_bankroll=float(p.bankroll))
    totals = ledger.season_totals(bets, wk_table)
    title = f"Betting backtest season {season} ({p.profile}, start bankroll {p.bankroll:,.0f})"
    if used_proxy:
        title += f" - {proxy_lines.PROXY_TITLE}"
    text = ledger.review_text(title, wk_table, totals)
    if used_proxy:
        note = proxy_lines.proxy_note(bets[bets["source"].astype(str).str.startswith("proxy:")])
        head, rest = text.split("\n", 1)
        text = f"{head}\n{note}\n{rest}"
    files: list[Path] = []
    if write:
        out = fileio.ensure_writable_dir(config.reports_dir() / "backtest_bets")
        stem = f"s{season}_{p.profile}" + ("_PROXY" if used_proxy else "")
        writers = {out / f"{stem}_bets.csv": fileio.csv_writer(bets),
                   out / f"{stem}_weeks.csv": fileio.csv_writer(wk_table),
                   out / f"{stem}_summary.txt": lambda f: f.write_text(text)}
        files = fileio.atomic_write_group(writers)
    return BacktestResult(bets, wk_table, totals, title, text, used_proxy, files)

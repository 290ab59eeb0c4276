"""Walk-forward betting backtest of one season, with a fixed model trained on earlier seasons.

Week by week: build that week's features from games before its kickoffs only, predict, take lines
from ``best_prop_lines`` where the week has any, otherwise from a clearly labelled proxy
(:mod:`nfl_bnn.proxy_lines`), size bets on the CURRENT bankroll with the profile's rules, settle them
against the week's results, and carry the bankroll forward. Nothing is written to the ledger: a
backtest is not a bet. When any week used proxy lines, the report's title says "PROXY LINES".

The real-line backtest lives in :mod:`nfl_bnn.backtest_real`, its report figures in
:mod:`nfl_bnn.backtest_figures`; both are re-exported here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nfl_bnn import config, fileio, ledger, pipeline, proxy_lines
from nfl_bnn.backtest_figures import (
    bet_summary,
    boot_roi,
    flat_profit,
    pnl_band,
    prob_scores,
    reliability_table,
)
from nfl_bnn.backtest_real import (
    REAL_COLUMNS,
    _clv_columns,
    _result,
    best_sides,
    history_rows,
    kickoff_utc,
    parse_bet_time,
    real_line_backtest,
    real_run,
    real_summary,
    select_quotes,
)
from nfl_bnn.errors import DataError

__all__ = [  # the real-line backtest and its report figures stay importable from here
    "REAL_COLUMNS",
    "BacktestResult",
    "_clv_columns",
    "_result",
    "best_sides",
    "bet_summary",
    "boot_roi",
    "flat_profit",
    "history_rows",
    "kickoff_utc",
    "parse_bet_time",
    "pnl_band",
    "prob_scores",
    "real_line_backtest",
    "real_run",
    "real_summary",
    "reliability_table",
    "run",
    "select_quotes",
]

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

    @property
    def summary(self) -> str:
        """``text`` without its title and its week table: the report shows those apart (a heading and a
        table), so showing all of ``text`` as well printed each twice."""
        head = self.text.split("\n\n", 1)[0].splitlines()[1:]
        return "\n".join(line for line in head if line.strip("= "))


def _settle_frame(bets: pd.DataFrame, stats: pd.DataFrame, games: pd.DataFrame,
                  snaps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Settle backtest bets as the ledger does: played or void by :func:`nfl_bnn.roles.played_yards`
    (no stats row but an offensive snap: 0 yards, graded; without snap counts: void)."""
    from nfl_bnn.roles import player_game_yards

    graded = player_game_yards(bets, stats, snaps)
    played = games.set_index("game_id")["home_score"].notna()
    st, pr, yd = [], [], []
    for r, g in zip(bets.itertuples(index=False), graded):
        y = None if pd.isna(g) else float(g)
        s, p = ledger.settle_outcome(r.side, float(r.line), y, float(r.odds),
                                     float(r.stake), bool(played.get(r.game_id, False)))
        st.append(s)
        pr.append(0.0 if s == "open" else p)
        yd.append(y)
    return bets.assign(status=st, profit=pr, actual_yards=yd)


def run(season: int, model: Any, p: pipeline.WeeklyParams, wh: Any, weeks: list[int] | None = None,
        lines_mode: str = "auto", write: bool = True) -> BacktestResult:
    """Backtest ``season``; ``lines_mode``: auto (best_prop_lines, else proxy), warehouse or proxy."""
    from nfl_bnn import features, quotes, warehouse

    history = features.load_history(wh, season, season)
    stats, games, injuries = history.stats, history.games, history.injuries
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
            # the quotes a run could have seen: fetched before the week's first kickoff, with the one validation
            first_ko = quotes.kickoffs_utc(sg[sg["week"] == wk]).min()
            lines, notes = quotes.priceable(warehouse.load_lines_as_of(wh, season, wk, first_ko, p.market),
                                            set(stats["player_id"].astype(str)))
            for n in notes:
                log.info("season %d week %d lines: %s", season, wk, n)
        if lines.empty and lines_mode in ("auto", "proxy"):
            lines = proxy_lines.proxy_lines(stats, feats, season, wk, nflcom_path=p.nflcom_path)
            used_proxy = used_proxy or not lines.empty
        if lines.empty:
            continue
        preds = model.predict(feats)
        pw = p.model_copy(update={"bankroll": max(bankroll, 0.01), "week": wk, "season": season})
        blend = pipeline.weekly_blend(wh, model, pw, stats, games, injuries)  # from earlier weeks' real lines only
        sized = pipeline.price_week(feats, preds, lines, model, pw, blend=blend)
        b = sized[sized["reason"] == "bet"].copy()
        if b.empty:
            continue
        b = _settle_frame(b.assign(week=wk, season=season, bankroll=bankroll), stats, games, history.snaps)
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

"""The P&L review of ledger bets: per-week table, season totals, closing-line value, the review text.

Pure functions over a DataFrame of bets (:func:`nfl_bnn.ledger.load_bets`), so they are tested on
hand-made frames; every name here is re-exported by :mod:`nfl_bnn.ledger`.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd


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

"""Proxy screen of game-context columns (issue 15 item 2: which features to keep).

A feature costs a model screen of 12-18 fits (half an hour or more on 2 cores) before it can enter
``features.FEATURES``. This asks a cheaper question first: does a column of the game's schedule row
add anything to the **tuned log-normal baselines** (``ols_log`` and ``bayes_lognormal_k1`` with the
hyperparameters of ``bench/tuned_baselines.json``) on the rolling origins 2017-2022? Each column is
added to the model's 14 features and paired with the same baseline without it (CRPS per row, SE
clustered by week, negative = better), as :mod:`bench.select` pairs the model's choices.

A PROXY, not the model: a column that does nothing for a linear regression on log(yards + offset)
could still help the network through a bend or through the gate, so a null here is evidence, not
proof; a gain here is a candidate for the model screen, never a result.

The columns, all on the schedule before kickoff: the team's expected margin (``team_spread``, the
closing spread as ``implied_total`` uses it, with its caveat for item 6), the closing total
(``game_total``), days of rest (``rest_days``, clipped to 4-14: byes and week 1 are 13+), a division
game (``div_game``) and a roof over the field (``dome``: dome or closed).

    .venv/bin/python -m bench.context_screen --cache /tmp/select --roles-warehouse /tmp/full.duckdb
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import select as S  # noqa: E402
from nfl_bnn import fair_baselines as FB, features as F  # noqa: E402

CONTEXT = ("team_spread", "game_total", "rest_days", "div_game", "dome")
SCHEDULE_COLUMNS = ["game_id", "spread_line", "total_line", "home_rest", "away_rest", "div_game", "roof"]
PROXIES = ("ols_log", "bayes_lognormal_k1")


def context_columns(frame: pd.DataFrame, schedules: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (same rows, same order) plus :data:`CONTEXT`, from each game's schedule row.

    ``spread_line`` is the home team's expected margin (nflverse: positive = home favoured), so an
    away team's is its negative. A missing value (a game without lines or rest) takes the column's
    median over the frame, so no row is dropped and the pairing with the baseline stays row for row.
    """
    missing = [c for c in SCHEDULE_COLUMNS if c not in schedules]
    if missing:
        raise ValueError(f"the schedule lacks {missing}; use nflverse's schedules file (games.csv/parquet)")
    out = frame.merge(schedules[SCHEDULE_COLUMNS], on="game_id", how="left", validate="m:1")
    home = out["is_home"].astype(float).to_numpy() > 0.5
    cols = {"team_spread": np.where(home, 1.0, -1.0) * out["spread_line"].astype(float),
            "game_total": out["total_line"].astype(float),
            "rest_days": np.clip(np.where(home, out["home_rest"], out["away_rest"]).astype(float), 4, 14),
            "div_game": out["div_game"].astype(float),
            "dome": out["roof"].isin(["dome", "closed"]).astype(float)}
    res = frame.copy()
    for name, values in cols.items():
        values = pd.Series(np.asarray(values, float), index=frame.index)
        res[name] = values.fillna(values.median() if values.notna().any() else 0.0)
    return res


def screen(frame: pd.DataFrame, tuned: dict, origins: list[int], first_season: int = 2012) -> pd.DataFrame:
    """Per proxy and column: the paired CRPS difference of the baseline with the column against without
    it over ``origins`` (:func:`bench.select.paired_table`), one table for all."""
    base = list(F.FEATURES)
    tables = []
    for method in PROXIES:
        hp = tuned[method]["hp"]
        rows = []
        for o in origins:
            train, test = S.origin_split(frame, o, first_season)
            for name, names in [("base", base)] + [(f"+{c}", base + [c]) for c in CONTEXT]:
                fc, _ = FB.fair_baseline(method, hp, train, test, names)
                rows.append(S.row_scores(f"{method}:{name}", o, test, fc))
        tables.append(S.paired_table(pd.concat(rows, ignore_index=True), f"{method}:base"))
    return pd.concat(tables, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, required=True, help="bench.select's frame cache (built if absent)")
    ap.add_argument("--roles-warehouse", default=None, help="as bench.select: the production rows (roster rule)")
    ap.add_argument("--tuned", type=Path, default=ROOT / "bench" / "tuned_baselines.json")
    ap.add_argument("--origins", type=int, nargs="+", default=S.SCREEN_ORIGINS)
    args = ap.parse_args(argv)
    if any(o in S.FINAL_ORIGINS for o in args.origins):
        raise SystemExit(f"origins {S.FINAL_ORIGINS} are held out for bench.select --final; screen 2017-2022")
    frame, _nolines, _games = S._frames(args.cache, 2012, 2024, args.roles_warehouse)
    from bench.nflverse_frames import SHARED

    schedules = pd.read_parquet(SHARED / "nflverse" / "schedules_2009_2024.parquet")
    table = screen(context_columns(frame, schedules), json.loads(args.tuned.read_text()), args.origins)
    print("PROXY (tuned log-normal baselines, not the model): each column added to the 14 features")
    print(S.markdown_table(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The measurements behind choices in nfl_bnn/features.py, on real nflverse data (docs/features.md).

``python -m bench.features [--seasons 2019 2023] [--back 1 2 3]`` prints

* eligibility: eligible backs per week and the share of them who did not play (void bets), 2012-2024;
* the sign of ``spread_line``: its correlation with the home team's actual margin, 2009-2024;
* history: every eligible player-week of each season built twice, from the K seasons before it and from
  every season in the data, how many rows differ and by how much per feature, and the time of one
  week's features. This is why :func:`nfl_bnn.features.load_history` loads every season.

Real nflverse data from ../shared/data; exits with a message without it.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time

import pandas as pd

from bench.nflverse_frames import SHARED, injuries_frame, load
from nfl_bnn import features


def compare(stats: pd.DataFrame, games: pd.DataFrame, injuries: pd.DataFrame, season: int, back: int) -> str:
    """One line: rows of ``season`` whose features differ when only ``back`` seasons before it are loaded."""
    key = ["game_id", "player_id"]
    ref = features.candidate_frame(stats, games, season, season, injuries).set_index(key)
    keep_s, keep_g = stats["season"] >= season - back, games["season"] >= season - back
    got = features.candidate_frame(stats[keep_s], games[keep_g], season, season, injuries).set_index(key)
    common = got.index.intersection(ref.index)
    diff = (got.loc[common, features.FEATURES].astype(float) - ref.loc[common, features.FEATURES].astype(float)).abs()
    worst = {c: round(float(v), 3) for c, v in diff.max().items() if v > 1e-9}
    n_diff = int((diff.max(axis=1) > 1e-6).sum())
    n_only = len(got.index.symmetric_difference(ref.index))
    return (f"{season}, {back} season(s) back: {n_diff} of {len(ref)} player-weeks differ, {n_only} eligible in one "
            f"only; largest |difference| {worst}")


def eligibility(stats: pd.DataFrame, games: pd.DataFrame, injuries: pd.DataFrame, first: int, last: int) -> str:
    """Eligible backs per regular-season week and the share of them without a stats row (void)."""
    cand = features.attach_target(features.candidate_frame(stats, games, first, last, injuries), stats,
                                  drop_missing=False)
    per_week = cand.groupby(["season", "week"]).size()
    void = float(cand[features.TARGET].isna().mean())
    return (f"eligibility {first}-{last}: {per_week.mean():.1f} backs a week ({per_week.min()}-{per_week.max()}), "
            f"{void:.1%} of {len(cand)} eligible did not play for that team (void)")


def spread_sign(games: pd.DataFrame) -> str:
    """Correlation of spread_line with the home margin: positive means spread_line favours the home team."""
    g = games.dropna(subset=["spread_line", "home_score", "away_score"])
    r = g["spread_line"].astype(float).corr((g["home_score"] - g["away_score"]).astype(float))
    return f"spread_line vs home margin {g['season'].min()}-{g['season'].max()}: correlation {r:+.2f} ({len(g)} games)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.features", description=__doc__.splitlines()[0])
    ap.add_argument("--seasons", type=int, nargs="+", default=[2019, 2023])
    ap.add_argument("--back", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args(argv)
    if not (SHARED / "nflverse" / "player_stats_2009_2024.parquet").is_file():
        print(f"real nflverse data not found under {SHARED}: nothing to measure", file=sys.stderr)
        return 1
    logging.disable(logging.INFO)
    stats, games = load()
    injuries = injuries_frame()
    print(eligibility(stats, games, injuries, 2012, 2024), flush=True)
    print(spread_sign(games), flush=True)
    for season in args.seasons:
        for back in args.back:
            print(compare(stats, games, injuries, season, back), flush=True)
        for back in (*args.back, None):
            s = stats if back is None else stats[stats["season"] >= season - back]
            g = games if back is None else games[games["season"] >= season - back]
            t0 = time.perf_counter()
            features.for_week(s, g, season, 10, injuries)
            print(f"{season} week 10 features from {'every season' if back is None else f'{back} season(s) back'}: "
                  f"{time.perf_counter() - t0:.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

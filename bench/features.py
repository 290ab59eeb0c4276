"""How much history the features read: a season's features built from the last K seasons vs from all.

``python -m bench.history [--seasons 2019 2023] [--back 1 2 3]`` builds every eligible player-week of
each season twice, from the K seasons before it and from every season in the data, and prints how many
rows differ and by how much per feature, plus the time of one week's features. The weekly run, the
backtests, drift and doctor once loaded one or two seasons back while training saw every season; this
is the measurement behind :func:`nfl_bnn.features.load_history` loading every season (see
docs/architecture.md). Real nflverse data from ../shared/data; exits with a message without it.
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__.splitlines()[0])
    ap.add_argument("--seasons", type=int, nargs="+", default=[2019, 2023])
    ap.add_argument("--back", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args(argv)
    if not (SHARED / "nflverse" / "player_stats_2009_2024.parquet").is_file():
        print(f"real nflverse data not found under {SHARED}: nothing to measure", file=sys.stderr)
        return 1
    logging.disable(logging.INFO)
    stats, games = load()
    injuries = injuries_frame()
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

"""Benchmark and walk-forward validation on real data (../shared/data).

    .venv/bin/python bench/bench_model.py --params params/train.yaml --seasons 2023 2024

For each test season S: train on 2012..S-1, predict every week of S from pre-kickoff features, score
the model and the baselines on the same played player-games; print training time, steps per draw,
R-hat/ESS, artifact size, load time, predict time for 40 players x 3 lines, peak memory.
"""
from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.nflverse_frames import SHARED, load  # noqa: E402
from nfl_bnn import features as F, nflcom, validate as V  # noqa: E402
from nfl_bnn.model import MixtureExpertsBNN  # noqa: E402
from nfl_bnn.train import fit, load_train_params  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--params", default=None)
    ap.add_argument("--seasons", type=int, nargs="+", default=[2023, 2024])
    ap.add_argument("--first-season", type=int, default=2012)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    stats, games = load()
    p = load_train_params(args.params)
    for S in args.seasons:
        train = F.training_frame(stats, games, args.first_season, S - 1)
        test = F.training_frame(stats, games, S, S)
        t0 = time.time()
        model, diag = fit(train, p, args.first_season, S - 1)
        t_fit = time.time() - t0
        path = Path(tempfile.mkdtemp()) / f"moe_{S}.npz"
        model.save(path)
        t0 = time.time()
        m = MixtureExpertsBNN.load(path)
        t_load = time.time() - t0
        X40 = test.iloc[:40]
        lines = np.column_stack([np.full(40, 40.5), np.full(40, 60.5), np.full(40, 80.5)])
        m.prob_over(X40, lines)
        t0 = time.time()
        for _ in range(10):
            m.prob_over(X40, lines, per_draw=True)
        t_po = (time.time() - t0) / 10
        t0 = time.time()
        m.predict(X40)
        t_pred = time.time() - t0
        print(f"\n== {S}: train {args.first_season}-{S-1} rows={len(train)} test rows={len(test)}")
        print(f"fit wall {t_fit:.1f} s; diagnostics {diag}")
        print(f"artifact {path.stat().st_size/1e6:.2f} MB, load {t_load*1000:.0f} ms, prob_over 40x3 lines "
              f"{t_po*1000:.1f} ms, predict 40 rows (mean/median/sd/quantiles) {t_pred*1000:.1f} ms")
        proj = None
        if S == 2024:
            proj = nflcom.join_projections(test, nflcom.read_projections(
                SHARED / "nflcom" / "rb_projections_2024.csv")).to_numpy(float)
        table = V.compare(m, train, test, proj)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(table.drop(columns=["PIT_hist"]).round(4).to_string(index=False))
            print("PIT histograms (10 bins):")
            for _, r in table.iterrows():
                print(f"  {r['method']:<20} {r['PIT_hist']}")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB (whole run incl. training)")


if __name__ == "__main__":
    main()

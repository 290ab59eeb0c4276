"""Where a fit's leapfrog steps go: warm-up against drawing (``python -m bench.warmup``).

Fits 2012..LAST (default 2024, the production rows) with params/train.yaml and ``--set`` overrides,
and prints the wall time, the leapfrog steps of each chain's warm-up and draws, the warm-up's steps
per block of 50 iterations, and the draws that hit the tree-depth cap. Chains start away from the
posterior (overdispersed on purpose), so the first warm-up iterations are the costliest: with
``init: map`` (a U(-1, 1) jitter) and ``max_treedepth: 10`` a few of them took 1,023 steps each
(docs/network.md, sessions 9 and 10; compare ``--set init=map`` with the default Laplace starts).

    .venv/bin/python -m bench.warmup --set chains=2 --set draws=300
    .venv/bin/python -m bench.warmup --set chains=2 --set draws=300 --set max_treedepth=10
"""
from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np

from bench import parse_sets
from bench.__main__ import _frames


def warmup_profile(idata, block: int = 50) -> dict:
    """Leapfrog steps by phase from a trace with warm-up stats (nutpie's or PyMC's ``n_steps``)."""
    from nfl_bnn.sampling import sampler_diagnostics

    w = np.asarray(idata.warmup_sample_stats["n_steps"].values, dtype=np.int64)
    s = np.asarray(idata.sample_stats["n_steps"].values, dtype=np.int64)
    diag = sampler_diagnostics(idata)
    return {"warmup_steps_per_chain": w.sum(axis=1).tolist(), "draw_steps_per_chain": s.sum(axis=1).tolist(),
            f"warmup_steps_per_{block}_iterations": [int(w[:, i:i + block].sum()) for i in range(0, w.shape[1], block)],
            "draws_at_the_depth_cap": diag.get("treedepth_hits"), "steps_per_draw": round(float(s.mean()), 2),
            "divergences": diag.get("divergences")}


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.warmup")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--first-season", type=int, default=2012)
    ap.add_argument("--last-season", type=int, default=2024)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    import nfl_bnn.features as F
    from nfl_bnn.fitting import sample, standardise, target_bins
    from nfl_bnn.train import load_train_params

    p = load_train_params(None, **dict(parse_sets(args.set)))
    stats, games, injuries, _real = _frames()
    train = F.training_frame(stats, games, args.first_season, args.last_season, injuries)
    t0 = time.time()
    std = standardise(train, p.features)
    tgt = target_bins(train[F.TARGET].to_numpy(float), p.target_transform, p.target_offset_yards, p.scale_floor_yards)
    post = sample(std, tgt, train["season"].to_numpy(), p)
    print(json.dumps({"sets": args.set, "rows": len(train), "wall_s": round(time.time() - t0, 1),
                      **warmup_profile(post.idata)}))


if __name__ == "__main__":
    main()

"""One rolling origin, two models, paired: is the network at least as good as the linear experts?

Train on 2012..S-1 (default S = 2022, a rolling-origin season; 2023 and 2024 stay held out), score
season S row by row, and write the per-row CRPS with the fit's diagnostics, so two runs (say the
linear default and the network) can be compared pair-wise on the same rows:

    .venv/bin/python -m bench.network_compare run --label linear --out /tmp/netcmp
    .venv/bin/python -m bench.network_compare run --label net --out /tmp/netcmp --set hidden_units=2 ...
    .venv/bin/python -m bench.network_compare compare --out /tmp/netcmp linear net

``compare`` prints the mean per-row CRPS difference with its standard error sd/sqrt(n) (a
Diebold-Mariano style paired test: the rows are the same player-games, so their difference is far
less noisy than the two CRPS figures on their own). See docs/network.md.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import parse_sets  # noqa: E402


def paired_difference(crps_a: np.ndarray, crps_b: np.ndarray) -> dict:
    """Mean of ``crps_b - crps_a`` per row and its standard error (negative: b is better)."""
    a, b = np.asarray(crps_a, float), np.asarray(crps_b, float)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"paired CRPS need two equal-length 1-d arrays, got {a.shape} and {b.shape}")
    d = b - a
    return {"n": len(d), "mean_a": float(a.mean()), "mean_b": float(b.mean()), "diff": float(d.mean()),
            "se": float(d.std(ddof=1) / np.sqrt(len(d)))}


def _run(args, overrides: dict) -> None:
    from bench.nflverse_frames import injuries_frame, load
    from nfl_bnn import features as F
    from nfl_bnn import validate as V
    from nfl_bnn.train import fit, load_train_params

    p = load_train_params(args.params, **overrides)
    stats, games = load()
    inj = injuries_frame()
    S = args.season
    train = F.training_frame(stats, games, args.first_season, S - 1, inj)
    test = F.training_frame(stats, games, S, S, inj)
    t0 = time.perf_counter()
    model, diag = fit(train, p, args.first_season, S - 1)
    wall = time.perf_counter() - t0
    y = test[F.TARGET].to_numpy(float)
    fc = V.moe_forecast(model, test)
    ind = (y[:, None] <= V.GRID[None, :]).astype(float)
    crps = ((fc.cdf - ind) ** 2).sum(axis=1)
    sc = V.score(fc, y)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / f"{args.label}_crps.npy", crps)
    keep = ("steps_per_draw", "divergences", "rhat_pred_max", "ess_pred_min", "rhat_pover_max", "ess_pover_min",
            "combination", "stacking_weights", "wall_s", "start_sd_ratio")
    summary = {"label": args.label, "overrides": overrides, "train_rows": len(train), "test_rows": len(test),
               "fit_wall_s": round(wall, 1), **{k: diag.get(k) for k in keep},
               **{k: sc[k] for k in ("CRPS", "MAE", "logS", "cov50", "cov68", "cov90")}}
    (out / f"{args.label}.json").write_text(json.dumps(summary, indent=1, default=float))
    print(json.dumps(summary, default=float))


def _compare(args) -> None:
    out = Path(args.out)
    a, b = args.labels
    r = paired_difference(np.load(out / f"{a}_crps.npy"), np.load(out / f"{b}_crps.npy"))
    print(f"{b} - {a}: CRPS {r['mean_b']:.3f} vs {r['mean_a']:.3f}, paired difference {r['diff']:+.3f} "
          f"± {r['se']:.3f} (se, n={r['n']})")
    for lab in (a, b):
        print(lab, (out / f"{lab}.json").read_text().replace("\n", ""))


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.network_compare")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--label", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--params", default=None)
    r.add_argument("--season", type=int, default=2022)
    r.add_argument("--first-season", type=int, default=2012)
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    c = sub.add_parser("compare")
    c.add_argument("--out", required=True)
    c.add_argument("labels", nargs=2)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.cmd == "compare":
        return _compare(args)
    if args.season >= 2023:
        ap.error("2023 and 2024 are held out for the final score; pick a rolling-origin season <= 2022")
    _run(args, dict(parse_sets(args.set)))


if __name__ == "__main__":
    main()

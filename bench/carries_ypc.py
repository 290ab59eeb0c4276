"""PROXY for issue 15 item 1's "yards as carries times yards per carry": a two-part maximum-likelihood
model scored like bench.select (paired CRPS per row on rolling origins), to decide whether the
structure is worth building into the Bayesian model. Not Bayesian, no mixture: a proxy only.

* carries ``C ~ NegBinomial(mean exp(x.b), dispersion a)`` from the model's features;
* yards given carries ``Y | C = c ~ c * m(x) + sqrt(c) * s(x) * t_nu`` (per-carry yards summed over c
  carries: mean c*m, sd growing like sqrt(c)), ``m = exp(x.a)``, ``s = exp(s0 + x.g)``, heavy-tailed t;
  ``C = 0``: 0 yards;
* predictive ``P(Y <= y) = sum_c P(C = c) F(y | c)``, on bench.select's grid.

Compared with a one-part model of the same family (``Y ~ mu(x) + s(x) * t_nu`` in log(yards + 25)) and,
where OUT holds them, the rows of bench.select's default model.

    .venv/bin/python -m bench.carries_ypc --origins 2021 2022 --out /tmp/hier/sel
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import select as SEL  # noqa: E402
from nfl_bnn import features as F, validate as V  # noqa: E402
from nfl_bnn.train import TrainParams  # noqa: E402

CMAX = 45


def _nb_nll(theta, X, c):
    b, log_a = theta[:-1], theta[-1]
    mu, r = np.exp(X @ b), np.exp(-log_a)
    ll = special.gammaln(c + r) - special.gammaln(r) - special.gammaln(c + 1) + r * np.log(r / (r + mu)) \
        + c * np.log(mu / (r + mu))
    return -ll.sum()


def _t_nll(theta, X, y, c):
    d = X.shape[1]
    a, s0, g, log_nu = theta[:d], theta[d], theta[d + 1:2 * d + 1], theta[-1]
    m, s = np.exp(X @ a), np.exp(s0 + X @ g)
    loc, scale = c * m, np.sqrt(c) * s
    return -stats.t.logpdf(y, np.exp(log_nu), loc, scale).sum()


def two_part(train, test, feats):
    """The two-part predictive CDF on V.GRID for the test rows."""
    mean, sd = train[feats].mean(), train[feats].std().replace(0, 1)
    X = np.column_stack([np.ones(len(train)), ((train[feats] - mean) / sd).to_numpy()])
    Xt = np.column_stack([np.ones(len(test)), ((test[feats] - mean) / sd).to_numpy()])
    c, y = train["carries"].to_numpy(float), train[F.TARGET].to_numpy(float)
    d = X.shape[1]
    nb = optimize.minimize(_nb_nll, np.r_[np.log(c.mean()), np.zeros(d - 1), np.log(0.1)], args=(X, c),
                           method="L-BFGS-B")
    pos = c > 0
    t0 = np.r_[np.log(4.2), np.zeros(d - 1), np.log(4.0), np.zeros(d), np.log(5.0)]
    tf = optimize.minimize(_t_nll, t0, args=(X[pos], y[pos], c[pos]), method="L-BFGS-B", options={"maxiter": 3000})
    b, log_a = nb.x[:-1], nb.x[-1]
    mu, r = np.exp(Xt @ b), np.exp(-log_a)
    cs = np.arange(CMAX + 1)
    pc = stats.nbinom.pmf(cs[None, :], r, (r / (r + mu))[:, None])  # (n, C)
    pc[:, -1] += 1 - pc.sum(axis=1)
    a, s0, g, nu = tf.x[:d], tf.x[d], tf.x[d + 1:2 * d + 1], np.exp(tf.x[-1])
    m, s = np.exp(Xt @ a), np.exp(s0 + Xt @ g)
    cdf = np.zeros((len(test), len(V.GRID)))
    cdf += pc[:, :1] * (V.GRID[None, :] >= 0)
    for k in cs[1:]:
        cdf += pc[:, k:k + 1] * stats.t.cdf((V.GRID[None, :] - k * m[:, None]) / (np.sqrt(k) * s[:, None]), nu)
    return cdf, {"nb_ok": bool(nb.success), "t_ok": bool(tf.success), "nu": float(nu), "nb_alpha": float(np.exp(log_a))}


def one_part(train, test, feats):
    """``log(y + 25) ~ mu(x) + s(x) t_nu``: the same family without the carries structure."""
    mean, sd = train[feats].mean(), train[feats].std().replace(0, 1)
    X = np.column_stack([np.ones(len(train)), ((train[feats] - mean) / sd).to_numpy()])
    Xt = np.column_stack([np.ones(len(test)), ((test[feats] - mean) / sd).to_numpy()])
    z = np.log(train[F.TARGET].to_numpy(float) + 25)
    d = X.shape[1]

    def nll(th):
        return -stats.t.logpdf(z, np.exp(th[-1]), X @ th[:d], np.exp(th[d:2 * d] @ X.T)).sum()
    th = optimize.minimize(nll, np.r_[z.mean(), np.zeros(d - 1), np.log(z.std()), np.zeros(d - 1), np.log(5.0)],
                           method="L-BFGS-B", options={"maxiter": 3000}).x
    g = np.log(np.maximum(V.GRID + 25, 1e-9))
    cdf = stats.t.cdf((g[None, :] - (Xt @ th[:d])[:, None]) / np.exp(Xt @ th[d:2 * d])[:, None], np.exp(th[-1]))
    return np.where(V.GRID[None, :] + 25 > 0, cdf, 0.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.carries_ypc")
    ap.add_argument("--origins", type=int, nargs="+", default=[2021, 2022])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/hier/cache"))
    args = ap.parse_args(argv)
    if set(args.origins) & set(SEL.FINAL_ORIGINS):
        ap.error("2023-2024 are the held-out seasons")
    frame = SEL._frames(args.cache, 2012, max(SEL.FINAL_ORIGINS))[0]
    st = pd.read_parquet(ROOT.parent / "shared" / "data" / "nflverse" / "player_stats_2009_2024.parquet",
                         columns=["player_id", "season", "week", "season_type", "carries"])
    st = st[st["season_type"] == "REG"].drop_duplicates(["player_id", "season", "week"]).drop(columns="season_type")
    frame = frame.merge(st, on=["player_id", "season", "week"], how="left")
    frame["carries"] = frame["carries"].fillna(0).clip(upper=CMAX)
    feats = TrainParams().features
    (args.out / "rows").mkdir(parents=True, exist_ok=True)
    for S in args.origins:
        train, test = SEL.origin_split(frame, S, 2012)
        cdf2, info = two_part(train, test, feats)
        rows = [SEL.row_scores("proxy:carries_x_ypc", S, test, V.from_cdf("two", cdf2)),
                SEL.row_scores("proxy:one_part_t", S, test, V.from_cdf("one", one_part(train, test, feats)))]
        for r in rows:
            r.to_parquet(args.out / "rows" / f"proxy__{r['method'].iloc[0].split(':')[1]}__{S}.parquet")
        print(S, info, {r["method"].iloc[0]: round(r["crps"].mean(), 3) for r in rows})
    rows = SEL.load_rows(args.out)
    print(SEL.markdown_table(SEL.paired_table(rows[rows["method"].str.startswith(("proxy:", "model:default"))],
                                              "proxy:one_part_t")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

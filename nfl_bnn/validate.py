"""Walk-forward validation of the model against baselines, on exactly the same player-games.

Every forecast is scored through its CDF on the half-integer grid (yards are whole numbers), so all
methods are compared the same way: CRPS is the ranked probability score over integer yards, the log
score is log P(Y = y) = log(F(y + .5) - F(y - .5)), PIT is randomised. Point baselines get a
distribution by adding their own training residuals (empirical CDF of y - point on the training rows);
NFL.com's projection, which has no training rows here, gets the residuals of its earlier weeks of the
same season (walk-forward, falling back to the season-to-date baseline's residuals before week 4).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from nfl_bnn import features as feats
from nfl_bnn import nflcom

log = logging.getLogger("nfl_bnn.validate")

GRID = np.arange(-40, 401) + 0.5  # F(h) = P(Y <= h) at half-integers


@dataclass
class Forecast:
    """A method's forecasts for n rows: CDF on GRID (n, len(GRID)) plus its own summaries."""

    name: str
    cdf: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    median: np.ndarray
    q05: np.ndarray
    q25: np.ndarray
    q75: np.ndarray
    q95: np.ndarray


def _grid_quantile(cdf: np.ndarray, p: float) -> np.ndarray:
    """Whole-yard quantile from a CDF on GRID: the smallest whole y with F(y + 1/2) >= p.

    The same rule as the model's quantiles (:func:`nfl_bnn.model.forward.whole_yard_quantiles`), so
    ``q05 <= y <= q95`` counts coverage of whole yards alike for every method; an interpolated
    quantile would count a yard as in or out by where inside its bin the quantile fell.
    """
    reached = np.maximum.accumulate(cdf, axis=1) >= p
    idx = np.where(reached.any(axis=1), reached.argmax(axis=1), len(GRID) - 1)
    return GRID[idx] - 0.5


def from_cdf(name: str, cdf: np.ndarray, mean=None, sd=None) -> Forecast:
    cdf = np.clip(cdf, 0.0, 1.0)
    pmf = np.diff(np.concatenate([np.zeros((cdf.shape[0], 1)), cdf], axis=1), axis=1)
    pts = GRID - 0.5
    m = (pmf * pts).sum(axis=1) if mean is None else np.asarray(mean, float)
    s = np.sqrt(np.maximum((pmf * pts**2).sum(axis=1) - m**2, 0)) if sd is None else np.asarray(sd, float)
    q = {k: _grid_quantile(cdf, p) for k, p in [("q05", .05), ("q25", .25), ("median", .5), ("q75", .75), ("q95", .95)]}
    return Forecast(name, cdf, m, s, **q)


def residual_forecast(name: str, point: np.ndarray, residuals: np.ndarray | list[np.ndarray]) -> Forecast:
    """Point + empirical residual distribution (one residual set for all rows, or one per row)."""
    point = np.asarray(point, float)
    res_list = residuals if isinstance(residuals, list) else [residuals] * len(point)
    cdf = np.empty((len(point), len(GRID)))
    for i, (pt_, r) in enumerate(zip(point, res_list)):
        r = np.sort(np.asarray(r, float))
        cdf[i] = np.searchsorted(r, GRID - pt_, side="right") / len(r)
    return from_cdf(name, cdf, mean=point + np.array([np.mean(r) for r in res_list]),
                    sd=np.array([np.std(r) for r in res_list]))


def normal_forecast(name: str, mu: np.ndarray, sd: np.ndarray) -> Forecast:
    mu, sd = np.asarray(mu, float), np.broadcast_to(np.asarray(sd, float), np.shape(mu))
    cdf = ndtr((GRID[None, :] - mu[:, None]) / sd[:, None])
    return from_cdf(name, cdf, mean=mu, sd=sd)


def quantile_forecast(name: str, qs: np.ndarray, levels: np.ndarray) -> Forecast:
    """Piecewise-linear CDF through sorted quantiles, linear tails reaching 0 and 1."""
    qs = np.sort(qs, axis=1)
    lo = qs[:, 0] - 2 * (qs[:, 1] - qs[:, 0]) - 1
    hi = qs[:, -1] + 2 * (qs[:, -1] - qs[:, -2]) + 1
    xs = np.column_stack([lo, qs, hi])
    ps = np.concatenate([[0.0], levels, [1.0]])
    cdf = np.array([np.interp(GRID, x + np.arange(len(x)) * 1e-9, ps) for x in xs])
    return from_cdf(name, cdf)


def own_mass(cdf: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Each row's forecast probability of a whole number of yards in [lo, hi].

    With ``lo, hi = mean -/+ sd`` it is what the share of outcomes within one sd of the mean should be
    if the forecast is calibrated: 0.683 only for a Normal; a right-skewed, heavy-tailed forecast holds
    more of its mass within one sd (its sd is stretched by the tail), so that share is judged against
    this, not against 0.68.
    """
    rows = np.arange(cdf.shape[0])
    i_hi = np.clip(np.searchsorted(GRID, np.floor(hi) + 0.5), 0, len(GRID) - 1)
    i_lo = np.clip(np.searchsorted(GRID, np.ceil(lo) - 0.5), 0, len(GRID) - 1)
    return np.where(np.floor(hi) >= np.ceil(lo), cdf[rows, i_hi] - cdf[rows, i_lo], 0.0)


def score(fc: Forecast, y: np.ndarray, line: np.ndarray | None = None, rng=None) -> dict:
    """MAE of the median, CRPS, log score, coverage 50/68/90, PIT and Brier at the line."""
    y = np.asarray(y, float)
    rng = rng or np.random.default_rng(0)
    ind = (y[:, None] <= GRID[None, :]).astype(float)
    crps = ((fc.cdf - ind) ** 2).sum(axis=1)
    idx = np.clip(np.searchsorted(GRID, y), 1, len(GRID) - 1)  # GRID[idx] = y + .5
    F_hi, F_lo = fc.cdf[np.arange(len(y)), idx], fc.cdf[np.arange(len(y)), idx - 1]
    mass = np.maximum(F_hi - F_lo, 1e-6)
    pit = F_lo + rng.uniform(size=len(y)) * (F_hi - F_lo)
    out = {
        "method": fc.name, "n": len(y),
        "MAE": float(np.mean(np.abs(y - fc.median))),
        "CRPS": float(crps.mean()),
        "logS": float(-np.log(mass).mean()),
        "cov50": float(np.mean((y >= fc.q25) & (y <= fc.q75))),
        "cov68": float(np.mean(np.abs(y - fc.mean) <= fc.sd)),
        # what cov68 would be if this forecast were calibrated: its own P(|Y - mean| <= sd). 0.68 only
        # for a Normal; a right-skewed, heavy-tailed distribution puts more mass within one sd
        "cov68_own": float(np.mean(own_mass(fc.cdf, fc.mean - fc.sd, fc.mean + fc.sd))),
        "cov90": float(np.mean((y >= fc.q05) & (y <= fc.q95))),
        "PIT_hist": np.histogram(pit, bins=10, range=(0, 1))[0].tolist(),
    }
    if line is not None:
        ok = np.isfinite(line)
        if ok.any():
            li = np.searchsorted(GRID, line[ok])  # GRID[li] == line for lines ending in .5
            p_over = 1 - fc.cdf[np.flatnonzero(ok), np.clip(li, 0, len(GRID) - 1)]
            out["Brier"] = float(np.mean((p_over - (y[ok] > line[ok])) ** 2))
            out["n_lines"] = int(ok.sum())
    return out


def baselines(train: pd.DataFrame, test: pd.DataFrame, seed: int = 0,
              feature_names: list[str] | None = None) -> list[Forecast]:
    """Season-to-date, last-3, Normal linear, NGBoost Normal, LightGBM quantiles.

    The model baselines get ``feature_names`` (the compared model's own features), so a win or a loss
    is the model's, not its inputs'.
    """
    X_tr, X_te = feats.feature_matrix(train, feature_names), feats.feature_matrix(test, feature_names)
    y_tr = train[feats.TARGET].astype(float).to_numpy()
    out = []
    for name, col in [("season_to_date", "ypg_std"), ("last3_avg", "rush_l3")]:
        out.append(residual_forecast(name, test[col].to_numpy(), y_tr - train[col].to_numpy()))
    from sklearn.linear_model import LinearRegression

    lr = LinearRegression().fit(X_tr, y_tr)
    out.append(normal_forecast("normal_linear", lr.predict(X_te), np.std(y_tr - lr.predict(X_tr))))
    from ngboost import NGBRegressor
    from ngboost.distns import Normal

    ngb = NGBRegressor(Dist=Normal, n_estimators=400, learning_rate=0.03, verbose=False, random_state=seed)
    ngb.fit(X_tr, y_tr)
    dist = ngb.pred_dist(X_te)
    out.append(normal_forecast("ngboost_normal", dist.params["loc"], dist.params["scale"]))
    import lightgbm as lgb

    levels = np.array([0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98])
    qs = np.column_stack([
        lgb.LGBMRegressor(objective="quantile", alpha=a, n_estimators=300, learning_rate=0.03, num_leaves=15,
                          min_child_samples=40, verbose=-1, random_state=seed).fit(X_tr, y_tr).predict(X_te)
        for a in levels])
    out.append(quantile_forecast("lightgbm_quantile", qs, levels))
    return out


def nflcom_forecast(test: pd.DataFrame, proj: np.ndarray, fallback_res: np.ndarray) -> Forecast:
    """NFL.com point projection + residuals of its own earlier weeks this season (walk-forward)."""
    y = test[feats.TARGET].to_numpy(float)
    res_list = []
    for wk in test["week"].to_numpy():
        prior = (test["week"].to_numpy() < wk) & np.isfinite(proj)
        r = (y - proj)[prior]
        res_list.append(r if len(r) >= 50 else fallback_res)
    return residual_forecast("nflcom_projection", proj, res_list)


def moe_forecast(model, test: pd.DataFrame) -> Forecast:
    pred = model.predict(test)
    cdf = model.cdf(test, GRID)
    return Forecast("moe_bnn", cdf, pred["mean"].to_numpy(), pred["sd"].to_numpy(), pred["median"].to_numpy(),
                    pred["q05"].to_numpy(), pred["q25"].to_numpy(), pred["q75"].to_numpy(), pred["q95"].to_numpy())


def compare(model, train: pd.DataFrame, test: pd.DataFrame, nflcom_proj: np.ndarray | None = None) -> pd.DataFrame:
    """Score the model and every baseline on the same played, eligible player-games of ``test``."""
    if nflcom_proj is not None:  # every method on the same rows: those with a projection
        ok = np.isfinite(np.asarray(nflcom_proj, float))
        test, nflcom_proj = test[ok].reset_index(drop=True), np.asarray(nflcom_proj, float)[ok]
    y = test[feats.TARGET].to_numpy(float)
    fcs = [moe_forecast(model, test)] + baselines(train, test, feature_names=model.feature_names)
    line = None
    if nflcom_proj is not None:
        line = nflcom.line_from_projection(nflcom_proj)
        y_tr = train[feats.TARGET].to_numpy(float)
        fcs.append(nflcom_forecast(test, np.asarray(nflcom_proj, float), y_tr - train["ypg_std"].to_numpy()))
    return pd.DataFrame([score(fc, y, line) for fc in fcs])


def tails_by_season(model, frame: pd.DataFrame) -> pd.DataFrame:
    """Per season: share of actual yards below the model's 5% and above its 95% quantile, and 90% coverage.

    Run on the training seasons it shows how much a calibrated model's coverage moves from season to
    season (the yardage spread itself varies), which is the yardstick for one test season's coverage.
    """
    rows = []
    for season, part in frame.groupby("season", sort=True):
        y = part[feats.TARGET].to_numpy(float)
        pred = model.predict(part)
        below, above = float(np.mean(y < pred["q05"])), float(np.mean(y > pred["q95"]))
        rows.append({"season": int(season), "n": len(y), "below_q05": below, "above_q95": above,
                     "cov90": 1.0 - below - above})
    return pd.DataFrame(rows)


def disagreement(pred_mean: np.ndarray, other: np.ndarray, y: np.ndarray, pred_median: np.ndarray | None = None,
                 bins: int = 5) -> pd.DataFrame:
    """Where a point forecast ``other`` beats the model: rows binned by |model mean - other|.

    Per bin (quantiles of the disagreement): rows, each one's MAE (the model's of its median), and the
    means of the model, the other forecast and the actual yards where the model is above and below.
    A forecast that is right on average in the bins where the two differ most knows something the
    model does not; a gap spread evenly over the bins would be the model's own inaccuracy.
    """
    m, o, y = (np.asarray(a, float) for a in (pred_mean, other, y))
    med = m if pred_median is None else np.asarray(pred_median, float)
    gap = np.abs(m - o)
    edges = np.unique(np.quantile(gap, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, gap, side="right") - 1, 0, len(edges) - 2)
    avg = lambda a, k: float(a[k].mean()) if k.any() else np.nan
    rows = []
    for b in range(len(edges) - 1):
        k = which == b
        row = {"disagreement": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(k.sum()),
               "mae_model": avg(np.abs(y - med), k), "mae_other": avg(np.abs(y - o), k),
               "n_model_higher": int((k & (m > o)).sum())}
        for side, sel in (("higher", k & (m > o)), ("lower", k & (m <= o))):
            row.update({f"model_if_{side}": avg(m, sel), f"other_if_{side}": avg(o, sel),
                        f"actual_if_{side}": avg(y, sel)})
        rows.append(row)
    return pd.DataFrame(rows)


def dispersion_persistence(model, frame: pd.DataFrame, split_week: int = 8) -> tuple[pd.DataFrame, float]:
    """Per season, the sd of log((y + 25) / (median + 25)) in weeks <= ``split_week`` and after; and the
    correlation of the two halves across seasons.

    If a season's spread around the model carried over from its first half to its second, the scale
    could be updated within the season; a correlation near 0 says a tight (or wide) season is luck.
    """
    pred = model.predict(frame)
    z = np.log((frame[feats.TARGET].to_numpy(float) + 25.0) / (pred["median"].to_numpy() + 25.0))
    d = pd.DataFrame({"season": frame["season"].to_numpy(), "late": frame["week"].to_numpy() > split_week, "z": z})
    t = d.groupby(["season", "late"])["z"].std().unstack().rename(columns={False: "sd_early", True: "sd_late"})
    t["sd_yards"] = frame.groupby("season")[feats.TARGET].std().reindex(t.index).to_numpy()
    return t.reset_index(), float(np.corrcoef(t["sd_early"], t["sd_late"])[0, 1])


# --- per-row scores and paired differences (model selection, bench/select.py) ----------------------


def crps_rows(fc: Forecast, y: np.ndarray) -> np.ndarray:
    """Per-row CRPS (ranked probability score over whole yards): the same sum as :func:`score`'s mean.

    Kept per row so that two methods can be compared row by row (paired differences).
    """
    y = np.asarray(y, float)
    return ((fc.cdf - (y[:, None] <= GRID[None, :])) ** 2).sum(axis=1)


def paired_difference(a: np.ndarray, b: np.ndarray, clusters: np.ndarray) -> dict:
    """Mean of ``a - b`` (per-row losses of two methods on the same rows) with a cluster-robust SE.

    Diebold-Mariano style: the rows of one week share games, weather and news, so their differences
    are correlated; the standard error sums the centred differences within each cluster (a week)
    before squaring, with the G/(G-1) small-sample factor. A row-iid SE would be too small.
    """
    d = np.asarray(a, float) - np.asarray(b, float)
    if d.shape != np.shape(clusters) or d.size == 0:
        raise ValueError(f"paired_difference: {d.size} differences but {np.size(clusters)} cluster labels")
    n = d.size
    mean = float(d.mean())
    sums = pd.Series(d - mean).groupby(np.asarray(clusters)).sum().to_numpy()
    G = sums.size
    se = float(np.sqrt(G / (G - 1) * np.sum(sums**2)) / n) if G > 1 else float("nan")
    return {"diff": mean, "se": se, "t": mean / se if se and np.isfinite(se) and se > 0 else float("nan"),
            "n": n, "clusters": G}

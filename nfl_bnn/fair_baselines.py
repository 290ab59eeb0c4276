"""Fair baselines (issue 15 item 3): each gets the target family the data deserve, the model's features
and hyperparameters tuned on the same rolling origins as the model (``bench/select.py``).

Rushing yards are right-skewed and floored near 0, so every baseline models log(yards + offset), a
shifted log-normal: an OLS line, a K=1 Bayesian log-normal regression, NGBoost with a LogNormal and
LightGBM log-quantiles. All are scored like the model, through their CDF on the half-integer grid of
:mod:`nfl_bnn.validate`, so CRPS is the ranked probability score over whole yards for every method.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from nfl_bnn import features as feats
from nfl_bnn.validate import (GRID, Forecast, crps_rows, from_cdf, moe_forecast, paired_difference,
                              quantile_forecast, score)


def _log_target(y: np.ndarray, offset: float) -> np.ndarray:
    y = np.asarray(y, float)
    if np.any(y + offset <= 0):
        raise ValueError(f"log target: yards {y.min():.0f} <= -offset ({offset}); use a larger target offset")
    return np.log(y + offset)


def lognormal_forecast(name: str, mu: np.ndarray, sigma: np.ndarray, offset: float) -> Forecast:
    """log(Y + offset) ~ Normal(mu, sigma): F(h) = Phi((log(h + offset) - mu) / sigma), 0 below -offset."""
    mu = np.asarray(mu, float)
    sigma = np.broadcast_to(np.asarray(sigma, float), mu.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(GRID[None, :] + offset > 0, np.log(np.maximum(GRID[None, :] + offset, 1e-300)), -np.inf)
    cdf = ndtr((z - mu[:, None]) / sigma[:, None])
    return from_cdf(name, cdf)


def student_t_log_forecast(name: str, mu: np.ndarray, scale: np.ndarray, df: float, offset: float) -> Forecast:
    """log(Y + offset) ~ Student-t(df, mu, scale): a conjugate Bayesian regression's posterior predictive."""
    from scipy.stats import t as student_t

    mu, scale = np.asarray(mu, float), np.broadcast_to(np.asarray(scale, float), np.shape(mu))
    with np.errstate(divide="ignore"):
        z = np.where(GRID[None, :] + offset > 0, np.log(np.maximum(GRID[None, :] + offset, 1e-300)), -np.inf)
    cdf = student_t.cdf((z - mu[:, None]) / scale[:, None], df)
    return from_cdf(name, cdf)


def _design(X_tr: np.ndarray, X_te: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardise on the training rows (constant columns left at 0) and prepend an intercept."""
    m, s = X_tr.mean(axis=0), X_tr.std(axis=0)
    s = np.where(s > 0, s, 1.0)
    add = lambda X: np.column_stack([np.ones(len(X)), (X - m) / s])
    return add(X_tr), add(X_te)


def ols_log_forecast(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray, offset: float = 25.0,
                     name: str = "ols_log") -> Forecast:
    """Least squares on log(yards + offset) with Normal errors (sd of the training residuals)."""
    z = _log_target(y_tr, offset)
    A, B = _design(X_tr, X_te)
    coef, *_ = np.linalg.lstsq(A, z, rcond=None)
    sigma = float(np.sqrt(np.sum((z - A @ coef) ** 2) / max(len(z) - A.shape[1], 1)))
    return lognormal_forecast(name, B @ coef, sigma, offset)


def bayes_lognormal_forecast(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray, offset: float = 25.0,
                             prior_sd: float = 0.5, name: str = "bayes_lognormal_k1") -> Forecast:
    """K=1 log-normal Bayesian regression, exact (conjugate Normal-inverse-gamma) posterior predictive.

    z = log(y + offset); on standardised features, beta | s2 ~ Normal(0, s2 * prior_sd^2) per slope
    (in units of the target's sd, so ``prior_sd`` is the shrinkage, tuned on the rolling origins), a
    flat intercept and a vague inverse-gamma on s2. The predictive is Student-t in z: the one-expert,
    homoscedastic member of the model's family, without sampling.
    """
    z = _log_target(y_tr, offset)
    A, B = _design(X_tr, X_te)
    zc, zs = z.mean(), z.std() or 1.0
    zt = (z - zc) / zs
    prec0 = np.full(A.shape[1], 1.0 / prior_sd**2)
    prec0[0] = 1e-6
    a0 = b0 = 1.0
    Vn_inv = A.T @ A + np.diag(prec0)
    Vn = np.linalg.inv(Vn_inv)
    mn = Vn @ (A.T @ zt)
    an = a0 + len(zt) / 2
    bn = b0 + 0.5 * float(zt @ zt - mn @ Vn_inv @ mn)
    s2 = bn / an
    var = s2 * (1.0 + np.einsum("ij,jk,ik->i", B, Vn, B))
    return student_t_log_forecast(name, zc + zs * (B @ mn), zs * np.sqrt(var), 2 * an, offset)


def ngboost_lognormal_forecast(X_fit: np.ndarray, y_fit: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                               X_te: np.ndarray, offset: float = 25.0, learning_rate: float = 0.03,
                               max_estimators: int = 800, patience: int = 30, seed: int = 0,
                               name: str = "ngboost_lognormal") -> tuple[Forecast, int]:
    """NGBoost with a LogNormal on yards + offset, early-stopped on (X_val, y_val), then refitted on
    fit + val rows with the chosen number of trees; returns the forecast and that number."""
    from ngboost import NGBRegressor
    from ngboost.distns import LogNormal

    yf, yv = np.asarray(y_fit, float) + offset, np.asarray(y_val, float) + offset
    _log_target(np.concatenate([y_fit, y_val]), offset)  # refuses yards <= -offset
    kw = dict(Dist=LogNormal, learning_rate=learning_rate, verbose=False, random_state=seed)
    probe = NGBRegressor(n_estimators=max_estimators, **kw).fit(X_fit, yf, X_val=X_val, Y_val=yv,
                                                                early_stopping_rounds=patience)
    n_best = int(probe.best_val_loss_itr or max_estimators) + 1
    final = NGBRegressor(n_estimators=n_best, **kw).fit(np.vstack([X_fit, X_val]), np.concatenate([yf, yv]))
    d = final.pred_dist(X_te)
    return lognormal_forecast(name, np.log(d.params["scale"]), d.params["s"], offset), n_best


LGBM_LEVELS = np.array([0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98])


def lgbm_quantile_log_forecast(X_fit: np.ndarray, y_fit: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                               X_te: np.ndarray, offset: float = 25.0, num_leaves: int = 15,
                               min_child_samples: int = 40, learning_rate: float = 0.03,
                               max_estimators: int = 2000, patience: int = 50, seed: int = 0,
                               name: str = "lightgbm_quantile_log") -> tuple[Forecast, list[int]]:
    """LightGBM quantile regressions of log(yards + offset) at LGBM_LEVELS, each early-stopped on its
    own pinball loss on (X_val, y_val), refitted on fit + val rows with that many trees; quantiles map
    back through exp (quantiles commute with a monotone transform). Returns the forecast and the trees."""
    import lightgbm as lgb

    zf, zv = _log_target(y_fit, offset), _log_target(y_val, offset)
    X_all, z_all = np.vstack([X_fit, X_val]), np.concatenate([zf, zv])
    qs, trees = [], []
    for a in LGBM_LEVELS:
        kw = dict(objective="quantile", alpha=float(a), learning_rate=learning_rate, num_leaves=num_leaves,
                  min_child_samples=min_child_samples, verbose=-1, random_state=seed, n_jobs=1)
        probe = lgb.LGBMRegressor(n_estimators=max_estimators, **kw).fit(
            X_fit, zf, eval_X=(X_val,), eval_y=(zv,), callbacks=[lgb.early_stopping(patience, verbose=False)])
        n_best = max(int(probe.best_iteration_ or max_estimators), 1)
        trees.append(n_best)
        qs.append(lgb.LGBMRegressor(n_estimators=n_best, **kw).fit(X_all, z_all).predict(X_te))
    return quantile_forecast(name, np.exp(np.column_stack(qs)) - offset, LGBM_LEVELS), trees


#: The tuned baselines and the hyperparameter grid each is screened over on the rolling origins.
FAIR_BASELINE_GRID: dict[str, list[dict]] = {
    "ols_log": [{"offset": o} for o in (15.0, 25.0, 40.0, 60.0, 100.0)],
    "bayes_lognormal_k1": [{"offset": o, "prior_sd": s} for o in (25.0, 40.0, 60.0) for s in (0.02, 0.05, 0.2, 1.0)],
    "ngboost_lognormal": [{"offset": o, "learning_rate": r} for o in (25.0, 60.0) for r in (0.01, 0.04, 0.1)],
    "lightgbm_quantile_log": [{"offset": 25.0, "num_leaves": n, "min_child_samples": m}
                              for n in (4, 8, 15) for m in (20, 80)]
    + [{"offset": 60.0, "num_leaves": 4, "min_child_samples": 40}],
}


def baseline_name(method: str, hp: dict) -> str:
    """``family[key=value,...]``: the name a tuned baseline's scores are stored and tuned under."""
    return f"{method}[{','.join(f'{k}={v}' for k, v in hp.items())}]"


def fair_baseline(method: str, hp: dict, train: pd.DataFrame, test: pd.DataFrame,
                  feature_names: list[str] | None = None, seed: int = 0) -> tuple[Forecast, dict]:
    """One tuned baseline with hyperparameters ``hp`` on the model's features; returns (forecast, info).

    The boosted ones early-stop on the newest training season (validation rows never include the
    test season) and are refitted on every training season.
    """
    X_tr, X_te = feats.feature_matrix(train, feature_names), feats.feature_matrix(test, feature_names)
    y_tr = train[feats.TARGET].to_numpy(float)
    name = baseline_name(method, hp)
    if method == "ols_log":
        return ols_log_forecast(X_tr, y_tr, X_te, name=name, **hp), {}
    if method == "bayes_lognormal_k1":
        return bayes_lognormal_forecast(X_tr, y_tr, X_te, name=name, **hp), {}
    val = (train["season"] == train["season"].max()).to_numpy()
    if val.all() or not val.any():
        raise ValueError(f"{method}: early stopping needs at least two training seasons")
    args = (X_tr[~val], y_tr[~val], X_tr[val], y_tr[val], X_te)
    if method == "ngboost_lognormal":
        fc, n = ngboost_lognormal_forecast(*args, name=name, seed=seed, **hp)
        return fc, {"trees": n}
    if method == "lightgbm_quantile_log":
        fc, n = lgbm_quantile_log_forecast(*args, name=name, seed=seed, **hp)
        return fc, {"trees": n}
    raise ValueError(f"unknown baseline {method!r}; known: {sorted(FAIR_BASELINE_GRID)}")


def compare_fair(model, train: pd.DataFrame, test: pd.DataFrame, tuned: dict[str, dict] | None = None,
                 seed: int = 0) -> pd.DataFrame:
    """The model and each tuned baseline on the same rows, with each one's paired CRPS difference to
    the model (negative = better than the model) and its SE clustered by week.

    ``tuned`` maps a baseline family to ``{"hp": {...}}`` (bench/select.py writes it from the rolling
    origins); by default the first setting of each family's grid.
    """
    y = test[feats.TARGET].to_numpy(float)
    tuned = tuned or {fam: {"hp": grid[0]} for fam, grid in FAIR_BASELINE_GRID.items()}
    fcs = [moe_forecast(model, test)] + [fair_baseline(fam, rec["hp"], train, test, model.feature_names, seed)[0]
                                         for fam, rec in tuned.items()]
    ref = crps_rows(fcs[0], y)
    weeks = (test["season"].astype(str) + "-" + test["week"].astype(str)).to_numpy()
    rows = []
    for fc in fcs:
        rec = score(fc, y)
        rec.pop("PIT_hist")
        if fc is not fcs[0]:
            d = paired_difference(crps_rows(fc, y), ref, weeks)
            rec.update({"diff_vs_model": d["diff"], "se": d["se"]})
        rows.append(rec)
    return pd.DataFrame(rows)

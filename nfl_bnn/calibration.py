"""Calibration of predictive distributions against what happened.

Small pure functions on a frame of scored player-games: one row per player-game with the model's
``mean``, ``median``, ``sd``, ``q05``, ``q95`` and the ``actual`` rushing yards (the columns the
``nfl-bnn backtest`` CSV carries). A well-calibrated model covers the actual yards 90% of the time
with its 5-95% interval and with mean +/- 1 sd as often as its own probability of that interval says
(column ``p_1sd``, :meth:`nfl_bnn.model.MixtureExpertsBNN.prob_between`): 68% only for a Normal; the
model's right-skewed predictive puts about 72% within one sd, so 0.68 is the target only when that
column is absent. We alert when the 90% interval covers less than 80%, because stakes are sized from
these probabilities.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError

log = logging.getLogger("nfl_bnn.calibration")

TARGET_90 = 0.90
TARGET_68 = 0.6827
ALERT_90 = 0.80
#: Coverage above this is an alert too: intervals too wide understate every edge (95.7% used to pass).
ALERT_90_HIGH = 0.95

REQUIRED = ("mean", "median", "sd", "q05", "q95")


def _check(df: pd.DataFrame, actual: str) -> None:
    missing = [c for c in (*REQUIRED, actual) if c not in df.columns]
    if missing:
        raise DataError(f"calibration needs columns {missing} in the scored predictions; "
                        "score predictions with `nfl-bnn backtest` or the model's predict()")
    if df.empty:
        raise DataError("no scored player-games to calibrate on (empty frame); check season and weeks")


def interval_coverage(actual: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of outcomes inside ``[lo, hi]``."""
    actual, lo, hi = (np.asarray(x, float) for x in (actual, lo, hi))
    return float(np.mean((actual >= lo) & (actual <= hi)))


def summary(df: pd.DataFrame, actual: str = "actual", baseline: str | None = None,
            alert_coverage90: float = ALERT_90, alert_coverage90_high: float = ALERT_90_HIGH) -> dict:
    """Coverage of the 90% interval and of mean +/- 1 sd, MAE of the median (and of a baseline)."""
    _check(df, actual)
    y = df[actual].to_numpy(float)
    out = {
        "n": int(len(df)),
        "coverage90": interval_coverage(y, df["q05"], df["q95"]),
        "coverage68": interval_coverage(y, df["mean"] - df["sd"], df["mean"] + df["sd"]),
        "target90": TARGET_90,
        # the forecast's own probability of mean +/- 1 sd, where given: a calibrated skewed forecast covers that
        "target68": float(df["p_1sd"].mean()) if "p_1sd" in df else TARGET_68,
        "mae": float(np.mean(np.abs(y - df["median"].to_numpy(float)))),
    }
    if baseline is not None and baseline in df:
        ok = df[baseline].notna().to_numpy()
        out["mae_baseline"] = float(np.mean(np.abs(y[ok] - df[baseline].to_numpy(float)[ok])))
        out["mae_model_same_rows"] = float(np.mean(np.abs(y[ok] - df["median"].to_numpy(float)[ok])))
        out["baseline_rows"] = int(ok.sum())
    out["alert"] = not alert_coverage90 <= out["coverage90"] <= alert_coverage90_high
    return out


def alerts(s: dict, alert_coverage90: float = ALERT_90, alert_coverage90_high: float = ALERT_90_HIGH) -> list[str]:
    """Human-readable alerts (also logged as warnings), on both sides of the coverage band.

    Too low: the model is overconfident and stakes are too large. Too high: its intervals are too wide,
    so its probabilities sit too close to 50% and real edges are understated.
    """
    msgs = []
    if s["coverage90"] < alert_coverage90:
        msgs.append(f"90% interval covers only {s['coverage90']:.1%} of {s['n']} player-games "
                    f"(alert below {alert_coverage90:.0%}): the model is overconfident; retrain or recalibrate")
    elif s["coverage90"] > alert_coverage90_high:
        msgs.append(f"90% interval covers {s['coverage90']:.1%} of {s['n']} player-games "
                    f"(alert above {alert_coverage90_high:.0%}): the intervals are too wide (underconfident); "
                    "retrain or recalibrate")
    for m in msgs:
        log.warning(m)
    return msgs


def by_week(df: pd.DataFrame, actual: str = "actual") -> pd.DataFrame:
    """Coverage and MAE week by week."""
    _check(df, actual)
    rows = []
    for week, g in df.groupby("week", sort=True):
        s = summary(g, actual)
        rows.append({"week": int(week), "n": s["n"], "coverage90": s["coverage90"],
                     "coverage68": s["coverage68"], "mae": s["mae"]})
    return pd.DataFrame(rows)


def pit_from_prob_over(prob_over_actual: np.ndarray) -> np.ndarray:
    """PIT value F(y) = 1 - P(Y > y); uniform on [0, 1] when the model is calibrated."""
    return 1.0 - np.clip(np.asarray(prob_over_actual, float), 0.0, 1.0)


def reliability_bins(p_over: np.ndarray, went_over: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted P(over) against the observed over-rate, in equal-width probability bins."""
    p = np.asarray(p_over, float)
    o = np.asarray(went_over, float)
    if p.shape != o.shape:
        raise DataError(f"p_over has {p.shape} values but outcomes {o.shape}")
    edges = np.linspace(0, 1, n_bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        m = idx == b
        if m.any():
            rows.append({"bin_lo": edges[b], "bin_hi": edges[b + 1], "n": int(m.sum()),
                         "mean_p": float(p[m].mean()), "observed": float(o[m].mean())})
    return pd.DataFrame(rows, columns=["bin_lo", "bin_hi", "n", "mean_p", "observed"])


def season_to_date_baseline(stats: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """Each row's player's mean rushing yards in earlier weeks of the same season (NaN in week 1).

    Only games strictly before the row's week count, so the baseline is known before kickoff.
    """
    r = rows[["season", "week", "player_id"]].reset_index().rename(columns={"index": "_row"})
    s = stats[["season", "week", "player_id", "rushing_yards"]].rename(columns={"week": "_w"})
    m = r.merge(s, on=["season", "player_id"], how="inner")
    m = m[m["_w"] < m["week"]]
    means = m.groupby("_row")["rushing_yards"].mean()
    return pd.Series(means.reindex(r["_row"]).to_numpy(), index=rows.index, name="baseline_season_avg")


def median_proxy_lines(stats: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """Each row's ``proxy:season_median`` line, by the same rule as the weekly run (NaN: no line).

    The weekly run prices proxy lines with :func:`nfl_bnn.proxy_lines.season_median_lines` (the
    median of the back's earlier games this season, at least 2, rounded to x.5). A calibration report
    scored at another line (the season-to-date mean, which sits above the median of a right-skewed
    quantity) would judge P(over) at lines the weekly run never bets, so it uses that function too.
    """
    from nfl_bnn.proxy_lines import season_median_lines

    out = pd.Series(np.nan, index=rows.index, name="proxy_line")
    for (season, week), g in rows.groupby(["season", "week"]):
        lines = season_median_lines(stats, g, int(season), int(week))
        per_player = lines.drop_duplicates("player_id").set_index("player_id")["line"]
        out.loc[g.index] = g["player_id"].map(per_player).to_numpy(float)
    return out

"""Proxy screen of the candidate role features (issue 13): does a feature group lower CRPS?

A PROXY, not the model: an OLS fit of log(yards + 25) on the model's default features (plus one
candidate group), its training residuals on the log scale as the predictive distribution. Rolling
origins: for each test season S, train on 2012..S-1, test on S. Reported per group: the paired CRPS
gain over the same OLS without the group (positive = better), with a standard error clustered by week
(rows of one week share news and weather). A group that does not help this proxy may still help the
mixture model, and one that helps here must still be measured with the model before it enters
``features.FEATURES`` (params/train.yaml).

Needs a warehouse with the nflverse files and the role sources imported, e.g.:

    NFL_BNN_WAREHOUSE=/tmp/roles.duckdb nfl-bnn import-nflverse --schedules S --player-stats P --injuries I \
        --depth-charts D E --rosters R --snap-counts N --pbp pbp/*.parquet --ngs G
    .venv/bin/python -m bench.roles_screen --warehouse /tmp/roles.duckdb [--seasons 2022 2023 2024]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nfl_bnn import features as F, role_features as RF, roles as R, validate as V  # noqa: E402
from nfl_bnn.warehouse import connect, load_games, load_injuries, load_stats  # noqa: E402

GROUPS = RF.GROUPS
SHIFT = 25.0


def log_ols_crps(train: pd.DataFrame, test: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Per-row CRPS of the OLS-on-log(y + 25) forecast with empirical log residuals."""
    X_tr = np.column_stack([np.ones(len(train)), train[names].astype(float).to_numpy()])
    X_te = np.column_stack([np.ones(len(test)), test[names].astype(float).to_numpy()])
    z = np.log(np.maximum(train[F.TARGET].to_numpy(float), -SHIFT + 1) + SHIFT)
    beta, *_ = np.linalg.lstsq(X_tr, z, rcond=None)
    res = np.sort(z - X_tr @ beta)
    mu = X_te @ beta
    g = np.log(np.maximum(V.GRID + SHIFT, 1e-9))[None, :] - mu[:, None]
    cdf = np.searchsorted(res, g.ravel(), side="right").reshape(g.shape) / len(res)
    cdf[:, V.GRID + SHIFT <= 0] = 0.0
    y = test[F.TARGET].to_numpy(float)
    ind = (y[:, None] <= V.GRID[None, :]).astype(float)
    return ((cdf - ind) ** 2).sum(axis=1)


def clustered_se(d: np.ndarray, clusters: np.ndarray) -> float:
    """SE of the mean of ``d`` with rows correlated inside clusters (weeks)."""
    df = pd.DataFrame({"d": d - d.mean(), "c": clusters})
    sums = df.groupby("c")["d"].sum().to_numpy()
    g = len(sums)
    return float(np.sqrt((sums ** 2).sum() * g / max(g - 1, 1)) / len(d))


def screen(frame: pd.DataFrame, seasons: list[int], first: int = 2012) -> pd.DataFrame:
    base = list(F.FEATURES)
    rows = []
    for s in seasons:
        tr = frame[(frame.season >= first) & (frame.season < s)]
        te = frame[frame.season == s]
        c0 = log_ols_crps(tr, te, base)
        weeks = te["week"].to_numpy()
        rows.append(dict(season=s, group="(baseline)", n=len(te), crps=c0.mean(), gain=0.0, se=0.0))
        for name, cols in list(GROUPS.items()) + [("all", sorted({c for v in GROUPS.values() for c in v}))]:
            c1 = log_ols_crps(tr, te, base + [c for c in cols if c not in base])
            d = c0 - c1
            rows.append(dict(season=s, group=name, n=len(te), crps=c1.mean(), gain=d.mean(),
                             se=clustered_se(d, weeks)))
    out = pd.DataFrame(rows)
    pooled = []
    for name, g in out.groupby("group", sort=False):
        n = g["n"].to_numpy()
        pooled.append(dict(season="pooled", group=name, n=int(n.sum()), crps=float((g.crps * n).sum() / n.sum()),
                           gain=float((g.gain * n).sum() / n.sum()),
                           se=float(np.sqrt(((g.se * n) ** 2).sum()) / n.sum())))
    return pd.concat([out, pd.DataFrame(pooled)], ignore_index=True)


def eligibility_gap(stats: pd.DataFrame, games: pd.DataFrame, injuries: pd.DataFrame,
                    tables: dict[str, pd.DataFrame], seasons: list[int]) -> pd.DataFrame:
    """Backs who played (any stats row, position RB) by their depth rank known before kickoff: how many
    were candidates, and their mean yards. Shows what eligibility from the depth chart could add."""
    cand = F.candidate_frame(stats, games, min(seasons), max(seasons), injuries)
    s = stats[stats.season.isin(seasons) & (stats.season_type == "REG") & (stats.position == "RB")]
    m = s.merge(cand[["game_id", "player_id"]].assign(candidate=True), on=["game_id", "player_id"], how="left")
    m["candidate"] = m["candidate"].eq(True)
    m = m.join(RF.depth_features(m, tables["depth_charts"], games))
    return (m.groupby(["depth_rank", "candidate"], observed=True).rushing_yards.agg(["size", "mean"]).round(1)
            .rename(columns={"size": "backs", "mean": "mean_yards"}).reset_index())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", required=True, help="warehouse URL or DuckDB path with the role tables")
    ap.add_argument("--seasons", nargs="+", type=int, default=[2022, 2023, 2024])
    ap.add_argument("--snaps-target", action="store_true",
                    help="grade backs with snaps and no stats row as 0 yards in training and test targets")
    ap.add_argument("--eligibility", action="store_true",
                    help="instead of the screen: backs who played, by known depth rank, candidates or not")
    args = ap.parse_args(argv)
    with connect(args.warehouse, read_only=True) as wh:
        stats, games, inj = load_stats(wh), load_games(wh), load_injuries(wh)
        tables = R.load_roles(wh)
    if args.eligibility:
        print("Backs who played, by depth rank known before kickoff (4 = not listed), candidate or not:")
        print(eligibility_gap(stats, games, inj, tables, args.seasons).to_string(index=False))
        return 0
    frame = F.training_frame(stats, games, 2012, max(args.seasons), inj,
                             snaps=tables["snap_counts"] if args.snaps_target else None)
    frame = RF.add_role_features(frame, tables, games)
    table = screen(frame, args.seasons)
    pd.set_option("display.width", 140)
    print("PROXY screen (OLS on log(yards+25), not the model): paired CRPS gain vs the default features, "
          "SE clustered by week; gain > 0 = better")
    print(table.round({"crps": 3, "gain": 3, "se": 3}).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

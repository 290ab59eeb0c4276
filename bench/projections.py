"""The model against published forecasts of the same player-games: NFL.com's projection, BettingPros'
projection and the closing consensus line itself (the market's median), with paired standard errors.

    .venv/bin/python -m bench.projections --model M --warehouse W [--season 2024]

``M`` must be trained on seasons before ``--season`` (walk-forward; refused otherwise); ``W`` is a
warehouse holding that season's games, stats and injury reports (``nfl-bnn import-nflverse``).
Needs ../shared/data (NFL.com projections and the BettingPros open/close table).

Every method is scored on exactly the same rows (the eligible, played player-games where the forecast
exists), per row, so differences are paired; standard errors treat the rows of one week as a cluster.
A point forecast becomes a distribution by adding its own residuals from earlier weeks of the season
(walk-forward, as :func:`nfl_bnn.validate.nflcom_forecast` does for NFL.com), so its CRPS is comparable
with the model's. MAE compares medians. Positive differences mean the model is worse.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.nflverse_frames import SHARED  # noqa: E402
from nfl_bnn import features as F, nflcom, validate as V, warehouse  # noqa: E402
from nfl_bnn.model import MixtureExpertsBNN  # noqa: E402
from nfl_bnn.names import normalise_name  # noqa: E402

BP_FILE = SHARED / "lines" / "bettingpros_rushing_yards_open_close_{season}.csv"


def bettingpros(test: pd.DataFrame, season: int) -> pd.DataFrame:
    """BettingPros' projection and the closing consensus line for each row of ``test`` (NaN where none)."""
    bp = pd.read_csv(str(BP_FILE).format(season=season))
    bp = bp[bp["position"].astype(str).str.upper().eq("RB") & (bp["close_line"] > 0)]
    bp = bp.assign(name_key=bp["player_name"].map(normalise_name))
    bp = bp.drop_duplicates(["game_id", "name_key"])[["game_id", "name_key", "close_bp_projection", "close_line"]]
    key = test[["game_id"]].assign(name_key=test["player_name"].map(normalise_name))
    return key.merge(bp, on=["game_id", "name_key"], how="left").set_index(test.index)


def compare(model: MixtureExpertsBNN, test: pd.DataFrame, points: dict[str, np.ndarray],
            fallback: np.ndarray) -> pd.DataFrame:
    """One row per published forecast ("it"): its rows, both CRPS and MAE, and the paired model-minus-it figures."""
    rows = []
    for name, point in points.items():
        ok = np.isfinite(point)
        t = test[ok].reset_index(drop=True)
        y, wk = t[F.TARGET].to_numpy(float), t["week"].to_numpy()
        moe = V.moe_forecast(model, t)
        other = V.nflcom_forecast(t, point[ok], fallback)  # its earlier weeks' residuals, whoever published it
        c_m, c_o = V.crps_rows(moe, y), V.crps_rows(other, y)
        a_m, a_o = np.abs(y - moe.median), np.abs(y - point[ok])
        dc, sc = (V.paired_difference(c_m, c_o, wk)[k] for k in ("diff", "se"))
        da, sa = (V.paired_difference(a_m, a_o, wk)[k] for k in ("diff", "se"))
        rows.append({"forecast": name, "rows": len(t), "CRPS model": c_m.mean(), "CRPS it": c_o.mean(),
                     "CRPS diff": dc, "CRPS SE": sc, "MAE model": a_m.mean(), "MAE it": a_o.mean(),
                     "MAE diff": da, "MAE SE": sa})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.projections", description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="artifact trained on seasons before --season")
    ap.add_argument("--warehouse", required=True, help="DuckDB file or PostgreSQL URL with --season's data")
    ap.add_argument("--season", type=int, default=2024)
    args = ap.parse_args()
    S = args.season
    model = MixtureExpertsBNN.load(args.model)
    last = (model.meta.get("training_window") or {}).get("last_season")
    if last is None or int(last) >= S:
        sys.exit(f"the model was trained on seasons up to {last}: train it on seasons before {S}")
    with warehouse.connect(args.warehouse, read_only=True) as wh:
        hist = F.load_history(wh, S - 1, S)
    train, test = hist.training_frame(S - 1, S - 1), hist.training_frame(S, S).reset_index(drop=True)
    fallback = train[F.TARGET].to_numpy(float) - train["ypg_std"].to_numpy(float)
    nfl = nflcom.join_projections(test, nflcom.read_projections(SHARED / "nflcom" / f"rb_projections_{S}.csv"))
    bp = bettingpros(test, S)
    points = {"nflcom": nfl.to_numpy(float), "bp_projection": bp["close_bp_projection"].to_numpy(float),
              "close_line": bp["close_line"].to_numpy(float)}
    table = compare(model, test, points, fallback)
    print(f"model {args.model} (trained to {last}); {S}: {len(test)} eligible played player-games; "
          "positive diff = the model is worse; SE clustered by week")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()

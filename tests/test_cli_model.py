"""`nfl-bnn train` and `nfl-bnn backtest` end to end on a tiny synthetic warehouse (ADVI, seconds)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from nfl_bnn import cli
from nfl_bnn.model import MixtureExpertsBNN

from _fakes import build_small_warehouse


def test_train_then_backtest_through_the_cli(project_home, tmp_path, capsys):
    build_small_warehouse(seasons=(2017, 2018, 2019), weeks=8)
    art = tmp_path / "moe.npz"
    assert cli.main(["train", "--first-season", "2018", "--last-season", "2018", "--out", str(art),
                     "--params", "params/train_fast.yaml"]) == 0
    m = MixtureExpertsBNN.load(art)
    assert m.meta["training_window"] == {"first_season": 2018, "last_season": 2018,
                                         "rows": m.meta["training_window"]["rows"]}
    out = tmp_path / "bt.csv"
    assert cli.main(["backtest", "--season", "2019", "--model", str(art), "--out", str(out),
                     "--lines", "warehouse"]) == 0
    df = pd.read_csv(out)
    want = ["season", "week", "game_id", "player_id", "player_name", "team", "opponent", "mean", "median",
            "sd", "q05", "q25", "q75", "q95", "p_over", "line", "actual_yards"]
    assert all(c in df.columns for c in want) and (df["season"] == 2019).all()
    assert set(df["week"]) == set(range(1, 9)) and len(df) > 8 * 8
    assert (df["q05"] <= df["median"]).all() and (df["median"] <= df["q95"]).all()
    has = df["line"].notna()  # the warehouse's lines are for the lead backs of 2019
    assert has.any() and df.loc[has, "p_over"].between(0, 1).all() and df.loc[~has, "p_over"].isna().all()
    # a sane forecast: the synthetic lead backs average about 17 * 4.3 = 73 yards
    lead = df["player_id"].str.endswith("1")
    assert 40 < df.loc[lead, "mean"].mean() < 110
    assert np.isfinite(df[["mean", "sd"]].to_numpy()).all()
    assert "wrote" in capsys.readouterr().out

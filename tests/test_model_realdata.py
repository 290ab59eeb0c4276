"""Full-quality fit on real data (2012-2023) and walk-forward validation on 2024 (slow: ~4 min on 2 cores).

Asserts only what `make bench` measured to hold (see the README's measured figures): predictive R-hat
< 1.05, lower CRPS and log score than every model baseline, 90% coverage within the issue's 0.88-0.92
and mean +/- 1 sd coverage within 0.64-0.72 (measured 0.904 and 0.696 on the NFL.com rows). Not
asserted because not reached: CRPS/MAE vs NFL.com's projection (18.50 / 26.51 vs the model's
18.93 / 27.30; even a fit on 2024 itself reaches only 18.54 / 26.68).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.realdata
def test_fit_2012_2023_converges_and_beats_model_baselines_on_2024(shared_data):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.nflverse_frames import injuries_frame, load
    from nfl_bnn import features as F, validate as V
    from nfl_bnn.train import fit, load_train_params

    stats, games = load(shared_data)
    injuries = injuries_frame(shared_data)
    train = F.training_frame(stats, games, 2012, 2023, injuries)
    test = F.training_frame(stats, games, 2024, 2024, injuries)
    model, diag = fit(train, load_train_params(), 2012, 2023)
    assert diag["rhat_pred_max"] < 1.05 and diag["rhat_pover_max"] < 1.05
    table = V.compare(model, train, test).set_index("method")
    others = table.drop(index="moe_bnn")
    assert table.loc["moe_bnn", "CRPS"] < others["CRPS"].min()
    assert table.loc["moe_bnn", "logS"] < others["logS"].min()
    assert 0.88 <= table.loc["moe_bnn", "cov90"] <= 0.92  # measured 0.901 on all 607 rows (2023: 0.920)
    assert 0.64 <= table.loc["moe_bnn", "cov68"] <= 0.72
    assert model.n_experts == 3 and model.gate == "ordinal"

"""The gate before saving a model (train.check_fit), shared by `nfl-bnn train` and notebooks/train.ipynb."""
from __future__ import annotations

import pandas as pd
import pytest
from _fakes import build_small_warehouse, error_lines, fake_model

from nfl_bnn import cli, train
from nfl_bnn.errors import FitCheckError
from nfl_bnn.features import FEATURES

GOOD_DIAG = {"chains": 4, "draws_per_chain": 300, "divergences": 0, "rhat_pred_max": 1.01, "ess_pred_min": 600.0}
GOOD_HOLD = train.Holdout(rows=500, coverage90=0.9, mean_prediction=60.0, season=2019, held_out=True)


def test_check_fit_passes_a_good_fit_and_skips_what_a_fit_does_not_report():
    assert train.check_fit(GOOD_DIAG, GOOD_HOLD) == []
    advi = {"chains": 1, "draws_per_chain": 100, "inference": "advi"}  # no R-hat, ESS or divergences
    assert train.check_fit(advi, None) == []


@pytest.mark.parametrize("diag, hold, expected", [
    ({"divergences": 25}, {}, "25 divergences in 1200 draws"),
    ({"divergences": 25, "divergence_directions": {"scale_c_0": 20, "v_scale_log__": 5}}, {},
     "25 divergences in 1200 draws (more than 2%); they ran along scale_c_0 (20), v_scale_log__ (5)"),
    ({"rhat_pred_max": 1.2}, {}, "R-hat of predicted means up to 1.200 > 1.1"),
    ({"rhat_pred_max": float("nan")}, {}, "R-hat of predicted means up to nan"),
    ({"ess_pred_min": 40.0}, {}, "ESS of predicted means down to 40 < 100"),
    ({}, {"coverage90": 0.7}, "90% interval covers only 70.0% of 500 player-games of season 2019 (at least 80%"),
    ({}, {"mean_prediction": 650.0}, "mean prediction 650.0 yards on season 2019 is unrealistic"),
    ({}, {"mean_prediction": 20.0, "held_out": False}, "on season 2019 (in-sample) is unrealistic"),
])
def test_check_fit_names_each_failed_check(diag, hold, expected):
    problems = train.check_fit({**GOOD_DIAG, **diag}, train.Holdout(**{**GOOD_HOLD.__dict__, **hold}))
    assert len(problems) == 1 and expected in problems[0]


def test_limits_are_parameters():
    strict = train.FitLimits(max_rhat=1.005, min_ess=1000, max_divergence_share=0.0)
    assert len(train.check_fit({**GOOD_DIAG, "divergences": 1}, GOOD_HOLD, strict)) == 3


def test_holdout_coverage_counts_whole_yards_on_the_interval():
    pred = pd.DataFrame({"mean": [50.0, 60.0, 70.0, 80.0], "q05": [10.0, 20.0, 30.0, 40.0],
                         "q95": [90.0, 100.0, 110.0, 120.0]})
    h = train.holdout_from_predictions(pred, [10, 100, 29, 121], 2019)  # ends count: 2 of 4 inside
    assert (h.rows, h.coverage90, h.mean_prediction) == (4, 0.5, 65.0)


def test_save_if_fit_refuses_and_keeps_the_previous_artifact(tmp_path):
    path = tmp_path / "latest.npz"
    fake_model(mean=65.0).save(path)
    before = path.read_bytes()
    with pytest.raises(FitCheckError, match="model NOT saved") as err:
        train.save_if_fit(fake_model(mean=70.0), {**GOOD_DIAG, "rhat_pred_max": 1.3}, GOOD_HOLD, path)
    assert "R-hat" in str(err.value) and err.value.exit_code == 1
    assert path.read_bytes() == before
    assert train.save_if_fit(fake_model(mean=70.0), GOOD_DIAG, GOOD_HOLD, tmp_path / "new.npz").is_file()


@pytest.fixture
def warehouse_home(project_home):
    build_small_warehouse(seasons=(2017, 2018, 2019), weeks=6)
    return project_home


def _fake_fit(diag):
    def fit(frame, p, first, last):
        return fake_model(FEATURES, mean=60.0, sd=28.0), {**diag, "wall_s": 0.0}
    return fit


def test_cli_train_refuses_a_fit_that_fails_the_checks(warehouse_home, monkeypatch, capsys):
    """The CLI runs the same gate as the notebook: exit 1, one line naming the failed check, nothing written."""
    monkeypatch.setattr(train, "fit", _fake_fit({**GOOD_DIAG, "rhat_pred_max": 1.4}))
    out = warehouse_home / "models" / "m.npz"
    rc = cli.main(["train", "--first-season", "2018", "--last-season", "2018", "--out", str(out)])
    err = error_lines(capsys.readouterr().err)
    assert rc == 1 and len(err) == 1
    assert "model NOT saved" in err[0] and "R-hat of predicted means up to 1.400" in err[0]
    assert not out.exists()


def test_cli_train_checks_on_the_next_season_or_in_sample(warehouse_home, monkeypatch, capsys):
    monkeypatch.setattr(train, "fit", _fake_fit(GOOD_DIAG))
    out = warehouse_home / "models" / "m.npz"
    assert cli.main(["train", "--first-season", "2017", "--last-season", "2018", "--out", str(out)]) == 0
    assert "checked on" in capsys.readouterr().out and out.is_file()
    out.unlink()
    assert cli.main(["train", "--first-season", "2018", "--last-season", "2019", "--out", str(out)]) == 0
    assert "of 2019 (in-sample)" in capsys.readouterr().out and out.is_file()
    rc = cli.main(["train", "--first-season", "2018", "--last-season", "2018", "--validate-season", "2021",
                   "--out", str(out)])
    assert rc == 1 and "no eligible played player-games of season 2021" in capsys.readouterr().err
    rc = cli.main(["train", "--first-season", "2018", "--last-season", "2018", "--validate-season", "2018",
                   "--out", str(out)])
    assert rc == 2 and "must come after --last-season" in capsys.readouterr().err


def test_train_notebook_uses_the_package_gate():
    """The notebook holds no rule of its own: its saving cell calls train.check_fit/save_if_fit."""
    import json

    from nfl_bnn.config import PROJ_ROOT

    nb = json.loads((PROJ_ROOT / "notebooks" / "train.ipynb").read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    saving = [c for c in code if ".save(" in c or "save_if_fit" in c]
    assert len(saving) == 1 and "train.save_if_fit(" in saving[0] and "train.check_fit(" in saving[0]
    assert not any("problems.append" in c or "RuntimeError" in c for c in code)

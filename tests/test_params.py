"""Typed parameters: unknown keys, wrong types and bad files are one clear ConfigError."""
from __future__ import annotations

import ast
import json

import numpy as np
import pytest
from pydantic import Field

from nfl_bnn import cli, config, nbparams, pipeline
from nfl_bnn.errors import ConfigError
from nfl_bnn.params import StrictModel, load_params, validate
from nfl_bnn.train import TrainParams, load_train_params


class Demo(StrictModel):
    season: int = Field(2019, ge=2000, le=2100)
    kelly_fraction: float = Field(0.15, gt=0, le=1)


def test_files_merge_left_to_right_then_overrides(tmp_path):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("season: 2018\nkelly_fraction: 0.1\n")
    b.write_text("kelly_fraction: 0.2\n")
    p = load_params(Demo, a, b, overrides={"season": 2020, "kelly_fraction": None})
    assert (p.season, p.kelly_fraction) == (2020, 0.2)


def test_typo_gets_did_you_mean(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("seasn: 2019\n")
    with pytest.raises(ConfigError, match=r"unknown parameter 'seasn'; did you mean 'season'\?"):
        load_params(Demo, f)


def test_wrong_type_and_range_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"season: .*got 'twenty'"):
        load_params(Demo, overrides={"season": "twenty"})
    with pytest.raises(ConfigError, match=r"kelly_fraction: .*less than or equal to 1"):
        load_params(Demo, overrides={"kelly_fraction": 1.5})


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_params(Demo, tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("season: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(Demo, bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_params(Demo, lst)


# --- the project's parameter classes: rules between parameters fail at load ------------------------


def test_train_params_defaults_are_params_train_yaml():
    """Reading TrainParams says what a plain `nfl-bnn train` runs: its defaults and the file agree."""
    assert TrainParams().model_dump() == load_train_params(config.params_dir() / "train.yaml").model_dump()


@pytest.mark.parametrize("overrides, message", [
    ({"gate_features": ["carry_share", "rush_l3"], "features": ["carry_share", "proj_carries"]},
     r"gate_features \['rush_l3'\] are not in features"),
    ({"features": ["carry_share", "carries_l3"]}, r"features \['carries_l3'\] are built neither by nfl_bnn.features nor by nfl_bnn.role_features"),
    ({"features": ["carry_share", "carry_share"], "gate_features": None}, r"features lists \['carry_share'\] more than once"),
    ({"gate_features": []}, "gate_features is empty"),
    ({"features": ["carry_share", "proj_carries", "implied_total"]},
     r"hidden_features \[.*'rush_l3'.*\] are not in features.*set hidden_features to \['proj_carries', 'carry_share', "
     r"'implied_total'\] \(and hidden_units to 6"),
])
def test_train_params_rules_between_fields(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_train_params(config.params_dir() / "train.yaml", **overrides)


def test_train_cli_refuses_inconsistent_params_with_exit_2_before_any_work(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("features: [carry_share, proj_carries]\ngate_features: [implied_total]\n")
    monkeypatch.setattr(cli, "_load_frames", lambda *a: pytest.fail("the warehouse was read before the params"))
    rc = cli.main(["train", "--first-season", "2017", "--last-season", "2018", "--out", str(tmp_path / "m.npz"),
                   "--params", str(bad)])
    assert rc == 2 and "gate_features ['implied_total'] are not in features" in capsys.readouterr().err


@pytest.mark.parametrize("notebook, values, message", [
    ("train", {"last_season": 2018, "validate_season": 2018}, "validate_season 2018 must come after last_season 2018"),
    ("train", {"first_season": 2019, "last_season": 2018, "validate_season": 2020},
     "first_season 2019 is after last_season 2018"),
    ("calibration", {"first_week": 12, "last_week": 11}, "first_week 12 is after last_week 11"),
    ("backtest", {"first_week": 9, "last_week": 3}, "first_week 9 is after last_week 3"),
])
def test_notebook_params_rules_fail_at_load(notebook, values, message):
    with pytest.raises(ConfigError, match=message) as err:
        nbparams.check_parameters(notebook, dict(values))
    assert "got {" not in str(err.value)  # the rule's own words, not a dump of every value


@pytest.mark.parametrize("cls", [pipeline.WeeklyParams, *nbparams.NOTEBOOK_PARAMS.values()], ids=lambda c: c.__name__)
def test_season_and_week_are_one_type_everywhere(cls):
    """Every class with a season or week refuses the same values the same way (params.Season / params.Week)."""
    for field, bad in (("season", 1850), ("week", 23), ("week", True), ("last_week", 0), ("first_week", 10.5)):
        if field in cls.model_fields:
            with pytest.raises(ConfigError, match=field):
                validate(cls, {**_required(cls), field: bad})


def _required(cls):
    return {"season": 2019, "week": 4, "bankroll": 100.0, "kelly_fraction": 0.1, "max_bet_fraction": 0.02,
            "min_edge": 0.03, "min_confidence": 0.6, "max_week_fraction": 0.1,
            "max_game_fraction": 0.05} if cls is pipeline.WeeklyParams else {}


def _parameters_cell(notebook: str) -> dict:
    nb = json.loads((config.PROJ_ROOT / "notebooks" / f"{notebook}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    tree = ast.parse("".join(cell["source"]))
    return {n.target.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.AnnAssign)}


def _notebook_code(notebook: str) -> str:
    nb = json.loads((config.PROJ_ROOT / "notebooks" / f"{notebook}.ipynb").read_text())
    return "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("notebook", sorted(nbparams.NOTEBOOK_PARAMS))
def test_notebook_parameter_cells_equal_their_class_defaults(notebook):
    """One set of defaults: what the notebook's parameters cell says is what its class declares."""
    assert _parameters_cell(notebook) == nbparams.default_params(notebook)


@pytest.mark.parametrize("notebook", sorted(nbparams.NOTEBOOK_PARAMS))
def test_papermill_reads_every_declared_parameter(notebook):
    """papermill's own reading of the parameters cell finds every field, so a run never logs "Passed
    unknown parameter" for a declared one (its pattern does not take an annotation like ``bool | None``)."""
    import nbformat
    from papermill.translators import PythonTranslator

    nb = nbformat.read(config.PROJ_ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    assert {p.name for p in PythonTranslator.inspect(cell)} == set(nbparams.default_params(notebook))


def test_one_name_for_paper_trading():
    names = {n for c in [pipeline.WeeklyParams, *nbparams.NOTEBOOK_PARAMS.values()] for n in c.model_fields}
    assert "paper_trade" in nbparams.WeeklyNotebookParams.model_fields and "paper" not in names


def test_notebook_setup_seeds_the_rng_creates_the_folder_and_shows_the_parameters(project_home, monkeypatch):
    from nfl_bnn import reports

    shown = []
    monkeypatch.setattr(reports, "show_table", lambda df, caption="": shown.append((df, caption)))
    params = nbparams.check_parameters("drift", {"season": 2019, "seed": 7})
    rng, out = nbparams.setup(params, "drift")
    assert rng.integers(0, 10**9) == np.random.default_rng(7).integers(0, 10**9)
    assert out.is_dir() and out == project_home / "reports" / "drift" / "lab"
    (table, caption), = shown
    assert caption == "Parameters of this run" and table.loc[0, "season"] == 2019 and "output_dir" not in table


def test_train_notebook_fits_with_the_train_params_seed_and_its_draws_overrides(project_home):
    """The train notebook's seed seeds the notebook only: the fit's seed is the params file's, as for
    ``nfl-bnn train`` and the benchmarks (it used to be replaced by the notebook's 20241)."""
    from nfl_bnn import train

    file_params = train.load_train_params(config.PROJ_ROOT / "params" / "train.yaml")
    kept = nbparams.train_settings(nbparams.check_parameters("train", {"seed": 7}))
    assert kept.seed == file_params.seed != 7
    assert (kept.draws, kept.tune) == (file_params.draws, file_params.tune)
    over = nbparams.train_settings(nbparams.check_parameters("train", {"draws": 50, "tune": 40}))
    assert (over.draws, over.tune, over.seed) == (50, 40, file_params.seed)
    code = _notebook_code("train")
    assert "tp = nbparams.train_settings(params)" in code and "load_train_params" not in code


def test_weekly_notebook_takes_what_it_was_not_given_from_weekly_yaml(tmp_path):
    """make weekly / the weekly notebook: weekly.yaml < profile < parameters, as for ``nfl-bnn weekly``.
    The notebook's (and the Makefile's) own defaults used to replace the file's profile, paper_trade
    and lines, so ``paper_trade: true`` in the file was overridden by ``PAPER=0``."""
    base = (config.PROJ_ROOT / "params" / "weekly.yaml").read_text()
    for key, value in (("profile", "moderate"), ("paper_trade", "true"), ("lines", "proxy")):
        assert f"\n{key}:" in "\n" + base
        base = "\n".join(f"{key}: {value}" if ln.startswith(f"{key}:") else ln for ln in base.splitlines())
    weekly = tmp_path / "weekly.yaml"
    weekly.write_text(base)
    given = {"season": 2019, "week": 10, "weekly_params": str(weekly)}
    wp = nbparams.weekly_settings(nbparams.check_parameters("weekly", dict(given)))
    assert (wp.profile, wp.paper_trade, wp.lines) == ("moderate", True, "proxy")
    wp = nbparams.weekly_settings(nbparams.check_parameters(
        "weekly", {**given, "profile": "aggressive", "paper_trade": False, "lines": "warehouse", "bankroll": 50.0}))
    assert (wp.profile, wp.paper_trade, wp.lines, wp.bankroll) == ("aggressive", False, "warehouse", 50.0)
    code = _notebook_code("weekly")
    assert "wp = nbparams.weekly_settings(params)" in code and "load_weekly_params" not in code


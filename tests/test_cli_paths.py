"""One resolution rule for every path option (config.resolve_path): absolute as given; data/, models/,
reports/, logs/, backups/ under NFL_BNN_HOME; params/ in the project; anything else from the current folder.

Before, `train --out models/latest.npz` and `backtest --model` resolved against the current folder while
`weekly` read $NFL_BNN_HOME/models: with NFL_BNN_HOME set, training silently left the weekly run on a
stale model.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from _fakes import fake_model

from nfl_bnn import cli, config
from nfl_bnn.features import FEATURES

#: (argv with {} where the path goes, the option's dest)
PATH_OPTIONS = [
    (["train", "--first-season", "2018", "--last-season", "2018", "--out", "{}"], "out"),
    (["train", "--first-season", "2018", "--last-season", "2018", "--out", "x", "--params", "{}"], "params"),
    (["backtest", "--season", "2019", "--model", "{}", "--out", "x"], "model"),
    (["backtest", "--season", "2019", "--model", "x", "--out", "{}"], "out"),
    (["weekly", "--season", "2019", "--week", "3", "--model", "{}"], "model"),
    (["weekly", "--season", "2019", "--week", "3", "--params", "{}"], "params"),
    (["backtest-bets", "--season", "2019", "--model", "{}"], "model"),
    (["backtest-bets", "--season", "2019", "--nflcom", "{}"], "nflcom"),
    (["drift", "--season", "2019", "--model", "{}"], "model"),
    (["doctor", "--model", "{}"], "model"),
    (["restore", "{}"], "archive"),
    (["import-lines", "{}"], "path"),
]


@pytest.fixture
def elsewhere(project_home, tmp_path, monkeypatch):
    """NFL_BNN_HOME set, and the command started from another folder."""
    cwd = tmp_path / "somewhere_else"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def _parsed(argv, dest, path):
    return getattr(cli.build_parser().parse_args([a.replace("{}", path) for a in argv]), dest)


@pytest.mark.parametrize("argv, dest", PATH_OPTIONS, ids=lambda v: " ".join(v[:1]) if isinstance(v, list) else v)
def test_every_path_option_follows_the_one_rule(elsewhere, project_home, argv, dest):
    def got(path):
        value = _parsed(argv, dest, path)
        return Path(value[0] if isinstance(value, list) else value)

    assert got("models/m.npz") == project_home / "models" / "m.npz"
    assert got("backups/b.tar.gz") == project_home / "backups" / "b.tar.gz"
    assert got("params/weekly.yaml") == config.PROJ_ROOT / "params" / "weekly.yaml"
    assert got("mine/f.csv") == elsewhere / "mine" / "f.csv"
    assert got("/abs/f.csv") == Path("/abs/f.csv")
    assert got("models/m.npz") == config.resolve_model_path("models/m.npz")  # what the weekly run reads


def test_defaults_and_lists_follow_it_too(elsewhere, project_home):
    p = cli.build_parser()
    assert p.parse_args(["drift", "--season", "2019"]).model == str(project_home / "models" / "latest.npz")
    assert p.parse_args(["doctor"]).model == str(project_home / "models" / "latest.npz")
    assert p.parse_args(["run-notebook", "weekly", "--params", "params/weekly.yaml", "--params", "mine.yaml"]
                        ).params == [str(config.PROJ_ROOT / "params" / "weekly.yaml"), str(elsewhere / "mine.yaml")]
    assert p.parse_args(["import-nflverse", "--schedules", "https://x/s.parquet", "data/s.parquet"]).schedules == [
        "https://x/s.parquet", str(project_home / "data" / "s.parquet")]
    assert p.parse_args(["backtest", "--season", "2019", "--model", "m", "--out", "o", "--lines", "nflcom:n.csv"]
                        ).lines == f"nflcom:{elsewhere / 'n.csv'}"


def test_backtest_reads_the_model_weekly_reads(elsewhere, project_home, capsys):
    """End to end: `backtest --model models/latest.npz` started elsewhere finds $NFL_BNN_HOME/models/latest.npz."""
    from _fakes import build_small_warehouse

    build_small_warehouse(seasons=(2018, 2019), weeks=3)
    fake_model(FEATURES).save(config.models_dir() / "latest.npz")
    assert cli.main(["backtest", "--season", "2019", "--model", "models/latest.npz", "--out", "reports/bt.csv"]) == 0
    assert (project_home / "reports" / "bt.csv").is_file() and not (elsewhere / "reports").exists()
    assert f"to {project_home / 'reports' / 'bt.csv'}" in capsys.readouterr().out


def test_every_argument_type_reaches_its_option():
    """The table of argument types (ranges, paths) names only options the parser has."""
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    for group in (cli._data_commands, cli._model_commands, cli._betting_commands, cli._ops_commands):
        group(sub)
    assert cli._apply_arg_types(sub) == []
    cli.ARG_TYPES[("review", "no_such_option")] = cli._path
    try:
        assert cli._apply_arg_types(sub) == [("review", "no_such_option")]
    finally:
        del cli.ARG_TYPES[("review", "no_such_option")]

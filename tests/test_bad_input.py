"""Bad input through the CLI: each case gives ONE line on stderr that names what and where, and a
non-zero exit, never a traceback. Only cases not already covered elsewhere are here; the unit-level
tests of the same rules (betting, params, importers, pipeline) are listed in docs/reliability.md.
"""
from __future__ import annotations


import pytest

from _fakes import fake_model
from test_pipeline import LINES, FakeModel, line_rows, make_frames

from nfl_bnn import cli, config, warehouse
from nfl_bnn.features import FEATURES
from nfl_bnn.model import MixtureExpertsBNN



def one_line_error(capsys, argv, code):
    """Run the CLI; assert the exit code and that stderr is exactly one ``nfl-bnn: error:`` line."""
    rc = cli.main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == code, err
    assert len(lines) == 1 and lines[0].startswith("nfl-bnn: error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def wh(project_home, monkeypatch):
    from nfl_bnn import schema

    with warehouse.connect() as w:
        schema.create_schema(w)
        games, stats = make_frames()
        w.upsert_df("mart.games", games)
        w.upsert_df("mart.player_game_stats", stats)
        w.upsert_df("best_prop_lines", line_rows(LINES))
    monkeypatch.setattr(MixtureExpertsBNN, "load", classmethod(lambda cls, path: FakeModel()))
    return project_home


WEEKLY = ["weekly", "--season", "2024", "--week", "4"]


@pytest.mark.parametrize("extra, names", [
    (["--season", "1850"], "season"),
    (["--week", "0"], "week"),
    (["--week", "23"], "week"),
    (["--profile", "yolo"], "unknown risk profile 'yolo'; choose one of aggressive, conservative"),
    (["--kelly-fraction", "0"], "kelly_fraction"),
    (["--kelly-fraction", "1.5"], "kelly_fraction"),
    (["--max-bet-fraction", "1.01"], "max_bet_fraction"),
    (["--bankroll", "-100"], "bankroll"),
    (["--bankroll", "nan"], "bankroll"),
    (["--min-edge", "1.2"], "min_edge"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_weekly_bad_parameters_one_line_exit_2(wh, capsys, extra, names):
    line = one_line_error(capsys, WEEKLY + extra, 2)
    assert names in line


def test_params_file_with_a_typo(wh, capsys, tmp_path):
    f = tmp_path / "my_weekly.yaml"
    f.write_text((config.params_dir() / "weekly.yaml").read_text() + "kely_fraction: 0.2\n")
    line = one_line_error(capsys, WEEKLY + ["--params", str(f)], 2)
    assert "kely_fraction" in line and "did you mean 'kelly_fraction'" in line and "my_weekly.yaml" in line


@pytest.mark.parametrize("argv, names", [
    (["weekly", "--season", "2024", "--week", "four"], "argument --week: week must be a number or 'next', not 'four'"),
    (["weekly", "--season", "2024.5", "--week", "4"], "argument --season: invalid int value: '2024.5'"),
    (["weekly", "--season", "2024", "--week", "4", "--bankroll", "lots"], "argument --bankroll: invalid float"),
    (["settle", "--season", "x"], "argument --season: invalid int value: 'x'"),
])
def test_wrong_types_are_refused_by_the_parser(capsys, argv, names):
    """argparse refuses a non-number before anything runs: exit 2, usage line plus the named argument."""
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and names in err and "Traceback" not in err


@pytest.mark.parametrize("argv, names", [
    (["settle", "--season", "2024", "--week", "0"], "week"),
    (["review", "--season", "-1"], "season"),
    (["review", "--season", "2024", "--week", "99"], "week"),
    (["backtest-bets", "--season", "2024", "--profile", "yolo"], "unknown risk profile 'yolo'"),
    (["backtest-bets", "--season", "2024", "--weeks", "1-x"], "--weeks '1-x'"),
])
def test_other_commands_bad_season_week_profile(wh, capsys, argv, names):
    rc = cli.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc in (1, 2) and len(err) == 1 and names in err[0]


def test_week_with_no_games_through_the_cli(wh, capsys):
    line = one_line_error(capsys, ["weekly", "--season", "2024", "--week", "9"], 1)
    assert "no games for season 2024 week 9 in mart.games" in line and "import that schedule" in line


def test_line_for_a_player_not_in_the_warehouse_through_the_cli(wh, capsys):
    with warehouse.connect() as w:
        w.upsert_df("best_prop_lines", line_rows([("ZZ-RB9", "over", 40.5, -110, -110)]))
    assert cli.main(WEEKLY) in (0, 3)  # issue 12.3: skipped and said (3: monitoring alerts), others priced
    assert "player(s) not in the warehouse (ZZ Back9)" in capsys.readouterr().out


# --- an empty warehouse, at every entry point -----------------------------------------------------
DATA_HINT = ("make data", "build-demo-data")


@pytest.fixture(params=["no tables", "empty tables"])
def empty_warehouse(request, project_home):
    """A model is there; the warehouse has no tables at all, or the tables of `init-db` with no rows."""
    fake_model(FEATURES).save(config.models_dir() / "latest.npz")
    if request.param == "empty tables":
        assert cli.main(["init-db"]) == 0
    return request.param


@pytest.mark.parametrize("argv", [
    ["weekly", "--season", "2019", "--week", "5"],
    ["backtest-bets", "--season", "2019"],
    ["train", "--first-season", "2016", "--last-season", "2017", "--out", "{home}/models/new.npz"],
    ["backtest", "--season", "2019", "--model", "{home}/models/latest.npz", "--out", "{home}/bt"],
], ids=["weekly", "backtest-bets", "train", "backtest"])
def test_empty_warehouse_says_load_data(empty_warehouse, project_home, capsys, argv):
    capsys.readouterr()
    line = one_line_error(capsys, [a.format(home=project_home) for a in argv], 1)
    assert all(h in line for h in DATA_HINT), line


def test_empty_warehouse_train_entry_point(empty_warehouse, capsys):
    """Training runs as notebooks/train.ipynb (`make train` = `nfl-bnn run-notebook train`); the runner logs
    its progress to stderr too, so here the LAST line is the error, and there is no traceback."""
    capsys.readouterr()
    rc = cli.main(["run-notebook", "train", "--no-progress", "-p", "first_season=2016", "-p", "last_season=2017",
                   "-p", "validate_season=2018"])
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert rc == 1 and "Traceback" not in err and last.startswith("nfl-bnn: error: notebook train failed")
    assert all(h in last for h in DATA_HINT), last


def test_weekly_as_of_through_the_cli(wh, capsys):
    line = one_line_error(capsys, WEEKLY + ["--as-of", "last tuesday"], 2)
    assert "as_of" in line and "not a time" in line
    # the best_prop_lines quotes were fetched 2024-10-01 09:00 UTC: as of the day before, no line is known
    assert cli.main(WEEKLY + ["--as-of", "2024-09-30T00:00:00Z"]) in (0, 3)
    out = capsys.readouterr().out
    assert "as of 2024-09-30 00:00 UTC" in out and "NO BETS" in out

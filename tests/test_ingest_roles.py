"""Role sources (depth charts, weekly rosters, snaps, play-by-play, NGS): both schemas, both backends,
idempotent re-import, bad input refused with the warehouse unchanged, and the real files."""
from __future__ import annotations

import pandas as pd
import pytest

from nfl_bnn.cli import main
from nfl_bnn.errors import DataError
from nfl_bnn.ingest.nflverse import import_nflverse
from nfl_bnn.ingest.roles import import_roles
from nfl_bnn.warehouse import connect

HILL, MURRAY = "00-0031234", "00-0030000"


def _write(tmp_path, name, rows):
    path = tmp_path / name
    pd.DataFrame(rows).to_parquet(path) if name.endswith(".parquet") else pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _games(tmp_path):
    rows = [dict(game_id="2024_01_CIN_LV", season=2024, game_type="REG", week=1, gameday="2024-09-08",
                 gametime="16:25", away_team="CIN", home_team="OAK", away_score=20, home_score=10, spread_line=-3.0,
                 total_line=43.0),
            dict(game_id="2024_02_LV_CIN", season=2024, game_type="REG", week=2, gameday="2024-09-15",
                 gametime="13:00", away_team="LV", home_team="CIN", away_score=17, home_score=24, spread_line=3.0,
                 total_line=44.0)]
    return _write(tmp_path, "sched.csv", rows)


def legacy_depth(**over):
    base = dict(season=2024, week=2, game_type="REG", club_code="CIN", gsis_id=HILL, full_name="Jeremy Hill",
                position="RB", depth_position="RB", depth_team="1", formation="Offense", jersey_number="32")
    return {**base, **over}


def espn_depth(**over):
    base = dict(dt="2024-09-12T12:00:00Z", team="CIN", player_name="Jeremy Hill", espn_id="1", gsis_id=HILL,
                pos_grp="Base", pos_abb="RB", pos_slot=1.0, pos_rank=2.0)
    return {**base, **over}


def roster(**over):
    base = dict(season=2024, week=2, game_type="REG", team="CIN", gsis_id=HILL, player_name="Jeremy Hill",
                position="RB", depth_chart_position="RB", status="ACT", status_description_abbr="A01",
                pfr_id="HillJe01")
    return {**base, **over}


def snap(**over):
    base = dict(game_id="2024_02_OAK_CIN", season=2024, game_type="REG", week=2, player="Jeremy Hill",
                pfr_player_id="HillJe01", position="RB", team="CIN", opponent="OAK", offense_snaps=30.0,
                offense_pct=0.5)
    return {**base, **over}


def play(**over):
    base = dict(game_id="2024_02_LV_CIN", season=2024, week=2, posteam="CIN", defteam="OAK", rush_attempt=1.0,
                yards_gained=4.0, yardline_100=3.0, epa=0.5, success=1.0, rusher_player_id=HILL,
                season_type="REG")
    return {**base, **over}


def ngs(**over):
    base = dict(season=2024, season_type="REG", week=2, player_gsis_id=HILL, player_display_name="Jeremy Hill",
                team_abbr="CIN", rush_attempts=10, rush_yards=50, expected_rush_yards=42.0,
                rush_yards_over_expected=8.0, efficiency=3.5, percent_attempts_gte_eight_defenders=20.0)
    return {**base, **over}


def _files(tmp_path):
    return dict(
        depth_charts=[_write(tmp_path, "dc.parquet", [legacy_depth(), legacy_depth(depth_team="2", formation="ST",
                                                                                  depth_position="RB"),
                                                      legacy_depth(gsis_id=None, full_name="No Id")]),
                      _write(tmp_path, "dc_espn.parquet", [espn_depth(), espn_depth(dt="2025-05-01T00:00:00Z")])],
        rosters=[_write(tmp_path, "ro.csv", [roster(), roster(gsis_id=MURRAY, player_name="Latavius Murray",
                                                               team="OAK", status="INA", pfr_id="MurrLa00")])],
        snap_counts=[_write(tmp_path, "sn.csv", [snap(), snap(pfr_player_id="MurrLa00", player="Latavius Murray",
                                                               team="OAK", opponent="CIN"),
                                                  snap(pfr_player_id="DefeNs00", offense_snaps=0.0)])],
        pbp=[_write(tmp_path, "pbp.parquet", [play(), play(yardline_100=40.0, epa=-0.5, success=0.0, yards_gained=1.0),
                                               play(rush_attempt=0.0), play(rusher_player_id=None)])],
        ngs=[_write(tmp_path, "ngs.csv", [ngs(), ngs(week=0, team_abbr=None)])],
    )


def test_every_source_imports_maps_ids_and_reimports_unchanged(tmp_path, wh_url):
    files = _files(tmp_path)
    with connect(wh_url) as wh:
        import_nflverse(wh, schedules=[_games(tmp_path)])
        first = {c.table: c for c in import_roles(wh, **files)}
        again = import_roles(wh, **files)
        dc = wh.query_df("SELECT * FROM mart.depth_charts ORDER BY snapshot")
        sn = wh.query_df("SELECT * FROM mart.snap_counts ORDER BY pfr_player_id")
        ru = wh.query_df("SELECT * FROM mart.rush_usage")
        rd = wh.query_df("SELECT * FROM mart.run_defense")
        ng = wh.query_df("SELECT * FROM mart.ngs_rushing")
        ro = wh.query_df("SELECT * FROM mart.rosters ORDER BY player_id")
    assert all(c.inserted == 0 and c.updated == 0 for c in again)
    assert first["mart.depth_charts"].inserted == 3 and first["mart.depth_charts"].skipped == 2  # no id; duplicate slot
    legacy = dc[dc.snapshot == "weekly"].iloc[0]
    assert (legacy.depth_rank, legacy.season, legacy.week, legacy.team) == (1, 2024, 2, "CIN")
    assert pd.isna(legacy.published_at)  # no publication time: the rule is "next week only"
    espn = dc[dc.snapshot == "2024-09-12T12:00:00Z"].iloc[0]
    # published Thursday 08:00 US/Eastern; the team's next game is week 2 (Sunday)
    assert (espn.season, espn.week, espn.depth_rank) == (2024, 2, 2)
    assert pd.Timestamp(espn.published_at) == pd.Timestamp("2024-09-12 08:00")
    off = dc[dc.snapshot == "2025-05-01T00:00:00Z"].iloc[0]
    assert (off.season, off.week) == (2025, 0)  # no game known yet: the off-season edition
    assert list(sn.pfr_player_id) == ["HillJe01", "MurrLa00"]  # the zero-snap player is not kept
    assert list(sn.player_id) == [HILL, MURRAY] and list(sn.game_id) == ["2024_02_LV_CIN"] * 2 and sn.team[1] == "LV"
    u = ru.iloc[0]
    assert (len(ru), u.carries, u.rush_yards, u.rz_carries, u.gl_carries, u.successes) == (1, 2, 5, 1, 1, 1)
    assert u.epa_sum == pytest.approx(0.0) and u.game_id == "2024_02_LV_CIN"
    d = rd.iloc[0]
    assert (len(rd), d.team, d.rushes) == (1, "LV", 3)  # the unnamed rusher's run still counts for the defence
    assert list(ng.week) == [2] and ng.ryoe[0] == 8.0
    assert list(ro.status) == ["INA", "ACT"] and ro.team[0] == "LV"


@pytest.mark.parametrize("table,row,message", [
    ("depth_charts", legacy_depth(depth_team="x"), "column 'depth_team' has non-numeric value 'x'"),
    ("depth_charts", espn_depth(dt="yesterday"), "column 'dt' has an unreadable timestamp 'yesterday'"),
    ("depth_charts", {"foo": 1}, "does not look like an nflverse depth chart"),
    ("rosters", roster(team="XXX"), "unknown team code 'XXX'"),
    ("snap_counts", snap(game_id="2024-02"), "expected SEASON_WEEK_AWAY_HOME"),
    ("pbp", play(yardline_100="far"), "column 'yardline_100' has non-numeric value 'far'"),
    ("ngs", ngs(rush_attempts=-1), "column 'rush_attempts' has negative value"),
])
def test_bad_input_is_refused_and_nothing_is_written(tmp_path, wh_url, table, row, message):
    files = _files(tmp_path)
    with connect(wh_url) as wh:
        import_nflverse(wh, schedules=[_games(tmp_path)])
        import_roles(wh, **files)
        before = {t: wh.count(t) for t in ("mart.rosters", "mart.depth_charts", "mart.snap_counts")}
        files[table] = [_write(tmp_path, "bad.csv", [row])]
        files["rosters"] = files["rosters"] + [_write(tmp_path, "ro2.csv", [roster(season=2023)])]
        with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
            import_roles(wh, **files)
        assert {t: wh.count(t) for t in before} == before  # the good roster file was not written either


def test_nothing_to_import_is_a_clear_error(tmp_path):
    with connect(str(tmp_path / "w.duckdb")) as wh, pytest.raises(DataError, match="nothing to import"):
        import_roles(wh)


def test_cli_imports_role_sources(tmp_path, project_home, capsys):
    f = _files(tmp_path)
    assert main(["import-nflverse", "--schedules", str(_games(tmp_path)), "--rosters", str(f["rosters"][0]),
                 "--snap-counts", str(f["snap_counts"][0]), "--pbp", str(f["pbp"][0]), "--ngs", str(f["ngs"][0]),
                 "--depth-charts", *map(str, f["depth_charts"])]) == 0
    out = capsys.readouterr().out
    assert "mart.games: 2 inserted" in out and "mart.snap_counts: 2 inserted" in out
    assert "mart.rush_usage: 1 inserted" in out and "mart.depth_charts: 3 inserted" in out


# --- the real files ----------------------------------------------------------------------------------
@pytest.mark.realdata
@pytest.mark.postgres
def test_real_role_files_agree_on_both_backends_and_reimport(shared_data, tmp_path, pg_server_url):
    """One season of each real file (2024), the ESPN-schema sample, into DuckDB and PostgreSQL."""
    from conftest import reset_pg

    nv = shared_data / "nflverse"
    cut = {}
    for name in ("depth_charts_2021_2024", "roster_weekly_2021_2024", "snap_counts_2016_2024"):
        df = pd.read_parquet(nv / f"{name}.parquet")
        cut[name] = tmp_path / f"{name}.parquet"
        df[df.season == 2024].to_parquet(cut[name])
    sched = pd.read_parquet(nv / "schedules_2009_2024.parquet")
    sched[sched.season == 2024].to_parquet(tmp_path / "sched.parquet")
    files = dict(depth_charts=[cut["depth_charts_2021_2024"], nv / "depth_charts_espn_schema_sample_2026.parquet"],
                 rosters=[cut["roster_weekly_2021_2024"]], snap_counts=[cut["snap_counts_2016_2024"]],
                 pbp=[nv / "pbp" / "pbp_2024.parquet"], ngs=[nv / "ngs_rushing_2021_2024.parquet"])
    reset_pg(pg_server_url)
    sums = {}
    for url in (str(tmp_path / "w.duckdb"), pg_server_url):
        with connect(url) as wh:
            import_nflverse(wh, schedules=[tmp_path / "sched.parquet"])
            import_roles(wh, **files)
            assert all(c.inserted == 0 and c.updated == 0 for c in import_roles(wh, **files))
            sums[wh.backend] = wh.query_df(
                "SELECT (SELECT count(*) FROM mart.depth_charts) AS dc, (SELECT count(*) FROM mart.rosters) AS ro, "
                "(SELECT count(player_id) FROM mart.snap_counts WHERE position = 'RB') AS rb_mapped, "
                "(SELECT count(*) FROM mart.snap_counts WHERE position = 'RB') AS rb, "
                "(SELECT sum(carries) FROM mart.rush_usage) AS carries, "
                "(SELECT sum(rushes) FROM mart.run_defense) AS rushes, "
                "(SELECT count(*) FROM mart.ngs_rushing) AS ngs, "
                "(SELECT count(*) FROM mart.rush_usage r JOIN mart.games g ON g.game_id = r.game_id) AS joined, "
                "(SELECT count(*) FROM mart.rush_usage) AS usage").astype("int64").iloc[0].to_dict()
    assert sums["duckdb"] == sums["postgres"]
    s = sums["duckdb"]
    assert s["joined"] == s["usage"]  # play-by-play game ids are the warehouse's
    assert s["rb_mapped"] / s["rb"] > 0.93  # 94.8%: PFR ids in the 2024 rosters alone (99.3% with player-stat names)
    assert 14_000 < s["carries"] < 17_000 and s["rushes"] >= s["carries"]


def test_load_roles_reads_every_table_typed_alike_on_both_backends(tmp_path, wh_url):
    from nfl_bnn.roles import TABLES, load_roles

    with connect(wh_url) as wh:
        empty = load_roles(wh)  # nothing imported: every table empty, typed, no error
        import_nflverse(wh, schedules=[_games(tmp_path)])
        import_roles(wh, **_files(tmp_path))
        t = load_roles(wh, first_season=2024, last_season=2024)
    assert set(empty) == set(TABLES) and all(df.empty for df in empty.values())
    assert all(list(t[k].columns) == TABLES[k][0] for k in TABLES)
    assert str(t["depth_charts"].published_at.dtype) == "datetime64[ns]"
    assert t["depth_charts"].depth_rank.dtype == "int64" and t["snap_counts"].offense_pct.dtype == "float64"
    assert len(t["depth_charts"]) == 2  # the 2025 off-season snapshot is outside the seasons asked for
    assert t["rush_usage"].epa_sum.iloc[0] == pytest.approx(0.0) and t["rosters"].status.tolist() == ["INA", "ACT"]  # by key: MURRAY < HILL

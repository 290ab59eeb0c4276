"""Eligibility from the weekly roster and depth chart known at the bet time (nfl_bnn/eligibility.py):
today's rule exactly where no roster is known, team from the roster, back from a reserve list, not
active = not a candidate, position by season, and leak tests (censored rebuilds) that catch planted leaks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_features import synthetic
from test_roles import _kickoffs

from nfl_bnn import eligibility as E
from nfl_bnn import features as F
from nfl_bnn import roles as R

MOVER, RETURNER, SWITCH = "AAA-0", "CCC-0", "DDD-0"


def _move(stats: pd.DataFrame, games: pd.DataFrame, pid: str, team: str, season: int) -> pd.DataFrame:
    """``pid`` plays for ``team`` in ``season`` (same carries, in ``team``'s game of each week)."""
    st = stats.copy()
    g = games[(games.season == season)]
    side = pd.concat([g.assign(team=g.home_team, opponent=g.away_team, is_home=True),
                      g.assign(team=g.away_team, opponent=g.home_team, is_home=False)])
    side = side[side.team == team].set_index("week")
    rows = (st.player_id == pid) & (st.season == season)
    wk = st.loc[rows, "week"]
    for c in ("game_id", "opponent", "is_home"):
        st.loc[rows, c] = wk.map(side[c]).to_numpy()
    st.loc[rows, "team"] = team
    return st


def world_tables(stats: pd.DataFrame, games: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Rosters of 2021 (everyone ACT at his stats position, the returner RES weeks 2-4) and legacy depth
    charts of 2021 (rank by carries, the returner listed first from week 4's edition on)."""
    s = stats[stats.season == 2021]
    ros = pd.DataFrame(dict(season=s.season, week=s.week, player_id=s.player_id, team=s.team, player_name=s.player_name,
                            position=s.position, depth_chart_position=s.position, status="ACT", pfr_id=None))
    gone = (stats.player_id == RETURNER) & (stats.season == 2021) & stats.week.between(2, 4)
    back = stats[gone]
    ros = pd.concat([ros, pd.DataFrame(dict(season=back.season, week=back.week, player_id=RETURNER, team=back.team,
                                            player_name=back.player_name, position="RB", depth_chart_position="RB",
                                            status="RES", pfr_id=None))], ignore_index=True)
    rb = s[s.position.isin(["RB", "WR"])].copy()
    rb["depth_rank"] = rb.groupby(["game_id", "team"])["carries"].rank(ascending=False, method="first").astype(int)
    depth = pd.DataFrame(dict(season=rb.season, week=rb.week, team=rb.team, player_id=rb.player_id, slot="RB",
                              snapshot="weekly", player_name=rb.player_name, position="RB", depth_rank=rb.depth_rank,
                              published_at=pd.NaT))
    lead = depth[(depth.team == "CCC") & (depth.week == 4)].iloc[:1].assign(player_id=RETURNER, depth_rank=1)
    depth = pd.concat([depth[~((depth.team == "CCC") & (depth.week == 4))], lead,
                       depth[(depth.team == "CCC") & (depth.week == 4)].assign(depth_rank=lambda d: d.depth_rank + 1)])
    depth["published_at"] = pd.to_datetime(depth["published_at"]).astype("datetime64[ns]")
    return {"rosters": R._typed("rosters", ros.reset_index(drop=True)),
            "depth_charts": R._typed("depth_charts", depth.reset_index(drop=True))}


@pytest.fixture
def world(rng):
    """2020-2021, 6 weeks: MOVER plays for BBB in 2021, RETURNER misses weeks 2-4 of 2021 (reserve)."""
    stats, games = synthetic(rng, seasons=(2020, 2021), weeks=6)
    games = _kickoffs(games)
    stats = _move(stats, games, MOVER, "BBB", 2021)
    stats = stats[~((stats.player_id == RETURNER) & (stats.season == 2021) & stats.week.between(2, 4))]
    stats.loc[(stats.player_id == RETURNER), "carries"] = 20  # a clear starter
    return stats.reset_index(drop=True), games, world_tables(stats, games)


def _row(frame, pid, week):
    return frame[(frame.player_id == pid) & (frame.week == week)]


def _kickoff(games, season, week):
    return pd.to_datetime(games[(games.season == season) & (games.week == week)].kickoff).min()


def test_without_a_known_roster_the_frame_is_exactly_todays(world):
    stats, games, tables = world
    old = F.candidate_frame(stats, games, 2020, 2021)
    new = F.candidate_frame(stats, games, 2020, 2021, roles=tables)
    pd.testing.assert_frame_equal(old[old.season == 2020].reset_index(drop=True), new[new.season == 2020].reset_index(drop=True))
    assert not old[old.season == 2021].reset_index(drop=True).equals(new[new.season == 2021].reset_index(drop=True))
    none = {"rosters": R.empty("rosters"), "depth_charts": tables["depth_charts"]}
    pd.testing.assert_frame_equal(old, F.candidate_frame(stats, games, 2020, 2021, roles=none))
    # week 1 bet a day before kickoff: no roster of the season is known yet (week 0 has none)
    early = _kickoff(games, 2021, 1) - pd.Timedelta(days=1)
    pd.testing.assert_frame_equal(F.for_week(stats, games, 2021, 1), F.for_week(stats, games, 2021, 1, roles=tables, as_of=early))


def test_a_back_who_changed_teams_is_priced_for_his_new_team_from_week_1(world):
    stats, games, tables = world
    old, new = F.for_week(stats, games, 2021, 1), F.for_week(stats, games, 2021, 1, roles=tables)
    assert _row(old, MOVER, 1).team.tolist() == ["AAA"]  # today: voided for his old team
    assert _row(new, MOVER, 1).team.tolist() == ["BBB"]
    mate = lambda f: float(f[(f.player_id == "BBB-0")].mates_share.iloc[0])
    assert mate(new) == pytest.approx(mate(old) + float(_row(new, MOVER, 1).carry_share.iloc[0]))
    # his player features are his own history's
    pd.testing.assert_series_equal(_row(old, MOVER, 1).rush_l3.reset_index(drop=True),
                                   _row(new, MOVER, 1).rush_l3.reset_index(drop=True))
    tr = F.training_frame(stats, games, 2021, 2021, roles=tables)
    got = _row(tr[tr.season == 2021], MOVER, 1)
    actual = stats[(stats.player_id == MOVER) & (stats.season == 2021) & (stats.week == 1)].rushing_yards
    assert got.team.tolist() == ["BBB"] and got[F.TARGET].tolist() == actual.tolist()
    assert _row(F.training_frame(stats, games, 2021, 2021)[lambda d: d.season == 2021], MOVER, 1).empty


def test_a_starter_back_from_reserve_is_a_candidate_and_the_depth_rank_counts_after_a_long_absence(world, monkeypatch):
    stats, games, tables = world
    assert _row(F.for_week(stats, games, 2021, 5), RETURNER, 5).empty  # today: no recent game
    assert len(_row(F.for_week(stats, games, 2021, 5, roles=tables), RETURNER, 5)) == 1  # played this season
    monkeypatch.setattr(E, "ROSTER_SEASONS", -1)  # as if his last game were long ago: the depth chart decides
    assert len(_row(F.for_week(stats, games, 2021, 5, roles=tables), RETURNER, 5)) == 1  # listed first
    monkeypatch.setattr(E, "DEPTH_MAX", 0)  # rank 1 no longer enough
    assert _row(F.for_week(stats, games, 2021, 5, roles=tables), RETURNER, 5).empty


def test_a_back_not_active_on_the_known_roster_is_not_a_candidate(world):
    stats, games, tables = world
    ros = tables["rosters"].copy()
    pid = "BBB-0"
    assert len(_row(F.for_week(stats, games, 2021, 3, roles=tables), pid, 3)) == 1
    for status in ("INA", "RES", "CUT", "DEV"):
        ros.loc[(ros.player_id == pid) & (ros.week == 3), "status"] = status
        assert _row(F.for_week(stats, games, 2021, 3, roles={**tables, "rosters": ros}), pid, 3).empty, status
    # not on the team's roster at all (released): not a candidate either
    gone = ros[~((ros.player_id == pid) & (ros.week == 3))]
    assert _row(F.for_week(stats, games, 2021, 3, roles={**tables, "rosters": gone}), pid, 3).empty
    # a bet placed before the week's inactives are known reads last week's row: still a candidate
    early = _kickoff(games, 2021, 3) - pd.Timedelta(hours=2)
    assert len(_row(F.for_week(stats, games, 2021, 3, roles={**tables, "rosters": ros}, as_of=early), pid, 3)) == 1


def test_position_by_season_from_the_roster(world):
    stats, games, tables = world
    ros = tables["rosters"].copy()
    pid = "DDD-0"
    ros.loc[ros.player_id == pid, "position"] = "WR"  # moved to receiver in 2021
    new = F.candidate_frame(stats, games, 2020, 2021, roles={**tables, "rosters": ros})
    assert (new[new.player_id == pid].season == 2020).all() and (new.player_id == pid).any()
    # and a receiver by the box scores who is a back on the 2021 roster is a back in 2021 only
    st = stats.copy()
    st.loc[st.player_id == pid, "position"] = "WR"
    assert not (F.candidate_frame(st, games, 2020, 2021).player_id == pid).any()
    again = F.candidate_frame(st, games, 2020, 2021, roles=tables)
    assert (again[again.player_id == pid].season == 2021).all() and (again.player_id == pid).any()


# --- leak tests ------------------------------------------------------------------------------------------
def _build(season, week, as_of=None):
    def build(tables, games, stats):
        return F.for_week(stats, games, season, week, roles=tables, as_of=as_of)
    return build


def _bet(games, season, week, as_of):
    ko = R.team_kickoffs(games)
    ko = ko[(ko.season == season) & (ko.week == week)].set_index("team")["kickoff"]
    return ko if as_of is None else ko.clip(upper=as_of)


@pytest.mark.parametrize("season,week,hours", [(2021, 1, 0), (2021, 3, 0), (2021, 5, 0), (2021, 5, 2), (2021, 2, 30)])
def test_candidates_equal_a_rebuild_from_tables_censored_to_the_bet_time(world, season, week, hours):
    stats, games, tables = world
    as_of = None if not hours else _kickoff(games, season, week) - pd.Timedelta(hours=hours)
    assert R.leak_diff(_build(season, week, as_of), tables, games, season, week, stats,
                       bet_time=_bet(games, season, week, as_of)) == []


def test_the_leak_test_catches_planted_roster_and_depth_leaks(world, monkeypatch):
    stats, games, tables = world
    as_of = _kickoff(games, 2021, 5) - pd.Timedelta(hours=2)
    bet = _bet(games, 2021, 5, as_of)
    leak = lambda: R.leak_diff(_build(2021, 5, as_of), tables, games, 2021, 5, stats, bet_time=bet)
    assert leak() == []
    tables["rosters"].loc[(tables["rosters"].player_id == "BBB-0") & (tables["rosters"].week == 5), "status"] = "INA"
    assert leak() == []  # announced 90 minutes before kickoff: not known 2 hours before
    honest = E.roster_known
    # 1. this week's roster rows used whatever the bet time (a row at kickoff for a bet 2 hours before)
    monkeypatch.setattr(E, "roster_known", lambda r, t: honest(r, t.assign(bet=t["kickoff"])))
    assert leak() == ["<shape>"]
    monkeypatch.setattr(E, "roster_known", honest)
    # 2. next week's roster read as this week's
    monkeypatch.setattr(E, "roster_known", lambda r, t: honest(r.assign(week=r.week - 1), t))
    tables["rosters"].loc[(tables["rosters"].player_id == SWITCH) & (tables["rosters"].week == 6), "status"] = "RES"
    assert R.leak_diff(_build(2021, 5), tables, games, 2021, 5, stats) != []
    monkeypatch.setattr(E, "roster_known", honest)
    # 3. a legacy depth-chart edition used during its own week (it counts only after the week): the
    # returner listed 3rd in week 4's edition and 1st in week 5's is not a candidate in week 5 (where
    # the depth chart decides: as if he had not played this season or last)
    monkeypatch.setattr(E, "ROSTER_SEASONS", -1)
    d = tables["depth_charts"]
    first = (d.player_id == RETURNER) & (d.week == 4)
    tables["depth_charts"] = pd.concat([d.assign(depth_rank=d.depth_rank.mask(first, 3)),
                                        d[first].assign(week=5, depth_rank=1)], ignore_index=True)
    assert _row(_build(2021, 5)(tables, games, stats), RETURNER, 5).empty
    assert R.leak_diff(_build(2021, 5), tables, games, 2021, 5, stats) == []
    avail = E.depth_available_at
    monkeypatch.setattr(E, "depth_available_at", lambda d, g: avail(d, g) - pd.Timedelta(days=7))
    assert len(_row(_build(2021, 5)(tables, games, stats), RETURNER, 5)) == 1
    assert R.leak_diff(_build(2021, 5), tables, games, 2021, 5, stats) == ["<shape>"]


# --- real data -------------------------------------------------------------------------------------------
def _real(shared_data, season):
    from bench.nflverse_frames import games_frame, stats_frame
    from nfl_bnn.ingest import roles as IR

    nv = shared_data / "nflverse"
    games = games_frame(shared_data)
    games = games[games.season.between(season - 3, season)]
    stats = stats_frame(games, shared_data)
    pick = lambda p: (lambda d: d[d.season.between(season - 1, season)].reset_index(drop=True))(pd.read_parquet(p))
    tables = {"depth_charts": IR.depth_charts_frame(pick(nv / "depth_charts_2021_2024.parquet"), "dc", games)[0],
              "rosters": IR.rosters_frame(pick(nv / "roster_weekly_2021_2024.parquet"), "ro")[0]}
    tables = {k: R._typed(k, v[[c for c in R.TABLES[k][0] if c in v.columns]].copy()) for k, v in tables.items()}
    return stats, games, tables


@pytest.mark.realdata
@pytest.mark.parametrize("season,week,hours", [(2022, 9, 0), (2024, 1, 0), (2024, 14, 0), (2024, 14, 2), (2024, 6, 50)])
def test_real_candidates_equal_a_rebuild_from_censored_tables(shared_data, season, week, hours):
    stats, games, tables = _real(shared_data, season)
    as_of = None if not hours else _kickoff(games, season, week) - pd.Timedelta(hours=hours)
    out = _build(season, week, as_of)(tables, games, stats)
    assert len(out) > 20
    assert R.leak_diff(_build(season, week, as_of), tables, games, season, week, stats,
                       bet_time=_bet(games, season, week, as_of)) == []


@pytest.mark.realdata
def test_real_backs_who_changed_teams_are_priced_for_the_new_team_in_week_1(shared_data):
    stats, games, tables = _real(shared_data, 2024)
    new = F.for_week(stats, games, 2024, 1, roles=tables)
    old = F.for_week(stats, games, 2024, 1)
    team = lambda f, name: f[f.player_name.str.contains(name, na=False)].team.tolist()
    for name, was, now in (("Barkley", "NYG", "PHI"), ("Henry", "TEN", "BAL"), ("Jacobs", "LV", "GB")):
        assert team(new, name) == [now], name
        assert now not in team(old, name), name
    assert np.isfinite(new[F.FEATURES].to_numpy(dtype=float)).all()


# --- through History and the weekly run, on both backends ---------------------------------------------------
@pytest.fixture
def roster_wh(wh_url, project_home):
    from _fakes import small_warehouse_frames

    from nfl_bnn import schema, warehouse

    games, stats, lines = small_warehouse_frames((2018, 2019), weeks=12)
    s = stats[stats.season == 2019]
    ros = pd.DataFrame(dict(season=s.season, week=s.week, player_id=s.player_id, team=s.team, player_name=s.player_name,
                            position="RB", status="ACT", source="test"))
    with warehouse.connect(wh_url) as w:
        schema.create_schema(w)
        w.upsert_df("mart.games", games)
        w.upsert_df("mart.player_game_stats", stats)
        w.upsert_df("best_prop_lines", lines)
        w.upsert_df("mart.rosters", ros)
        yield w, games


def test_history_training_and_the_weekly_run_use_the_roster_known_at_their_bet_time(roster_wh):
    from _fakes import fake_model
    from test_history import Recorder

    from nfl_bnn import features, pipeline

    wh, games = roster_wh
    h = features.load_history(wh, 2019, 2019)
    pid = h.for_week(2019, 10).sort_values("proj_carries").player_id.iloc[-1]
    wh.execute("UPDATE mart.rosters SET status = 'INA' WHERE player_id = ? AND season = 2019 AND week = 10", [pid])
    h = features.load_history(wh, 2019, 2019)
    assert pid not in set(h.for_week(2019, 10).player_id)
    assert pid not in set(h.training_frame(2019, 2019).query("week == 10").player_id)
    assert pid not in set(h.with_targets(2019, 2019).query("week == 10").player_id)
    ko = pd.to_datetime(games[(games.season == 2019) & (games.week == 10)].kickoff).min()
    assert pid in set(h.for_week(2019, 10, as_of=ko - pd.Timedelta(days=1)).player_id)  # week 9's roster
    # the weekly run: --as-of (UTC) a day before kickoff reads week 9's roster, a run after kickoff week 10's
    seen = {}
    for label, as_of in (("early", (ko - pd.Timedelta(days=1)).tz_localize("America/New_York").tz_convert("UTC")),
                         ("late", None)):
        p = pipeline.load_weekly_params(2019, 10, bankroll=1000.0)
        p = p.model_copy(update={"as_of": None if as_of is None else as_of.tz_localize(None).isoformat()})
        rec = Recorder(fake_model(features.FEATURES))
        pipeline.run_week(p, wh=wh, model=rec, record=False)
        seen[label] = set(rec.seen[0].player_id)
    assert pid in seen["early"] and pid not in seen["late"]
    wh.execute("DROP TABLE mart.rosters")
    assert pid in set(features.load_history(wh, 2019, 2019).for_week(2019, 10).player_id)


def test_the_weekly_summary_says_how_many_teams_had_a_known_roster_and_warns_when_none(roster_wh, caplog):
    from nfl_bnn import eligibility as E, features

    wh, games = roster_wh
    h = features.load_history(wh, 2019, 2019)
    ko = pd.to_datetime(games[(games.season == 2019) & (games.week == 10)].kickoff)
    teams = 2 * len(ko)
    assert E.roster_note(h.roles, h.games, 2019, 10) == (
        f"weekly roster known at the bet time for {teams} of {teams} teams ({teams} with this week's game-day statuses)")
    early = E.roster_note(h.roles, h.games, 2019, 10, ko.min() - pd.Timedelta(days=1))
    assert early.endswith("(0 with this week's game-day statuses)")  # last week's roster only
    assert E.roster_note(None, h.games, 2019, 10).startswith("no weekly rosters in the warehouse")
    with caplog.at_level("WARNING", logger="nfl_bnn.eligibility"):
        assert E.roster_note(h.roles, h.games, 2018, 10).startswith("weekly roster known at the bet time for 0 of")
    assert "no weekly roster known at the bet time for season 2018 week 10" in caplog.text

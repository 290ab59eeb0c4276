"""Role sources: publication rules, leak tests against censored rebuilds (and a planted leak they
catch), played-or-void from snap counts, position by season, missing-source warnings."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from test_features import synthetic

from nfl_bnn import features as F
from nfl_bnn import role_features as RF
from nfl_bnn import roles as R


def _kickoffs(games):
    day = pd.Timestamp("2020-09-13") + pd.to_timedelta((games["season"] - 2020) * 364 + (games["week"] - 1) * 7, "D")
    return games.assign(kickoff=day + pd.Timedelta(hours=13), gameday=day)


def role_tables(stats, games, rng):
    """Role tables consistent with the stats: each table's rows describe its own week's game."""
    s = stats[stats.position == "RB"].copy()
    s["rank"] = s.groupby("game_id")["carries"].rank(ascending=False, method="first").astype(int)
    ko = R.team_kickoffs(games).set_index(["game_id", "team"])["kickoff"]
    legacy = pd.DataFrame(dict(season=s.season, week=s.week, team=s.team, player_id=s.player_id, slot="RB",
                               snapshot="weekly", player_name=s.player_name, position="RB", depth_rank=s["rank"],
                               published_at=pd.NaT))
    # 2021: timestamped snapshots, one two days before kickoff and one an hour after it (must be ignored)
    later = s[s.season == 2021]
    kl = later.set_index(["game_id", "team"]).index.map(ko)
    espn = []
    for shift, label in ((-pd.Timedelta(days=2), "pre"), (pd.Timedelta(hours=1), "post")):
        espn.append(pd.DataFrame(dict(season=later.season, week=later.week, team=later.team, player_id=later.player_id,
                                      slot="RB", snapshot=label + later.game_id, player_name=later.player_name,
                                      position="RB", depth_rank=later["rank"] if label == "pre" else 3 - later["rank"],
                                      published_at=np.asarray(kl) + shift)))
    depth = pd.concat([legacy[legacy.season == 2020]] + espn, ignore_index=True)
    depth["published_at"] = pd.to_datetime(depth["published_at"]).astype("datetime64[ns]")
    status = np.where(rng.random(len(s)) < 0.15, "RES", "ACT")
    rosters = pd.DataFrame(dict(season=s.season, week=s.week, player_id=s.player_id, team=s.team, player_name=s.player_name,
                                position="RB", depth_chart_position="RB", status=status, pfr_id=None))
    snaps = pd.DataFrame(dict(season=s.season, week=s.week, game_id=s.game_id, pfr_player_id=s.player_id,
                              player_id=s.player_id, player_name=s.player_name, position="RB", team=s.team,
                              offense_snaps=s.carries * 2, offense_pct=s.carries / 40))
    usage = pd.DataFrame(dict(season=s.season, week=s.week, game_id=s.game_id, team=s.team, player_id=s.player_id,
                              carries=s.carries, rush_yards=s.rushing_yards, rz_carries=s.carries // 4,
                              gl_carries=s.carries // 8, successes=s.carries // 2,
                              epa_sum=rng.normal(0, 1, len(s))))
    d = s.groupby(["season", "week", "game_id", "opponent"], as_index=False).agg(
        rushes=("carries", "sum"), rush_yards=("rushing_yards", "sum"))
    defense = d.rename(columns={"opponent": "team"}).assign(successes=d.rushes // 2, epa_sum=rng.normal(0, 2, len(d)))
    ngs = pd.DataFrame(dict(season=s.season, week=s.week, player_id=s.player_id, team=s.team, rush_attempts=s.carries,
                            rush_yards=s.rushing_yards, expected_rush_yards=s.carries * 4.0,
                            ryoe=s.rushing_yards - s.carries * 4.0, stacked_box_pct=rng.uniform(5, 40, len(s))))
    return {"depth_charts": depth, "rosters": rosters, "snap_counts": snaps, "rush_usage": usage,
            "run_defense": defense, "ngs_rushing": ngs}


@pytest.fixture
def world(rng):
    stats, games = synthetic(rng, seasons=(2020, 2021), weeks=6)
    games = _kickoffs(games)
    return stats, games, role_tables(stats, games, rng)


def _build(season, week):
    def build(tables, games, stats):
        frame = F.for_week(stats, games, season, week)
        return RF.add_role_features(frame, tables, games)
    return build


# --- when each source is known --------------------------------------------------------------------------
def test_censor_keeps_only_rows_known_at_kickoff(world):
    _stats, games, tables = world
    cut = R.censor(tables, games, 2021, 3)
    d = cut["depth_charts"]
    assert not d.snapshot.str.startswith("post").any() or (
        d[d.snapshot.str.startswith("post")].published_at < pd.Timestamp("2021-09-26 13:00")).all()
    assert d[d.snapshot.str.startswith("pre")].week.max() == 3  # this week's pre-game snapshot counts
    assert (R._t(cut["snap_counts"].season, cut["snap_counts"].week) < 202103).all()
    assert (R._t(cut["rosters"].season, cut["rosters"].week) <= 202103).all()
    legacy = R.censor(tables, games, 2020, 4)["depth_charts"]
    assert legacy[legacy.snapshot == "weekly"].week.max() == 3  # no time: the previous week's edition
    early = R.censor(tables, games, 2021, 3, bet_time=pd.Series(pd.Timestamp("2021-09-20"),
                                                                  index=sorted(set(games.home_team))))
    assert early["rosters"].week[early["rosters"].season == 2021].max() == 2  # 90 min rule: not yet known


@pytest.mark.parametrize("season,week", [(2020, 1), (2020, 4), (2021, 1), (2021, 3), (2021, 6)])
def test_role_features_equal_a_rebuild_from_censored_tables(world, season, week):
    stats, games, tables = world
    assert R.leak_diff(_build(season, week), tables, games, season, week, stats) == []


def test_the_leak_test_catches_a_planted_leak(world):
    """A feature that reads the game's own final score, or this week's snap counts, must be caught."""
    stats, games, tables = world

    def own_score(tables, games, stats):
        out = _build(2021, 3)(tables, games, stats)
        return out.assign(own_points=out.game_id.map(games.set_index("game_id").home_score).astype(float))

    def this_weeks_snaps(tables, games, stats):
        out = _build(2021, 3)(tables, games, stats)
        sn = tables["snap_counts"]
        now = sn[(sn.season == 2021) & (sn.week == 3)].set_index("player_id").offense_pct
        return out.assign(snaps_now=out.player_id.map(now))

    def post_kickoff_depth(tables, games, stats):
        out = _build(2021, 3)(tables, games, stats)
        d = tables["depth_charts"].dropna(subset=["published_at"])
        latest = d.sort_values("published_at").drop_duplicates("player_id", keep="last").set_index("player_id")
        return out.assign(rank_any_time=out.player_id.map(latest.depth_rank))

    assert R.leak_diff(own_score, tables, games, 2021, 3, stats) == ["own_points"]
    assert R.leak_diff(this_weeks_snaps, tables, games, 2021, 3, stats) == ["snaps_now"]
    assert R.leak_diff(post_kickoff_depth, tables, games, 2021, 3, stats) == ["rank_any_time"]


def test_post_kickoff_snapshot_is_ignored_and_missing_source_is_flagged(world):
    stats, games, tables = world
    out = _build(2021, 3)(tables, games, stats)
    pre = tables["depth_charts"]
    pre = pre[(pre.snapshot.str.startswith("pre")) & (pre.season == 2021) & (pre.week == 3)].set_index("player_id")
    assert (out.depth_rank.to_numpy() == out.player_id.map(pre.depth_rank).to_numpy()).all()
    first = _build(2020, 1)(tables, games, stats)
    assert (first.has_depth == 0).all() and (first.depth_rank == RF.NOT_LISTED_RANK).all()
    assert (first.has_snaps == 0).all() and (first.snap_share_l3 == 0).all()
    assert (_build(2020, 2)(tables, games, stats).has_snaps == 1).all()


# --- played or void ---------------------------------------------------------------------------------------
def test_a_back_with_snaps_and_no_stats_row_ran_for_zero_yards(world):
    stats, games, tables = world
    drop = (stats.player_id == "BBB-0") & (stats.season == 2021) & (stats.week == 4)
    snaps = tables["snap_counts"]
    frame = F.for_week(stats, games, 2021, 4)
    assert "BBB-0" in set(frame.player_id)
    graded = F.attach_target(frame, stats[~drop], snaps=snaps)
    assert graded.set_index("player_id").loc["BBB-0", "rushing_yards"] == 0
    no_snap = snaps[~((snaps.player_id == "BBB-0") & (snaps.season == 2021) & (snaps.week == 4))]
    assert "BBB-0" not in set(F.attach_target(frame, stats[~drop], snaps=no_snap).player_id)  # no snaps: void
    assert "BBB-0" not in set(F.attach_target(frame, stats[~drop]).player_id)  # no snap table: today's rule
    other_team = snaps.assign(team=np.where(snaps.player_id == "BBB-0", "ZZZ", snaps.team))
    assert "BBB-0" not in set(F.attach_target(frame, stats[~drop], snaps=other_team).player_id)


def test_played_yards_is_the_one_rule_stats_row_then_snap_then_void():
    yards = pd.Series([35.0, np.nan, np.nan, -2.0])
    got = R.played_yards(yards, pd.Series([True, True, False, False]))
    assert got.iloc[0] == 35 and got.iloc[1] == 0 and np.isnan(got.iloc[2]) and got.iloc[3] == -2


def test_backtest_settlement_grades_a_snap_only_back_at_zero_and_voids_the_rest():
    """The betting backtest settles like the ledger: same rule, same helper (roles.played_yards)."""
    from nfl_bnn import backtest_betting as BB

    bets = pd.DataFrame({"game_id": ["G1", "G1", "G1", "G2"], "player_id": ["A", "B", "C", "D"],
                         "side": ["over", "under", "over", "over"], "line": [40.5, 30.5, 20.5, 50.5],
                         "odds": [100, 100, 100, 100], "stake": [10.0, 10.0, 10.0, 10.0]})
    stats = pd.DataFrame({"game_id": ["G1"], "player_id": ["A"], "rushing_yards": [55]})
    games = pd.DataFrame({"game_id": ["G1", "G2"], "home_score": [20, None]})
    snaps = pd.DataFrame({"season": 2021, "week": 1, "game_id": ["G1", "G1", "G1", "G2"],
                          "team": "AAA", "player_id": ["A", "B", "C", "D"], "offense_snaps": [40, 9, 0, 30]})
    got = BB._settle_frame(bets, stats, games, snaps).set_index("player_id")
    # A: stats row 55 > 40.5 win; B: 9 snaps, no row -> 0 yards < 30.5, under wins; C: 0 snaps -> void;
    # D: game not final -> open
    assert got.status.to_dict() == {"A": "win", "B": "win", "C": "void", "D": "open"}
    assert got.loc["B", "actual_yards"] == 0 and got.loc["B", "profit"] == pytest.approx(10.0)
    before = BB._settle_frame(bets, stats, games).set_index("player_id")  # no snap counts: the old rule
    assert before.status.to_dict() == {"A": "win", "B": "void", "C": "void", "D": "open"}


# --- position by season -----------------------------------------------------------------------------------
def test_back_only_in_the_seasons_the_roster_lists_him_as_one():
    frame = pd.DataFrame(dict(player_id=["p", "p", "p", "q"], season=[2021, 2022, 2022, 2022], week=[3, 1, 5, 2]))
    rosters = pd.DataFrame(dict(player_id=["p", "p", "p"], season=[2021, 2022, 2022], week=[1, 1, 4],
                                position=["WR", "WR", "RB"]))
    assert R.backs_this_season(frame, rosters).tolist() == [False, False, True, True]  # q: no roster, old rule
    assert R.backs_this_season(frame, None).all()
    sp = R.season_positions(rosters)
    assert sp.set_index("season").roster_position.to_dict() == {2021: "WR", 2022: "RB"}


def test_weekly_run_warns_when_a_used_source_is_missing(world, caplog):
    _stats, _games, tables = world
    tables = {**tables, "ngs_rushing": R.empty("ngs_rushing")}
    with caplog.at_level(logging.WARNING, logger="nfl_bnn.roles"):
        missing = R.warn_missing(tables, 2021, 3, used={"snap_counts", "ngs_rushing"})
    assert missing == ["ngs_rushing"] and "--ngs" in caplog.text
    assert R.warn_missing(tables, 2021, 3, used={"snap_counts", "rosters"}) == []
    assert R.warn_missing(tables, 2022, 3, used={"snap_counts"}) == ["snap_counts"]


# --- real data --------------------------------------------------------------------------------------------
@pytest.mark.realdata
@pytest.mark.parametrize("season,week", [(2021, 1), (2022, 9), (2024, 14)])
def test_real_role_features_equal_a_censored_rebuild(shared_data, season, week):
    from bench.nflverse_frames import games_frame, stats_frame
    from nfl_bnn.ingest import roles as IR

    nv = shared_data / "nflverse"
    games = games_frame(shared_data)
    games = games[games.season.between(season - 1, season)]
    stats = stats_frame(games, shared_data)
    tables = {
        "depth_charts": IR.depth_charts_frame(_season(nv / "depth_charts_2021_2024.parquet", season), "dc", games)[0],
        "rosters": IR.rosters_frame(_season(nv / "roster_weekly_2021_2024.parquet", season), "ro")[0],
        "snap_counts": IR.snap_counts_frame(_season(nv / "snap_counts_2016_2024.parquet", season), "sn", {},
                                            stats[["season", "team", "player_name", "player_id"]])[0],
        "ngs_rushing": IR.ngs_frame(_season(nv / "ngs_rushing_2021_2024.parquet", season), "ngs")[0],
    }
    tables["rush_usage"], tables["run_defense"], _ = IR.pbp_frames(pd.read_parquet(nv / "pbp" / f"pbp_{season}.parquet"), "pbp")
    tables = {k: R._typed(k, v[[c for c in R.TABLES[k][0] if c in v.columns]].copy()) for k, v in tables.items()}
    out = _build(season, week)(tables, games, stats)
    assert len(out) > 25 and out.has_pbp.eq(1).all() == (week > 1)
    assert R.leak_diff(_build(season, week), tables, games, season, week, stats) == []


def _season(path, season):
    df = pd.read_parquet(path)
    return df[df.season.between(season - 1, season)].reset_index(drop=True)


def test_weekly_hook_adds_used_role_features_and_warns_for_missing_sources(world, tmp_path, caplog, wh_url):
    from nfl_bnn.schema import create_schema
    from nfl_bnn.warehouse import connect

    stats, games, tables = world
    frame = F.for_week(stats, games, 2021, 3)
    with connect(wh_url) as wh:
        create_schema(wh)
        wh.upsert_df("mart.snap_counts", tables["snap_counts"].assign(source="test"))
        assert RF.for_week_if_used(wh, frame, games, 2021, 3, list(F.FEATURES)) is frame  # default model: nothing
        with caplog.at_level(logging.WARNING, logger="nfl_bnn.roles"):
            out = RF.for_week_if_used(wh, frame, games, 2021, 3, list(F.FEATURES) + ["snap_share_l3", "depth_rank"])
    assert "depth_charts has no rows for season 2021 week 3" in caplog.text and "snap_counts" not in caplog.text
    expected = _build(2021, 3)({**tables, "depth_charts": R.empty("depth_charts")}, games, stats)
    assert np.allclose(out.snap_share_l3, expected.snap_share_l3) and (out.has_snaps == 1).all()
    assert (out.has_depth == 0).all()


def test_proxy_screen_credits_an_informative_feature_and_not_noise(rng):
    from bench.roles_screen import clustered_se, log_ols_crps

    n = 1200
    df = pd.DataFrame({"a": rng.normal(size=n), "signal": rng.normal(size=n), "noise": rng.normal(size=n),
                       "week": np.repeat(np.arange(12), n // 12)})
    df[F.TARGET] = np.round(np.exp(3.8 + 0.2 * df.a + 0.4 * df.signal + rng.normal(0, 0.3, n)) - 25)
    tr, te = df.iloc[:800], df.iloc[800:]
    base = log_ols_crps(tr, te, ["a"])
    good = base - log_ols_crps(tr, te, ["a", "signal"])
    noise = base - log_ols_crps(tr, te, ["a", "noise"])
    assert good.mean() > 5 * clustered_se(good, te.week.to_numpy())
    assert abs(noise.mean()) < 3 * clustered_se(noise, te.week.to_numpy()) + 0.05


def test_weekly_role_features_read_only_rows_known_at_the_runs_as_of_time(world):
    """A Tuesday run (``as_of`` days before kickoff) must not see the week's game-day roster or a depth
    snapshot published after it; at or after kickoff the bet time is the kickoff itself."""
    _stats, games, tables = world
    ko = R.team_kickoffs(games)
    ko = ko[(ko.season == 2021) & (ko.week == 3)].set_index("team")["kickoff"]
    tuesday = ko.min() - pd.Timedelta(days=4)
    bet = RF.bet_times(games, 2021, 3, tuesday)
    assert (bet == tuesday).all() and set(bet.index) == set(ko.index)
    assert RF.bet_times(games, 2021, 3, None) is None
    late = RF.bet_times(games, 2021, 3, ko.max() + pd.Timedelta(days=1))
    assert (late == ko.reindex(late.index)).all()  # never after the team's own kickoff
    early = R.censor(tables, games, 2021, 3, bet_time=bet)
    assert early["rosters"].week[early["rosters"].season == 2021].max() == 2
    assert (R.depth_available_at(early["depth_charts"], games) < tuesday).all()

    class FakeWarehouse:  # for_week_if_used reads the tables through roles.load_roles
        pass

    frame = F.for_week(_stats, games, 2021, 3)
    import nfl_bnn.role_features as mod
    orig = R.load_roles
    try:
        R.load_roles = lambda wh, **kw: tables
        at_tuesday = mod.for_week_if_used(FakeWarehouse(), frame, games, 2021, 3, ["from_reserve"], as_of=tuesday)
        at_kickoff = mod.for_week_if_used(FakeWarehouse(), frame, games, 2021, 3, ["from_reserve"])
    finally:
        R.load_roles = orig
    expect_tue = RF.add_role_features(frame, early, games)
    expect_ko = RF.add_role_features(frame, R.censor(tables, games, 2021, 3), games)
    pd.testing.assert_frame_equal(at_tuesday, expect_tue)
    pd.testing.assert_frame_equal(at_kickoff, expect_ko)
    assert not expect_tue.equals(expect_ko)  # the as-of time matters here, so passing it is tested

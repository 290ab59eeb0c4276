"""Features use only games before kickoff; eligibility is decided before kickoff; NULL lines cope."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nfl_bnn import features as F
from nfl_bnn.errors import DataError

TEAMS = ["AAA", "BBB", "CCC", "DDD"]


def synthetic(rng, seasons=(2020, 2021), weeks=6, lines=True):
    """4 teams, 2 backs and a QB each, every team plays every week."""
    games, stats = [], []
    for s in seasons:
        for w in range(1, weeks + 1):
            order = list(rng.permutation(TEAMS))
            for a, h in [(order[0], order[1]), (order[2], order[3])]:
                gid = f"{s}_{w:02d}_{a}_{h}"
                games.append(dict(game_id=gid, season=s, week=w, season_type="REG", home_team=h, away_team=a,
                                  home_score=int(rng.integers(10, 35)), away_score=int(rng.integers(10, 35)),
                                  spread_line=float(rng.choice([-3.5, 3.0, 6.5])) if lines else np.nan,
                                  total_line=44.5 if lines else np.nan))
                for team, opp, home in [(h, a, True), (a, h, False)]:
                    for i, pos in enumerate(["RB", "RB", "QB"]):
                        car = int(rng.integers(10, 22)) if i == 0 else int(rng.integers(2, 12))
                        stats.append(dict(season=s, week=w, season_type="REG", game_id=gid,
                                          player_id=f"{team}-{i}", player_name=f"Player {team} {i}",
                                          position=pos, team=team, opponent=opp, is_home=home, carries=car,
                                          rushing_yards=int(car * rng.uniform(2, 6))))
    return pd.DataFrame(stats), pd.DataFrame(games)


def test_changing_a_game_and_later_games_changes_no_earlier_feature(rng):
    stats, games = synthetic(rng)
    before = F.candidate_frame(stats, games, 2020, 2021)
    changed = stats.copy()
    later = (changed["season"] * 100 + changed["week"]) >= 2021 * 100 + 3
    changed.loc[later, "carries"] = changed.loc[later, "carries"] * 3 + 7
    changed.loc[later, "rushing_yards"] = 500
    # also drop a later row entirely (a player who then misses a game)
    changed = changed.drop(changed.index[later & (changed["player_id"] == "AAA-0")][:1])
    after = F.candidate_frame(changed, games, 2020, 2021)
    key = ["season", "week", "player_id"]
    cols = F.COLUMNS
    early = lambda d: d[(d["season"] * 100 + d["week"]) <= 2021 * 100 + 3].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(early(before)[cols], early(after)[cols])
    # the changed outcomes do show up from the following week on, so the test can fail
    wk4 = lambda d: d[(d["season"] == 2021) & (d["week"] == 4)][["player_id", "rush_l3"]]
    both = wk4(before).merge(wk4(after), on="player_id")
    assert len(both) > 0 and not np.allclose(both["rush_l3_x"], both["rush_l3_y"])


@pytest.mark.parametrize("season,week", [(2020, 2), (2021, 1), (2021, 5)])
def test_week_from_full_table_equals_week_from_truncated_table(rng, season, week):
    stats, games = synthetic(rng)
    full = F.for_week(stats, games, season, week)
    t = stats["season"] * 100 + stats["week"]
    trunc = F.for_week(stats[t < season * 100 + week], games, season, week)
    pd.testing.assert_frame_equal(full, trunc)
    train = F.training_frame(stats, games, 2020, 2021)
    wk = train[(train["season"] == season) & (train["week"] == week)][F.COLUMNS].reset_index(drop=True)
    pd.testing.assert_frame_equal(full[F.COLUMNS].reset_index(drop=True), wk)
    assert len(full) > 0


def test_eligibility_is_top_two_backs_with_enough_projected_carries(rng):
    stats, games = synthetic(rng)
    fr = F.training_frame(stats, games, 2020, 2021)
    assert not fr["player_id"].str.endswith("-2").any()  # QBs never eligible
    assert (fr.groupby(["game_id", "team"]).size() <= 2).all()
    assert (fr["proj_carries"] >= F.MIN_PROJ_CARRIES).all()
    assert fr[F.FEATURES].notna().all().all()


def test_implied_total_uses_home_spread_sign():
    games = pd.DataFrame([dict(game_id="g", season=2020, week=1, season_type="REG", home_team="H", away_team="A",
                               home_score=30, away_score=20, spread_line=7.0, total_line=45.0)])
    tg = F.implied_totals(games).set_index("team")
    assert tg.loc["H", "implied_raw"] == pytest.approx(26.0)  # 45/2 + 7/2
    assert tg.loc["A", "implied_raw"] == pytest.approx(19.0)


def test_null_spread_and_total_fall_back_to_prior_team_points(rng):
    stats, games = synthetic(rng, seasons=(2020,), weeks=3, lines=False)
    fr = F.training_frame(stats, games, 2020, 2020)
    assert fr["implied_total"].notna().all()
    tg = F._team_game_states(stats, games)
    g1 = games[games["week"] == 1]
    pts1 = {**dict(zip(g1["home_team"], g1["home_score"])), **dict(zip(g1["away_team"], g1["away_score"]))}
    w1 = tg[tg["week"] == 1].set_index("team")["implied_total"]
    w2 = tg[tg["week"] == 2].set_index("team")["implied_total"]
    assert (w1 == F.LEAGUE_POINTS).all()  # no prior game: the league prior
    for team, val in w2.items():  # one prior game: (points + 22 * 1) / 2
        assert val == pytest.approx((pts1[team] + F.LEAGUE_POINTS) / 2)


def test_missing_row_is_a_void_not_a_zero(rng):
    stats, games = synthetic(rng)
    drop = (stats["player_id"] == "BBB-0") & (stats["season"] == 2021) & (stats["week"] == 4)
    fr_all = F.attach_target(F.for_week(stats, games, 2021, 4), stats[~drop], drop_missing=False)
    assert fr_all.loc[fr_all["player_id"] == "BBB-0", "rushing_yards"].isna().all()
    fr = F.attach_target(F.for_week(stats, games, 2021, 4), stats[~drop])
    assert "BBB-0" not in set(fr["player_id"])


def test_missing_columns_are_a_clear_error(rng):
    stats, games = synthetic(rng)
    with pytest.raises(DataError, match="lacks columns"):
        F.training_frame(stats.drop(columns=["carries"]), games, 2020, 2021)


def test_back_who_missed_the_teams_recent_games_is_not_eligible(rng):
    stats, games = synthetic(rng, seasons=(2020,), weeks=6)
    # AAA's lead back misses weeks 3 and 4 (no stats rows): not eligible in week 5, eligible again after
    # he plays in week 5 (for week 6), decided only from games before kickoff
    out = (stats["player_id"] == "AAA-0") & stats["week"].isin([3, 4])
    st = stats[~out]
    assert "AAA-0" in set(F.for_week(st, games, 2020, 4)["player_id"])  # played week 2: within last 2
    assert "AAA-0" not in set(F.for_week(st, games, 2020, 5)["player_id"])
    assert "AAA-0" in set(F.for_week(st, games, 2020, 6)["player_id"])


def _report(season, week, team, player_id, status, reported_at=None):
    return dict(season=season, week=week, team=team, player_id=player_id, player_name=player_id,
                position="RB", report_status=status, practice_status=None, reported_at=reported_at)


def _with_kickoffs(games):
    return games.assign(kickoff=pd.to_datetime("2020-09-01") + pd.to_timedelta(
        (games["season"] - 2020) * 365 + games["week"] * 7, unit="D") + pd.Timedelta(hours=13))


def test_last_share_is_the_share_of_the_backs_latest_game(rng):
    stats, games = synthetic(rng)
    fr = F.for_week(stats, games, 2021, 4).set_index("player_id")
    wk3 = stats[(stats["season"] == 2021) & (stats["week"] == 3) & (stats["position"] != "QB")]
    share = wk3.set_index("player_id")["carries"] / wk3.groupby("team")["carries"].transform("sum").to_numpy()
    for pid, row in fr.iterrows():
        assert row["last_share"] == pytest.approx(share[pid])


def test_out_back_leaves_the_candidates_and_his_share_goes_to_his_teammate(rng):
    stats, games = synthetic(rng)
    games = _with_kickoffs(games)
    stats.loc[stats["player_id"] == "AAA-1", "carries"] = 6  # a backup under the 8-carry threshold
    before = F.for_week(stats, games, 2021, 4).set_index("player_id")
    assert "AAA-1" not in before.index
    assert (before["mate_out_share"] == 0).all()  # no reports: nobody out
    ko = games.loc[(games["season"] == 2021) & (games["week"] == 4), "kickoff"].iloc[0]
    inj = pd.DataFrame([_report(2021, 4, "AAA", "AAA-0", "Out", ko - pd.Timedelta(days=2)),
                        _report(2021, 4, "BBB", "BBB-1", "Questionable", ko - pd.Timedelta(days=2))])
    after = F.for_week(stats, games, 2021, 4, inj).set_index("player_id")
    assert "AAA-0" not in after.index and "BBB-1" in after.index
    # the starter is out: his backup becomes eligible, knowing the share that went missing
    assert after.loc["AAA-1", "mate_out_share"] == pytest.approx(before.loc["AAA-0", "carry_share"])
    assert (after.drop(index="AAA-1")["mate_out_share"] == 0).all()
    # every other back is unchanged
    cols = [c for c in F.COLUMNS if c != "player_id"]
    pd.testing.assert_frame_equal(after.drop(index="AAA-1")[cols], before.drop(index="AAA-0")[cols])
    # the same report inside the whole-window frame gives the same week
    tr = F.candidate_frame(stats, games, 2020, 2021, inj)
    wk = tr[(tr["season"] == 2021) & (tr["week"] == 4)].set_index("player_id")
    pd.testing.assert_frame_equal(wk[cols].sort_index(), after[cols].sort_index())


def test_reports_after_kickoff_and_of_other_weeks_change_nothing(rng):
    stats, games = synthetic(rng)
    games = _with_kickoffs(games)
    base = F.candidate_frame(stats, games, 2020, 2021)
    ko = games.loc[(games["season"] == 2021) & (games["week"] == 4), "kickoff"].iloc[0]
    late = pd.DataFrame([_report(2021, 4, "AAA", "AAA-0", "Out", ko + pd.Timedelta(minutes=5))])
    pd.testing.assert_frame_equal(F.candidate_frame(stats, games, 2020, 2021, late), base)
    # a week-5 report changes week 5 only
    nxt = pd.DataFrame([_report(2021, 5, "AAA", "AAA-0", "Doubtful")])
    got = F.candidate_frame(stats, games, 2020, 2021, nxt)
    t = lambda d: d["season"] * 100 + d["week"]
    pd.testing.assert_frame_equal(got[t(got) != 202105].reset_index(drop=True),
                                  base[t(base) != 202105].reset_index(drop=True))
    assert "AAA-0" not in set(got.loc[t(got) == 202105, "player_id"])
    assert F.injury_coverage(nxt, 2021, 5) == 1 and F.injury_coverage(nxt, 2021, 4) == 0
    assert F.injury_coverage(None, 2021, 5) == 0


def test_injury_frame_without_required_columns_is_a_clear_error(rng):
    stats, games = synthetic(rng)
    bad = pd.DataFrame([_report(2021, 4, "AAA", "AAA-0", "Out")]).drop(columns=["report_status"])
    with pytest.raises(DataError, match="injuries frame lacks columns"):
        F.candidate_frame(stats, games, 2020, 2021, bad)


def test_mates_share_counts_the_available_teammates_and_share_gain_their_absence(rng):
    stats, games = synthetic(rng)
    games = _with_kickoffs(games)
    backs = stats["position"] == "RB"
    stats.loc[backs, "carries"] = stats.loc[backs, "carries"].clip(lower=12)  # both backs eligible
    fr = F.for_week(stats, games, 2021, 4).set_index("player_id")
    for team in TEAMS:
        a, b = fr.loc[f"{team}-0"], fr.loc[f"{team}-1"]
        assert a["mates_share"] == pytest.approx(b["carry_share"])
        assert b["mates_share"] == pytest.approx(a["carry_share"])
        assert a["share_gain"] == 0.0  # nobody out: nothing to hand out
    ko = games.loc[(games["season"] == 2021) & (games["week"] == 4), "kickoff"].iloc[0]
    inj = pd.DataFrame([_report(2021, 4, "AAA", "AAA-0", "Out", ko - pd.Timedelta(days=2))])
    out = F.for_week(stats, games, 2021, 4, inj).set_index("player_id")
    backup = out.loc["AAA-1"]
    assert backup["mates_share"] == 0.0  # the only back left
    # the starter's share goes to the one back left: his own plus all of it
    assert backup["share_gain"] == pytest.approx(fr.loc["AAA-0", "carry_share"])


def test_target_counts_only_for_the_team_he_was_predicted_for(rng):
    """A back who changed teams in the off-season is still listed with his old team in week 1 (no roster
    table): his yards for the new team describe another game, so that row is void, not a target."""
    stats, games = synthetic(rng)
    moved = (stats["player_id"] == "AAA-0") & (stats["season"] == 2021)
    # AAA-0 now plays for BBB: his 2021 rows move to BBB's games
    bbb = stats[(stats["team"] == "BBB") & (stats["season"] == 2021) & (stats["position"] == "QB")]
    mover = stats[moved].set_index("week")
    rows = []
    for q in bbb.itertuples():
        r = mover.loc[q.week].to_dict()
        r.update(week=q.week, game_id=q.game_id, team="BBB", opponent=q.opponent, is_home=q.is_home)
        rows.append(r)
    stats = pd.concat([stats[~moved], pd.DataFrame(rows)], ignore_index=True)
    cand = F.candidate_frame(stats, games, 2021, 2021)
    wk1 = cand[(cand["week"] == 1) & (cand["player_id"] == "AAA-0")]
    assert list(wk1["team"]) == ["AAA"]  # predicted with the team of his latest game
    played = F.training_frame(stats, games, 2021, 2021)
    assert played[(played["week"] == 1) & (played["player_id"] == "AAA-0")].empty
    later = played[(played["week"] > 1) & (played["player_id"] == "AAA-0")]
    assert len(later) > 0 and (later["team"] == "BBB").all()

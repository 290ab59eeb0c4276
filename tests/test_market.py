"""Market-aware probabilities, pushes, CLV, bet-time quote selection and the real-line backtest (issue 11)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

from nfl_bnn import backtest_betting as BB, betting, market, monitoring
from _fakes import fake_model


def _X(n):
    return pd.DataFrame({"carries_proj": np.full(n, 10.0), "yards_l3": np.full(n, 11.0)})


# --- pushes ---------------------------------------------------------------------------------------
def test_push_probability_is_the_whole_yard_bin():
    m = fake_model(mean=65.0, sd=30.0)
    X = _X(3)
    lines = np.array([65.0, 65.5, 40.0])
    over, under, push = market.outcome_probs(m, X, lines, per_draw=False)
    w, mu, sigma = m.mixture(X)
    bin_ = lambda a, b: ((w * (ndtr((b - mu) / sigma) - ndtr((a - mu) / sigma))).sum(axis=2)).mean(axis=0)  # noqa: E731
    exp_push = bin_(64.5, 65.5)[0]
    assert push[0] == pytest.approx(exp_push, abs=1e-5)
    assert exp_push > 0.01  # a whole line really can push
    assert push[1] == pytest.approx(0.0, abs=1e-7)  # half-yard lines cannot
    assert push[2] == pytest.approx(bin_(39.5, 40.5)[2], abs=1e-5)
    assert over[0] == pytest.approx(float(m.prob_over(X.iloc[:1], np.array([65.5]))[0]), abs=1e-6)  # P(Y >= 66)
    np.testing.assert_allclose(over + under + push, 1.0, atol=1e-6)


def test_kelly_with_pushes_hand_computed():
    # p_win .5, p_lose .4, push .1 at even money: (0.5*1 - 0.4) / (1 * 0.9) = 0.1111
    assert market.kelly_with_push(0.5, 0.4, 2.0) == pytest.approx(0.1 / 0.9)
    # no push: the usual (p d - 1)/(d - 1)
    d = betting.american_to_decimal(-110)
    assert market.kelly_with_push(0.55, 0.45, d) == pytest.approx((0.55 * d - 1) / (d - 1))
    assert market.kelly_with_push(0.40, 0.55, d) == 0.0
    # a push probability scales both sides: f* is unchanged, the bet stays the same share
    assert market.kelly_with_push(0.55 * 0.9, 0.45 * 0.9, d) == pytest.approx(market.kelly_with_push(0.55, 0.45, d))


# --- CLV ------------------------------------------------------------------------------------------
def test_clv_hand_computed():
    d = betting.american_to_decimal(-110)  # 1.90909
    # close at the bet's line, no-vig P(over) 0.55: CLV = 0.55 * 1.90909 - 1 = 0.05
    q = market.side_prob_at_line(0.55, 0.5, 0.5, "over")
    assert market.clv(q, d) == pytest.approx(0.55 * 1.9090909 - 1, abs=1e-6)
    # line moved 60.5 -> 62.5: model puts 0.05 between the lines, so the over at 60.5 is worth 0.60 at close
    q = market.side_prob_at_line(0.55, over_close_model=0.45, over_bet_model=0.50, side="over")
    assert q == pytest.approx(0.60)
    assert market.clv(q, d) == pytest.approx(0.60 * d - 1)
    q_u = market.side_prob_at_line(0.55, 0.45, 0.50, "under")
    assert q_u == pytest.approx(0.40) and market.clv(q_u, d) == pytest.approx(0.40 * d - 1)
    assert market.line_move_toward("over", 60.5, 62.5) == 2.0
    assert market.line_move_toward("under", 60.5, 62.5) == -2.0
    assert math.isnan(market.clv(float("nan"), d)) and math.isnan(market.line_move_toward("over", 60.5, np.nan))


def test_clv_is_nan_not_zero_without_a_closing_quote():
    m = fake_model()
    rows = pd.DataFrame({"game_id": ["g1", "g2"], "player_id": ["a", "b"], "book": ["bk", "bk"],
                         "side": ["over", "under"], "line": [60.5, 60.5], "odds": [-110.0, -110.0]})
    close = pd.DataFrame({"game_id": ["g1"], "player_id": ["a"], "book": ["bk"], "line": [60.5],
                          "over_odds": [-130], "under_odds": [110]})
    out = BB._clv_columns(rows, close, _X(2), m, "multiplicative")
    po, pu = betting.implied_probability(-130), betting.implied_probability(110)
    assert out["clv"].iloc[0] == pytest.approx(po / (po + pu) * betting.american_to_decimal(-110) - 1)
    assert np.isnan(out["clv"].iloc[1]) and np.isnan(out["close_line"].iloc[1])


# --- as-of selection ------------------------------------------------------------------------------
def _quotes():
    t = pd.Timestamp("2024-09-08 17:00")  # kickoff 13:00 Eastern = 17:00 UTC
    rows = []
    for h, line in ((48, 60.5), (20, 62.5), (3, 64.5), (0.5, 66.5), (-1, 99.5)):  # the last one after kickoff
        rows.append({"season": 2024, "week": 1, "game_id": "g1", "player_id": "a", "player_name": "A", "team": "BUF",
                     "book": "bk", "line": line, "over_odds": -110, "under_odds": -110,
                     "fetched_at": t - pd.Timedelta(hours=h)})
    games = pd.DataFrame({"game_id": ["g1"], "kickoff": [pd.Timestamp("2024-09-08 13:00")]})
    return pd.DataFrame(rows), BB.kickoff_utc(games)


@pytest.mark.parametrize("bet_time,line", [("open", 60.5), ("close", 66.5), (24, 60.5), (4, 62.5), (2, 64.5),
                                           (0, 66.5)])
def test_no_quote_after_bet_time_or_kickoff_is_used(bet_time, line):
    q, ko = _quotes()
    assert ko["g1"] == pd.Timestamp("2024-09-08 17:00")
    sel = BB.select_quotes(q, ko, bet_time)
    assert len(sel) == 1 and sel["line"].iloc[0] == line
    cutoff = ko["g1"] - pd.Timedelta(hours=bet_time if not isinstance(bet_time, str) else 0)
    assert (sel["fetched_at"] <= cutoff).all() and (sel["fetched_at"] < ko["g1"]).all()


def test_no_quote_before_bet_time_means_no_row():
    q, ko = _quotes()
    assert BB.select_quotes(q, ko, 72).empty
    with pytest.raises(Exception, match="bet-time"):
        BB.parse_bet_time("noon")


# --- the blend ------------------------------------------------------------------------------------
def _simulate(n, a=0.4, b=0.6, c=0.0, seed=1):
    rng = np.random.default_rng(seed)
    truth = rng.normal(0, 0.4, n)
    pk = market.sigmoid(truth + rng.normal(0, 0.2, n))
    pm = market.sigmoid(truth + rng.normal(0, 0.5, n))
    won = (rng.random(n) < market.sigmoid(c + a * market.logit(pm) + b * market.logit(pk))).astype(float)
    return pm, pk, won


def test_blend_recovers_weights_and_falls_back_with_few_rows():
    pm, pk, won = _simulate(20000)
    bl = market.fit_blend(pm, pk, won)
    assert bl.source == "fitted" and bl.n_rows == 20000
    assert bl.w_model == pytest.approx(0.4, abs=0.12) and bl.w_market == pytest.approx(0.6, abs=0.15)
    few = market.fit_blend(pm[:50], pk[:50], won[:50])
    assert few.source == "default" and "default" in few.note and few.coef == (0.0, 0.3, 0.7)
    assert "50 earlier" in few.describe()
    text = bl.describe()
    assert "log loss on those lines" in text and f"{bl.logloss['market']:.4f}" in text


def test_blend_learns_only_from_earlier_weeks():
    pm, pk, won = _simulate(600, seed=2)
    early = pd.DataFrame({"season": 2023, "week": np.repeat(np.arange(11, 17), 100), "p_model": pm, "p_market": pk,
                          "won": won})
    # weeks 5+ of 2024: outcomes the model foresaw perfectly; a leak would make the model weight explode
    rng = np.random.default_rng(3)
    pm2 = rng.uniform(0.2, 0.8, 400)
    late = pd.DataFrame({"season": 2024, "week": np.repeat([5, 6, 7, 8], 100), "p_model": pm2, "p_market": 0.5,
                         "won": (pm2 > 0.5).astype(float)})
    hist = pd.concat([early, late], ignore_index=True)
    leak_free = market.fit_walk_forward(hist, 2024, 5)
    only_early = market.fit_blend(pm, pk, won)
    assert leak_free.coef == pytest.approx(only_early.coef)
    assert leak_free.window == "2023 wk 11 - 2023 wk 16"
    leaky = market.fit_walk_forward(hist, 2024, 9)
    assert leaky.w_model > leak_free.w_model + 0.3  # the test has teeth: the late rows do move the fit


def test_confidence_includes_blend_uncertainty():
    bl_sure = market.Blend((0.0, 0.3, 0.7), ((1e-8, 0, 0), (0, 1e-8, 0), (0, 0, 1e-8)), 10000, "fitted", "x")
    bl_unsure = market.Blend((0.0, 0.3, 0.7), ((0.02, 0, 0), (0, 0.1, 0), (0, 0, 0.1)), 200, "fitted", "x")
    pm = np.full((400, 1), 0.62)  # the model's own draws agree perfectly
    sure = market.blend_draws(bl_sure, pm, [0.5]).ravel()
    unsure = market.blend_draws(bl_unsure, pm, [0.5]).ravel()
    assert sure.std() < 1e-3 and unsure.std() > 0.01


def test_evaluate_uses_blended_probability_and_flags_one_sided():
    m = fake_model(mean=65.0, sd=30.0)
    lines = pd.DataFrame({"player_id": ["a", "a", "b"], "side": ["over", "under", "over"], "line": [50.5, 50.5, 50.0],
                          "over_odds": [-110, -110, -110], "under_odds": [-110, -110, np.nan], "book": "bk"})
    over, under, push = market.outcome_probs(m, _X(3), lines["line"].to_numpy(float))
    bl = market.fit_blend([], [], [])
    ev = market.evaluate(lines, over, under, push, bl, "multiplicative")
    pm = float(market.conditional_over(over[:, 0], under[:, 0]).mean())
    assert ev["p_model"].iloc[0] == pytest.approx(pm, abs=1e-9)
    assert ev["p_market"].iloc[0] == pytest.approx(0.5)
    # default blend: logit p_bet = 0.3 logit p_model (market at 0.5); the mean of per-draw blends is close
    assert ev["p_bet"].iloc[0] == pytest.approx(float(market.sigmoid(0.3 * market.logit(pm))), abs=0.01)
    assert ev["p_model"].iloc[0] > ev["p_bet"].iloc[0] > 0.5  # shrunk toward the market
    assert ev["edge"].iloc[1] == pytest.approx(-ev["edge"].iloc[0], abs=1e-9)
    assert ev["price_note"].iloc[2] == "one_sided" and np.isnan(ev["p_bet"].iloc[2])
    sized = betting.size_stakes(ev.assign(game_id="g"), 1000, kelly_fraction=0.25, max_bet_fraction=0.05,
                                min_edge=0.0, min_confidence=0.0)
    assert sized["reason"].iloc[2] == "one_sided"
    assert sized["kelly_full"].iloc[0] == pytest.approx(ev["kelly_full"].iloc[0])


# --- monitoring -----------------------------------------------------------------------------------
def test_implausible_median_edge_alerts():
    th = monitoring.AlertThresholds()
    h = monitoring.WeekHealth(50, 4, 0, 40.0, 1000.0, avg_edge=0.09, median_edge=0.08)
    assert "implausible_edge" in [a.code for a in monitoring.check(h, th)]
    ok = monitoring.WeekHealth(50, 4, 0, 40.0, 1000.0, avg_edge=0.03, median_edge=0.025)
    assert "implausible_edge" not in [a.code for a in monitoring.check(ok, th)]


# --- ledger: p_bet on every decision, old ledgers migrated (both backends) --------------------------
@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_ledger(request, tmp_path):
    """A warehouse whose bets table predates p_bet (created from the DDL without that column)."""
    from nfl_bnn import schema, warehouse

    url = str(tmp_path / "l.duckdb") if request.param == "duckdb" else request.getfixturevalue("pg_server_url")
    w = warehouse.connect(url)
    schema.create_schema(w)
    w.execute("DROP TABLE bets")
    old_ddl = schema.TABLES["bets"].replace("            p_bet          DOUBLE PRECISION,\n", "")
    assert "p_bet" not in old_ddl
    w.execute(old_ddl)
    yield w
    w.close()


def test_ledger_stores_p_bet_and_migrates_old_ledgers(old_ledger):
    from datetime import datetime

    from nfl_bnn import ledger

    bets = pd.DataFrame({"player_id": ["P1"], "player_name": ["A"], "team": ["KC"], "opponent": ["BAL"],
                         "game_id": ["2024_01_BAL_KC"], "side": ["over"], "line": [50.5], "odds": [-110],
                         "book": ["bk"], "source": ["book"], "model_prob": [0.62], "market_prob": [0.5],
                         "p_bet": [0.535], "edge": [0.035], "confidence": [0.7], "bet_fraction": [0.01],
                         "stake": [10.0]})
    rows = ledger.to_ledger_rows(bets, season=2024, week=1, market="player_rush_yds", profile="conservative",
                                 model_version="m1", paper=False, bankroll=1000.0, params={}, run_id="r1",
                                 placed_at=datetime(2024, 9, 5, 12))
    ledger.record_week(old_ledger, rows, season=2024, week=1, market="player_rush_yds", profile="conservative",
                       model_version="m1", paper=False)
    got = old_ledger.query_df("SELECT model_prob, market_prob, p_bet FROM bets")
    assert got.iloc[0].tolist() == pytest.approx([0.62, 0.5, 0.535])


# --- the real-line backtest end to end (fake model, hand-made quotes) -------------------------------
def _season_frames(seed=5, weeks=(1, 2, 3, 4)):
    rng = np.random.default_rng(seed)
    fr, quotes, games = [], [], []
    for wk in weeks:
        gid = f"2024_{wk:02d}_A_B"
        kick = pd.Timestamp("2024-09-08 13:00") + pd.Timedelta(days=7 * (wk - 1))
        games.append({"game_id": gid, "kickoff": kick})
        for i in range(60):
            pid = f"p{i}"
            fr.append({"season": 2024, "week": wk, "game_id": gid, "player_id": pid, "player_name": f"P {i}",
                       "team": "A", "opponent": "B", "carries_proj": 10.0, "yards_l3": 11.0,
                       "rushing_yards": float(rng.integers(20, 110)) if i < 58 else np.nan})
            line = float(np.floor(rng.normal(65, 12))) + 0.5
            ko_utc = kick + pd.Timedelta(hours=4)
            for h, dl, oo, uo in ((30, 0.0, -110, -110), (5, 2.0, -120, 100)):
                quotes.append({"season": 2024, "week": wk, "game_id": gid, "player_id": pid, "player_name": f"P {i}",
                               "team": "A", "book": "bk", "line": line + dl, "over_odds": oo, "under_odds": uo,
                               "fetched_at": ko_utc - pd.Timedelta(hours=h)})
    return pd.DataFrame(fr), pd.DataFrame(quotes), pd.DataFrame(games)


def _params(**kw):
    """Sizing mechanics without the market-skill gate (tested on its own below) unless asked for."""
    from nfl_bnn import pipeline

    kw = {"require_market_skill": False, **kw}
    return pipeline.WeeklyParams(season=2024, week=1, bankroll=1000.0, kelly_fraction=0.25, max_bet_fraction=0.05,
                                 min_edge=0.0, min_confidence=0.0, max_week_fraction=1.0, max_game_fraction=1.0, **kw)


def test_real_line_backtest_columns_settlement_and_no_leaks():
    m = fake_model(mean=65.0, sd=30.0)
    fr, q, games = _season_frames()
    late = q.assign(fetched_at=q["fetched_at"] + pd.Timedelta(hours=6), line=300.0)  # after kickoff: never used
    rows, blends = BB.real_line_backtest(2024, pd.concat([q, late]), fr, games, m, _params(), bet_time="open")
    assert list(rows.columns[:len(BB.REAL_COLUMNS)]) == BB.REAL_COLUMNS
    assert len(rows) == 4 * 60 and (rows["line"] < 300).all() and (rows["close_line"] < 300).all()
    first = q.sort_values("fetched_at").drop_duplicates(["game_id", "player_id"])
    assert (rows.merge(first, on=["game_id", "player_id"])["line_x"] == rows.merge(first, on=["game_id", "player_id"])
            ["line_y"]).all()  # the open is the first quote
    assert (rows.loc[rows["actual_yards"].isna(), "result"] == "void").all()
    assert (rows.loc[rows["result"] == "void", "profit"] == 0).all()
    assert (rows.loc[rows["decision"] != "bet", "stake"] == 0).all()
    won = rows[(rows["result"] == "win") & (rows["decision"] == "bet")].iloc[0]
    assert won["profit"] == pytest.approx(won["stake"] * (betting.american_to_decimal(won["odds"]) - 1))
    # CLV known for every priced row (a close exists); the line moved +2 toward the over
    assert rows["clv"].notna().all()
    # the blend of each week learned only from weeks before it: changing week 3-4 outcomes leaves weeks 1-3 alone
    fr2 = fr.copy()
    fr2.loc[fr2["week"] >= 3, "rushing_yards"] = 200.0
    rows2, blends2 = BB.real_line_backtest(2024, q, fr2, games, m, _params(), bet_time="open")
    early = rows["week"] <= 3
    np.testing.assert_allclose(rows.loc[early, "p_bet"], rows2.loc[early, "p_bet"])
    assert blends["n_rows"].tolist() == [0, 58, 116, 174]
    assert (blends["source"] == "default").iloc[0]


def test_backtest_at_close_uses_the_last_quote_before_kickoff():
    m = fake_model(mean=65.0, sd=30.0)
    fr, q, games = _season_frames(weeks=(1,))
    rows, _ = BB.real_line_backtest(2024, q, fr, games, m, _params(), bet_time="close")
    last = q.sort_values("fetched_at").drop_duplicates(["game_id", "player_id"], keep="last")
    assert sorted(rows["line"]) == sorted(last["line"])
    assert (rows["line"] == rows["close_line"]).all()
    # at the close, CLV is what the vig leaves: negative on average
    assert rows["clv"].mean() < 0


def test_report_figures_by_hand():
    rows = pd.DataFrame({"season": 2024, "week": [1, 1, 2, 2], "decision": ["bet", "bet", "bet", "edge"],
                         "result": ["win", "loss", "push", "win"], "odds": [100.0, -200.0, -110.0, -110.0],
                         "stake": [10.0, 20.0, 5.0, 0.0], "profit": [10.0, -20.0, 0.0, 0.0],
                         "p_model": [0.7, 0.4, 0.5, 0.6], "p_market": [0.5, 0.6, 0.5, 0.5],
                         "p_bet": [0.55, 0.62, 0.5, 0.52], "edge": [0.05, 0.02, 0.0, 0.02],
                         "clv": [0.02, np.nan, -0.01, 0.1], "line_move": [1.0, np.nan, 0.0, 2.0]})
    s = BB.bet_summary(rows, "open")
    assert (s["bets"], s["staked"], s["profit"]) == (3, 35.0, -10.0)
    assert s["roi"] == pytest.approx(-10 / 35) and s["roi_lo"] <= s["roi"] <= s["roi_hi"]
    assert s["flat_roi"] == pytest.approx((1.0 - 1.0 + 0.0) / 3)
    assert s["clv_n"] == 2 and s["clv_mean"] == pytest.approx(0.005) and s["clv_pos"] == 0.5  # NaN CLV left out
    sc = BB.prob_scores(rows)
    assert sc["n"] == 3  # the push is left out
    assert sc["brier_p_market"] == pytest.approx(((0.5 - 1) ** 2 + 0.6**2 + (0.5 - 1) ** 2) / 3)
    rel = BB.reliability_table(rows, "p_bet", bins=2)  # settled rows 0.55 (win), 0.62 (loss), 0.52 (win)
    assert rel["n"].tolist() == [2, 1] and rel["predicted"].tolist() == pytest.approx([0.535, 0.62])
    assert rel["observed"].tolist() == [1.0, 0.0] and rel["se"].tolist() == [0.0, 0.0]
    band = BB.pnl_band(rows)
    assert band["pnl"].tolist() == pytest.approx([1.0, 0.0, 0.0]) and (band["lo"] <= band["hi"]).all()


# --- the command of issue 11: nfl-bnn backtest-bets --lines warehouse --bet-time ... --out CSV ---------
def warehouse_with_quote_history(seasons=(2018, 2019), weeks=8):
    """The small synthetic warehouse plus a quote history for its last season in prop_lines: per player-game
    an opening quote 30 h before kickoff, a closing one 2 h before (line +2, -125/+105), and one fetched
    after kickoff at an absurd line (never to be used)."""
    from nfl_bnn import warehouse
    from _fakes import build_small_warehouse

    games, stats, lines = build_small_warehouse(seasons=seasons, weeks=weeks)
    ko = BB.kickoff_utc(games)
    gid = stats.drop_duplicates(["season", "week", "player_id"]).set_index(["season", "week", "player_id"])["game_id"]
    q = lines[lines["side"] == "over"].drop(columns=["side"]).copy()
    q["game_id"] = [gid[(s, w, p)] for s, w, p in zip(q["season"], q["week"], q["player_id"])]
    early = q.assign(fetched_at=q["game_id"].map(ko) - pd.Timedelta(hours=30))
    late = q.assign(fetched_at=q["game_id"].map(ko) - pd.Timedelta(hours=2), line=q["line"] + 2.0,
                    over_odds=-125, under_odds=105)
    after = q.assign(fetched_at=q["game_id"].map(ko) + pd.Timedelta(hours=1), line=250.5)  # after kickoff
    with warehouse.connect() as wh:
        wh.upsert_df("prop_lines", pd.concat([early, late, after], ignore_index=True)[
            ["season", "week", "game_id", "player_id", "player_name", "team", "book", "market", "line", "over_odds",
             "under_odds", "fetched_at", "source"]])


def test_cli_backtest_bets_on_warehouse_quotes(project_home, tmp_path):
    from nfl_bnn import cli, features

    warehouse_with_quote_history()
    model = fake_model(feature_names=tuple(features.FEATURES), mean=60.0, sd=25.0)
    path = model.save(tmp_path / "m.npz")
    out = tmp_path / "bt.csv"
    rc = cli.main(["backtest-bets", "--season", "2019", "--model", str(path), "--lines", "warehouse",
                   "--bet-time", "open", "--out", str(out)])
    assert rc == 0
    got = pd.read_csv(out)
    assert list(got.columns) == BB.REAL_COLUMNS and len(got) > 0
    assert (got["line"] < 250).all() and (got["close_line"] < 250).all()  # nothing fetched after kickoff
    np.testing.assert_allclose(got["close_line"] - got["line"], 2.0)  # open = first quote, close = last
    assert got["clv"].notna().all() and (got.loc[got["decision"] != "bet", "stake"] == 0).all()
    assert (tmp_path / "bt.blends.csv").is_file()
    # --out without --bet-time: a parameter error (exit 2) naming what is missing
    assert cli.main(["backtest-bets", "--season", "2019", "--model", str(path), "--out", str(out)]) == 2


def test_init_db_migrates_an_old_ledger(old_ledger):
    from nfl_bnn import schema

    assert "p_bet" not in old_ledger.columns("bets")
    schema.create_schema(old_ledger)
    assert "p_bet" in old_ledger.columns("bets")
    schema.create_schema(old_ledger)  # idempotent


def test_weekly_run_fits_the_blend_from_earlier_weeks_of_the_warehouse(project_home):
    from nfl_bnn import features, pipeline, warehouse

    warehouse_with_quote_history(seasons=(2018, 2019), weeks=8)
    model = fake_model(feature_names=tuple(features.FEATURES), mean=60.0, sd=25.0)
    with warehouse.connect() as wh:
        stats, games = warehouse.load_stats(wh), warehouse.load_games(wh)
        p = _params().model_copy(update={"season": 2019, "week": 6})
        blend = pipeline.weekly_blend(wh, model, p, stats, games, None)
        p1 = _params().model_copy(update={"season": 2019, "week": 1})
        first = pipeline.weekly_blend(wh, model, p1, stats, games, None)
    # weeks 1-5 of 2019 only: 8 starters a week with a quote and a result, under the 150-row minimum
    assert blend.n_rows == 40 and blend.window == "2019 wk 1 - 2019 wk 5" and blend.source == "default"
    assert first.n_rows == 0 and "default" in first.describe()


def test_weekly_blend_learns_from_the_rows_the_model_prices(project_home, monkeypatch):
    """The blend's earlier-season rows come through the roster tables, like training's (not the box-score
    rule alone): candidate_frame gets the warehouse's role tables."""
    from nfl_bnn import features, pipeline, warehouse

    warehouse_with_quote_history(seasons=(2018, 2019), weeks=8)
    seen = []
    real = features.candidate_frame

    def spy(*a, roles=None, **k):
        seen.append(roles)
        return real(*a, roles=roles, **k)

    monkeypatch.setattr(features, "candidate_frame", spy)
    model = fake_model(feature_names=tuple(features.FEATURES), mean=60.0, sd=25.0)
    with warehouse.connect() as wh:
        stats, games = warehouse.load_stats(wh), warehouse.load_games(wh)
        pipeline.weekly_blend(wh, model, _params().model_copy(update={"season": 2019, "week": 6}), stats, games, None)
    assert seen and isinstance(seen[0], dict) and {"rosters", "depth_charts"} <= set(seen[0])


# --- the market-skill gate: no stake until the blend has beaten the market out of sample ------------------------
def _weeks_frame(pm, pk, won, per_week=100, season=2023, first_week=1):
    n = len(pm)
    return pd.DataFrame({"season": season, "week": first_week + np.arange(n) // per_week, "p_model": pm,
                         "p_market": pk, "won": won})


def test_prequential_skill_is_shown_only_when_the_model_adds_information():
    # the model knows something the market does not: outcomes follow both logits
    pm, pk, won = _simulate(3000, a=0.8, b=0.5, seed=11)
    informed = market.prequential_skill(_weeks_frame(pm, pk, won))
    assert informed.n == 3000 and informed.weeks == 30
    assert informed.diff < 0 and informed.shown
    # the market is the truth and the model is noise around it: no skill, whatever the in-sample fit says
    rng = np.random.default_rng(12)
    truth = rng.normal(0, 0.4, 3000)
    pk2 = market.sigmoid(truth)
    pm2 = market.sigmoid(truth + rng.normal(0, 0.6, 3000))
    won2 = (rng.random(3000) < pk2).astype(float)
    noise = market.prequential_skill(_weeks_frame(pm2, pk2, won2))
    assert not noise.shown and noise.diff + noise.se > 0
    assert "NO skill shown" in noise.describe()
    assert market.fit_blend(pm2, pk2, won2).logloss["blend"] <= market.fit_blend(pm2, pk2, won2).logloss["market"]


def test_prequential_skill_scores_each_week_with_earlier_weeks_only():
    pm, pk, won = _simulate(1200, a=0.8, b=0.5, seed=13)
    hist = _weeks_frame(pm, pk, won)
    base = market.prequential_skill(hist)
    # rewrite the LAST week's outcomes: it is scored by a blend of earlier weeks, so only its own score moves;
    # were it used to fit its own blend, the change would also shift how well the blend fits it
    flipped = hist.copy()
    last = flipped["week"] == flipped["week"].max()
    flipped.loc[last, "won"] = 1.0 - flipped.loc[last, "won"]
    k = market.fit_blend(hist.loc[~last, "p_model"], hist.loc[~last, "p_market"], hist.loc[~last, "won"])
    p = market.apply_blend(k, hist.loc[last, "p_model"].to_numpy(), hist.loc[last, "p_market"].to_numpy())
    y0, y1 = hist.loc[last, "won"].to_numpy(), flipped.loc[last, "won"].to_numpy()
    pk_last = hist.loc[last, "p_market"].to_numpy()
    expected_shift = ((market.row_log_loss(p, y1) - market.row_log_loss(pk_last, y1)).sum()
                      - (market.row_log_loss(p, y0) - market.row_log_loss(pk_last, y0)).sum()) / base.n
    assert market.prequential_skill(flipped).diff - base.diff == pytest.approx(expected_shift, rel=1e-9)


def test_walk_forward_blend_carries_its_skill_and_says_it():
    pm, pk, won = _simulate(600, seed=2)
    bl = market.fit_walk_forward(_weeks_frame(pm, pk, won), 2024, 1)
    assert bl.skill.n == 600 and bl.skill.weeks == 6
    assert "out of sample on 600 earlier real lines" in bl.describe()
    assert not market.fit_blend([], [], []).skill.shown  # the stated default has no record


def test_market_gate_stakes_nothing_without_skill_except_on_proxy_lines():
    from nfl_bnn import pipeline

    sized = pd.DataFrame({"player_id": ["a", "b"], "reason": ["bet", "edge"], "stake": [12.5, 0.0],
                          "bet_fraction": [0.0125, 0.0], "edge": [0.07, 0.01]})
    none = market.fit_blend([], [], [])
    gated = pipeline.market_gate(sized, none, _params(require_market_skill=True))
    assert list(gated["reason"]) == ["no_market_skill", "edge"] and gated["stake"].sum() == 0.0
    assert gated.loc[0, "edge"] == 0.07  # the record keeps what the model saw
    assert pipeline.market_gate(sized, none, _params(require_market_skill=True), proxy=True).equals(sized)  # proxies are not a market
    assert pipeline.market_gate(sized, none, _params(require_market_skill=False)).equals(sized)
    from dataclasses import replace

    skilled = replace(none, skill=market.Skill(n=500, weeks=8, diff=-0.004, se=0.001))
    assert pipeline.market_gate(sized, skilled, _params(require_market_skill=True)).equals(sized)


def test_weekly_run_on_real_lines_without_a_skill_record_stakes_nothing_and_says_why(week4_wh, project_home):
    """The week-4 warehouse has real (non-proxy) lines and no earlier quote history: the blend is the stated
    default with no out-of-sample record, so the edges the fake model still has after the default shrinkage
    (thresholds at 0 here) are recorded, not staked."""
    from _fakes import SEASON, WEEK, FakeModel

    from nfl_bnn import pipeline

    p = pipeline.load_weekly_params(SEASON, WEEK, bankroll=1000.0, min_edge=0.0, min_confidence=0.0)
    res = pipeline.run_week(p, wh=week4_wh, model=FakeModel())
    assert res.bets.empty
    decisions = dict(zip(res.predictions["player_id"], res.predictions["decision"]))
    assert decisions["BUF-RB1"] == "no_market_skill"  # an edge of its own: priced, kept in the files, not staked
    ungated = pipeline.run_week(p.model_copy(update={"require_market_skill": False}), wh=week4_wh, model=FakeModel())
    assert "BUF-RB1" in set(ungated.bets["player_id"])  # the gate, not the thresholds, held the stake back
    assert "no skill shown" in res.summary.lower() and "1 had an edge but were not staked (no_market_skill)" in res.summary

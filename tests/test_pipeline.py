"""The weekly run end to end on a tiny DuckDB warehouse with a fake predictor of known probabilities.

The fake predictor's per-draw P(over) is fixed per player, so every stake can be checked by hand
(conservative profile: Kelly x0.15, max bet 3%, min edge 3%, min confidence 70%, caps 10% / 5%).
"""
from __future__ import annotations

import os
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from _fakes import LINES, P_OVER, SEASON, WEEK, FakeModel, line_rows, make_frames  # noqa: F401 (shared builders)

from nfl_bnn import ledger, pipeline, proxy_lines
from nfl_bnn.errors import BusyError, ConfigError, DatabaseError, DataError, NflBnnError


#: a blend that trusts the model fully (p_bet = p_model), so stakes stay hand-computable from P_OVER
pytestmark = pytest.mark.usefixtures("identity_blend")


@pytest.fixture
def wh(week4_wh):
    """The week-4 warehouse of tests/conftest.py (DuckDB, open)."""
    return week4_wh


def params(**kw):
    return pipeline.load_weekly_params(kw.pop("season", SEASON), kw.pop("week", WEEK), **kw)


def _files(out):
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file() and not p.name.endswith(".lock")}


def test_week_end_to_end_stakes_by_hand(wh, project_home):
    res = pipeline.run_week(params(bankroll=1000.0), wh=wh, model=FakeModel())
    b = res.bets.set_index("player_id")
    # KC-RB1 over: Kelly = (0.58 * 210/110 - 1) / (100/110) = 0.107273 / 0.909091 = 0.118; x0.15 = 0.0177 -> 17.70
    # BUF-RB1 under: (0.6 * 210/110 - 1) / (100/110) = 0.16; x0.15 = 0.024 -> 24.00 (game caps 50, week 100: slack)
    assert b.loc["KC-RB1", "side"] == "over" and b.loc["KC-RB1", "bet_amount"] == 17.70
    assert b.loc["BUF-RB1", "side"] == "under" and b.loc["BUF-RB1", "bet_amount"] == 24.00
    assert b.loc["KC-RB1", "edge"] == pytest.approx(0.08) and b.loc["KC-RB1", "confidence"] == pytest.approx(0.8)
    assert b.loc["BUF-RB1", "market_prob"] == pytest.approx(0.5) and len(b) == 2
    reasons = dict(zip(res.candidates.player_id, res.candidates.reason))
    assert reasons["MIA-RB1"] == "edge" and reasons["BAL-RB1"] == "confidence"
    out = project_home / "reports" / "weekly"
    assert {"s2024_w4_predictions.csv", "s2024_w4_bets.csv", "s2024_w4_summary.txt"} <= set(os.listdir(out))
    assert os.readlink(out / "latest_bets.csv") == "s2024_w4_bets.csv"
    assert os.readlink(out / "latest_summary.txt") == "s2024_w4_summary.txt"
    preds = pd.read_csv(out / "s2024_w4_predictions.csv")
    assert len(preds) == 8 and (preds.decision == "no_line").sum() == 4  # every eligible player, line or not
    bets_csv = pd.read_csv(out / "s2024_w4_bets.csv")
    assert list(bets_csv.columns) == pipeline.BET_COLUMNS and not bets_csv.paper.any()
    summary = (out / "s2024_w4_summary.txt").read_text()
    assert "1 failed the edge threshold" in summary and "1 failed the confidence threshold" in summary
    assert "4 eligible players had no line" in summary  # 8 predicted, 4 with a line
    # 8 predictions < 20 -> a volume alert, exit status 3; logged too. Edges of 8 and 10 points (median 9%)
    # are implausible against a real market: the implausible-edge alert fires as well
    assert [a.code for a in res.alerts] == ["low_volume", "implausible_edge"] and res.exit_status == 3
    assert "[low_volume]" in summary
    got = ledger.load_bets(wh, SEASON, WEEK)
    assert sorted(got.stake) == [17.70, 24.00] and set(got.model_version) == {"fake-1"}
    # re-running the week replaces, never duplicates
    pipeline.run_week(params(bankroll=1000.0), wh=wh, model=FakeModel())
    assert len(ledger.load_bets(wh, SEASON, WEEK)) == 2


def test_paper_trade_marks_every_bet(wh, project_home):
    res = pipeline.run_week(params(paper_trade=True), wh=wh, model=FakeModel())
    assert res.bets.paper.all()
    assert ledger.load_bets(wh, SEASON, WEEK).paper.all()
    assert "PAPER TRADE" in res.summary


def test_no_lines_says_why(wh, project_home):
    wh.execute("DELETE FROM best_prop_lines")
    res = pipeline.run_week(params(), wh=wh, model=FakeModel())
    assert res.bets.empty and "NO BETS this week. Why: no lines" in res.summary


def test_zero_bets_two_weeks_running_alerts(wh, project_home):
    wh.execute("DELETE FROM best_prop_lines")
    res3 = pipeline.run_week(params(week=3), wh=wh, model=FakeModel())
    assert "no_bets" not in [a.code for a in res3.alerts]
    res4 = pipeline.run_week(params(week=4), wh=wh, model=FakeModel())
    assert "no_bets" in [a.code for a in res4.alerts]


def test_proxy_lines_are_labelled(wh, project_home):
    res = pipeline.run_week(params(lines="proxy"), wh=wh, model=FakeModel())
    assert "PROXY LINES" in res.summary.splitlines()[0]
    assert set(res.candidates.source) == {"proxy:season_median"}


def test_crash_after_staging_or_in_ledger_keeps_previous_state(wh, project_home, monkeypatch):
    pipeline.run_week(params(bankroll=1000.0), wh=wh, model=FakeModel())
    out = project_home / "reports" / "weekly"
    before_files, before_ledger = _files(out), ledger.load_bets(wh, SEASON, WEEK)

    def boom(*a, **k):
        assert any(f.name.endswith(".tmp") for f in out.iterdir()), "the crash must come after staging"
        raise KeyboardInterrupt("killed after staging")

    with monkeypatch.context() as m:
        m.setattr(ledger, "to_ledger_rows", boom)  # the first step after staging, before the ledger
        with pytest.raises(KeyboardInterrupt):
            pipeline.run_week(params(bankroll=5000.0), wh=wh, model=FakeModel())
    assert _files(out) == before_files  # no temp files left, nothing replaced
    pd.testing.assert_frame_equal(ledger.load_bets(wh, SEASON, WEEK), before_ledger)

    real = ledger.record_week

    def db_gone(*a, **k):
        raise DatabaseError("lost the connection (test)")

    ledger.record_week = db_gone
    try:
        with pytest.raises(DatabaseError):
            pipeline.run_week(params(bankroll=5000.0), wh=wh, model=FakeModel())
    finally:
        ledger.record_week = real
    assert _files(out) == before_files
    pd.testing.assert_frame_equal(ledger.load_bets(wh, SEASON, WEEK), before_ledger)
    # the next run succeeds and moves both files and ledger to the new bankroll
    res = pipeline.run_week(params(bankroll=5000.0), wh=wh, model=FakeModel())
    assert sorted(ledger.load_bets(wh, SEASON, WEEK).stake) == sorted(res.bets.bet_amount) == [88.5, 120.0]


def test_second_run_of_same_week_refuses(wh, project_home):
    from nfl_bnn import fileio

    out = fileio.ensure_writable_dir(pipeline.weekly_dir())
    with fileio.run_lock(out / ".s2024_w4.lock", "test holder"):
        with pytest.raises(BusyError, match="another run of the weekly run of season 2024 week 4"):
            pipeline.run_week(params(), wh=wh, model=FakeModel())


def test_unwritable_output_folder_fails_before_work(project_home, monkeypatch):
    (project_home / "blocker").write_text("a file where the reports folder should be")
    monkeypatch.setenv("NFL_BNN_HOME", str(project_home / "blocker"))

    class Exploding:
        def predict(self, X):
            raise AssertionError("heavy work must not start")

    with pytest.raises(NflBnnError, match="not writable"):
        pipeline.run_week(params(), wh=None, model=Exploding())


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"profile": "yolo"}, "unknown risk profile 'yolo'"),
        ({"profile": "../etc"}, "unknown risk profile"),
        ({"kelly_fraction": 0.0}, "kelly_fraction"),
        ({"kelly_fraction": 1.5}, "kelly_fraction"),
        ({"max_bet_fraction": 1.01}, "max_bet_fraction"),
        ({"max_week_fraction": -0.1}, "max_week_fraction"),
        ({"bankroll": -100.0}, "bankroll"),
        ({"bankroll": "lots"}, "bankroll"),
        ({"bankroll": 1e308}, "bankroll"),  # a params file's absurd bankroll, refused like the command line's
        ({"season": 1850}, "season"),
        ({"week": 0}, "week"),
        ({"week": 23}, "week"),
        ({"week": "4"}, "week"),
        ({"margin_method": "additive"}, "margin_method"),
        ({"kely_fraction": 0.1}, "did you mean 'kelly_fraction'"),
    ],
)
def test_bad_parameters_are_config_errors(kw, message):
    with pytest.raises(ConfigError, match=message):
        params(**kw)


def test_week_with_no_games(wh, project_home):
    with pytest.raises(DataError, match="no games for season 2024 week 9"):
        pipeline.run_week(params(week=9), wh=wh, model=FakeModel())


def test_line_for_unknown_player_is_skipped_and_reported(wh, project_home):
    # issue 12.3: an unmatched player's quote never blocks the other players' prices
    wh.upsert_df("best_prop_lines", line_rows([("ZZ-RB9", "over", 40.5, -110, -110)]))
    res = pipeline.run_week(params(), wh=wh, model=FakeModel())
    assert set(res.bets["player_id"]) == {"KC-RB1", "BUF-RB1"}
    assert "skipped 1 line(s) of 1 player(s) not in the warehouse (ZZ Back9)" in res.summary


def test_bad_quote_in_warehouse_is_skipped_not_bet_and_others_priced(wh, project_home):
    # issue 12.2: a +100000 quote is never bet (it used to take the maximum stake); 12.3: the week goes on
    wh.execute("UPDATE best_prop_lines SET over_odds = 100000 WHERE player_id = 'KC-RB1'")
    res = pipeline.run_week(params(), wh=wh, model=FakeModel())
    assert set(res.bets["player_id"]) == {"BUF-RB1"}
    assert "fail the quote check" in res.summary and "over_odds +100000 is outside the plausible range" in res.summary
    wh.execute("UPDATE best_prop_lines SET line = 1e9, over_odds = -110 WHERE player_id = 'KC-RB1'")
    res = pipeline.run_week(params(), wh=wh, model=FakeModel())
    assert set(res.bets["player_id"]) == {"BUF-RB1"} and "line 1e+09 is outside (0, 300]" in res.summary


def test_whole_number_line_is_priced(wh, project_home):
    wh.execute("UPDATE best_prop_lines SET line = 80.0 WHERE player_id = 'KC-RB1'")
    res = pipeline.run_week(params(), wh=wh, model=FakeModel())
    assert 80.0 in set(res.bets.loc[res.bets.player_id == "KC-RB1", "line"])


def test_one_sided_quote_without_a_market_is_skipped_with_a_reason(wh, project_home):
    wh.execute("UPDATE best_prop_lines SET under_odds = NULL WHERE player_id = 'KC-RB1'")
    res = pipeline.run_week(params(), wh=wh, model=FakeModel())
    assert set(res.bets["player_id"]) == {"BUF-RB1"}
    assert "one-sided line(s) with no two-sided market at the same line" in res.summary


def test_one_sided_quote_priced_with_another_books_market(wh, project_home):
    base = dict(season=SEASON, week=WEEK, player_id="KC-RB1", player_name="KC Back1", team="KC",
                market="player_rush_yds", line=80.5, fetched_at=datetime(2024, 10, 1, 9), source="test")
    wh.upsert_df("prop_lines", pd.DataFrame([{**base, "book": "A", "over_odds": -105, "under_odds": None},
                                             {**base, "book": "B", "over_odds": -120, "under_odds": 100}]))
    res = pipeline.run_week(params(), wh=wh, model=FakeModel())
    bet = res.bets.set_index("player_id").loc["KC-RB1"]
    # bet at book A's price; the market probability is B's market without its margin, not A's missing pair
    assert (bet["book"], bet["odds"]) == ("A", -105)
    from nfl_bnn import betting
    assert bet["market_prob"] == pytest.approx(betting.remove_margin(-120, 100, "power")[0])
    assert "1 one-sided line(s) priced with another book's two-sided market" in res.summary


def test_weekly_uses_only_quotes_fetched_before_as_of(wh, project_home):
    def quote(line, when):
        return dict(season=SEASON, week=WEEK, player_id="KC-RB1", player_name="KC Back1", team="KC", book="bk",
                    market="player_rush_yds", line=line, over_odds=-110, under_odds=-110, fetched_at=when,
                    source="test")
    wh.upsert_df("prop_lines", pd.DataFrame([quote(80.5, datetime(2024, 10, 1, 9)),
                                             quote(95.5, datetime(2024, 10, 3, 9))]))
    early = pipeline.run_week(params(as_of="2024-10-02T00:00:00Z"), wh=wh, model=FakeModel())
    assert list(early.bets["line"]) == [80.5]
    assert "as of 2024-10-02 00:00 UTC" in early.summary
    late = pipeline.run_week(params(as_of="2024-10-03T09:00:00"), wh=wh, model=FakeModel())
    assert list(late.bets["line"]) == [95.5]
    none = pipeline.run_week(params(as_of="2024-09-30T00:00:00Z"), wh=wh, model=FakeModel())
    assert none.bets.empty
    with pytest.raises(ConfigError, match="as_of.*not a time"):
        params(as_of="last tuesday")


def test_injury_reports_after_as_of_are_not_used():
    inj = pd.DataFrame({"season": [2024, 2024, 2024], "week": [5, 5, 5], "team": ["KC"] * 3,
                        "player_id": ["a", "b", "c"], "report_status": ["Out"] * 3,
                        # US/Eastern wall clock: 12:00 EDT = 16:00 UTC
                        "reported_at": pd.to_datetime(["2024-10-04 11:59", "2024-10-04 12:01", None])})
    kept = pipeline.reports_as_of(inj, pd.Timestamp("2024-10-04 16:00"))
    assert list(kept["player_id"]) == ["a", "c"]


def test_older_api_returns_dict(wh, project_home):
    api = pipeline.BNNMoEProductionPipeline(model_path="models/none.npz", bankroll=1000.0, kelly_fraction=0.15,
                                            max_bet_fraction=0.03, min_edge=0.03, min_confidence=0.7)
    out = api.run_pipeline(season=SEASON, week=WEEK, wh=wh, model=FakeModel())
    assert out["success"] and out["error"] is None and len(out["bets"]) == 2 and len(out["output_files"]) == 3
    bad = pipeline.BNNMoEProductionPipeline(bankroll=-1).run_pipeline(season=SEASON, week=WEEK, wh=wh,
                                                                      model=FakeModel())
    assert not bad["success"] and "bankroll" in bad["error"]
    missing = pipeline.BNNMoEProductionPipeline(model_path=str(project_home / "nope.npz")).run_pipeline(
        season=SEASON, week=WEEK, wh=wh)
    assert not missing["success"] and "nope.npz" in missing["error"]


def test_backtest_on_proxy_lines_settles_and_is_labelled(wh, project_home):
    from nfl_bnn import backtest_betting

    # season-median proxy needs >= 2 earlier games: weeks 3 (2 games before) is priced, week 4 is unplayed
    wh.execute("DELETE FROM best_prop_lines")
    res = backtest_betting.run(SEASON, FakeModel(), params(bankroll=1000.0), wh, weeks=[3], lines_mode="auto")
    assert res.proxy and "PROXY LINES" in res.title and "PROXY LINES" in res.text.splitlines()[0]
    assert len(res.bets) and set(res.bets.source) == {"proxy:season_median"}
    assert set(res.bets.status) <= {"win", "loss", "push", "void"}
    # the bankroll curve is the start plus the settled profit
    assert res.totals["final_bankroll"] == pytest.approx(1000.0 + res.bets.profit.sum())
    assert all(f.exists() and "PROXY" in f.name for f in res.output_files)
    # the report's summary: the proxy note and the totals, without the title or the week table it shows apart
    assert res.summary.startswith("PROXY LINES: lines are proxy:") and "ROI" in res.summary
    assert res.title not in res.summary and "roi_4wk" not in res.summary and "===" not in res.summary


@pytest.mark.slow  # ~85 s on 2 cores, mostly PyTensor compilation
@pytest.mark.postgres
def test_integration_tiny_real_model_duckdb_warehouse_postgres_ledger(wh, project_home, pg_server_url):
    """Train a tiny real model (params/train_fast.yaml, fewer ADVI steps) and run a week end to end:
    stats from DuckDB, the ledger on PostgreSQL; then settle and review."""
    train = pytest.importorskip("nfl_bnn.train")
    from nfl_bnn import features, schema, warehouse

    games, stats = make_frames(weeks_played=4, total_weeks=5)
    wh.upsert_df("mart.games", games)
    wh.upsert_df("mart.player_game_stats", stats)
    frame = features.training_frame(warehouse.load_stats(wh), warehouse.load_games(wh), SEASON, SEASON)
    tp = train.load_train_params(pipeline.config.params_dir() / "train_fast.yaml", advi_iterations=300,
                                 keep_draws=50)
    model, _ = train.fit(frame, tp, SEASON, SEASON)
    path = project_home / "models" / "tiny.npz"
    model.save(path)
    pg = warehouse.connect(pg_server_url)
    schema.create_schema(pg)
    pg.execute("DELETE FROM bets")

    class Split:  # reads from DuckDB, the ledger writes go to PostgreSQL
        def __init__(self):
            self.description = wh.description

        def __getattr__(self, name):
            return getattr(wh, name)

    from nfl_bnn.model import MixtureExpertsBNN

    real = MixtureExpertsBNN.load(path)
    orig = ledger.record_week
    ledger.record_week = lambda _w, *a, **k: orig(pg, *a, **k)
    try:
        res = pipeline.run_week(params(model_path=str(path), min_edge=0.0, min_confidence=0.0), wh=Split(),
                                model=real)
    finally:
        ledger.record_week = orig
    assert len(res.predictions) == 8 and res.predictions["mean"].between(0, 300).all()
    cands = res.candidates
    assert cands.model_prob.between(0, 1).all() and cands.confidence.between(0, 1).all()
    recorded = ledger.load_bets(pg, SEASON, WEEK)
    assert len(recorded) == len(res.bets) and set(recorded.model_version) == {real.version}
    pg.close()


def test_cli_exit_statuses(wh, project_home, monkeypatch):
    from nfl_bnn import cli

    assert cli.main(["weekly", "--season", "2024", "--week", "4", "--profile", "yolo"]) == 2  # bad parameter
    with pytest.raises(SystemExit) as e:  # out of range: refused by the parser, a bad parameter
        cli.main(["settle", "--season", "2024", "--week", "30"])
    assert e.value.code == 2
    monkeypatch.setattr(pipeline, "run_week", lambda p: _real_run(p, wh))  # the fake model, same warehouse
    assert cli.main(["weekly", "--season", "2024", "--week", "4", "--paper-trade"]) == 3  # ok with alerts
    assert cli.main(["review", "--season", "2024"]) == 0


_orig_run_week = pipeline.run_week


def _real_run(p, wh):
    return _orig_run_week(p, wh=wh, model=FakeModel())


def test_season_median_proxy_uses_only_earlier_games_and_the_median():
    """Lines sit at the median (books' convention for skewed props), from games before the week only."""
    stats = pd.DataFrame({
        "season": [2019] * 5, "week": [1, 2, 3, 4, 5], "player_id": ["p1"] * 5,
        "rushing_yards": [10, 50, 200, 0, 999],  # weeks 4 and 5 are not before week 4
    })
    players = pd.DataFrame({"player_id": ["p1", "p2"], "player_name": ["A Back", "No History"], "team": ["KC", "LV"]})
    lines = proxy_lines.season_median_lines(stats, players, 2019, 4)
    # earlier games 10, 50, 200: median 50 -> 50.5 (the mean, 86.7, would have given 86.5)
    assert set(lines["player_id"]) == {"p1"} and set(lines["line"]) == {50.5}
    assert set(lines["side"]) == {"over", "under"} and set(lines["source"]) == {"proxy:season_median"}
    assert (lines["over_odds"] == -110).all() and (lines["under_odds"] == -110).all()
    assert proxy_lines.season_median_lines(stats, players, 2019, 3)["line"].iloc[0] == 30.5  # median of 10, 50


def test_review_title_says_proxy_whenever_a_bet_was_priced_on_proxy_lines():
    real = pd.DataFrame({"line_source": ["csv", "odds_api"]})
    mixed = pd.DataFrame({"line_source": ["csv", "proxy:season_median"]})
    assert proxy_lines.review_title(real, 2019, 10) == "Season 2019 week 10"
    assert "PROXY LINES, NOT REAL P&L" in proxy_lines.review_title(mixed, 2019, 10)
    assert "PROXY LINES" in proxy_lines.review_title(mixed, 2019)


def test_nflcom_proxy_lines_join_by_name_key_and_team(tmp_path):
    """NFL.com's CSV goes through the one reader (nfl_bnn.nflcom) and the one name key (nfl_bnn.names)."""
    from nfl_bnn import nflcom
    from nfl_bnn.names import normalise_name

    csv = tmp_path / "rb.csv"
    pd.DataFrame({"season": [2024] * 3, "week": [5] * 3, "PlayerName": ["Kenneth Walker III", "Kyren Williams",
                  "Other Guy"], "Team": ["SEA", "LAR", "KC"], "RushingYDS": [61.0, 72.4, 50.0]}).to_csv(csv)
    players = pd.DataFrame({"player_id": ["a", "b", "c"], "player_name": ["Kenneth Walker", "Kyren Williams",
                            "José Núñez"], "team": ["SEA", "LA", "KC"]})
    lines = proxy_lines.nflcom_lines(nflcom.read_projections(csv), players, 2024, 5)
    over = lines[lines.side == "over"].set_index("player_id")["line"]
    assert over.to_dict() == {"a": 61.5, "b": 72.5}  # LAR -> LA; suffix III dropped; 61.0 -> 61.5 (ties up)
    assert set(lines["source"]) == {"proxy:nflcom"}
    assert normalise_name("José Núñez-Smith Jr.") == "jose nunez smith"
    assert list(nflcom.line_from_projection(np.array([61.0, 61.49, 0.2]))) == [61.5, 61.5, 0.5]


class InjuryAwareModel(FakeModel):
    feature_names = ["proj_carries", "mate_out_share"]

    def __init__(self, learned=True):
        self.learned = learned

    def learned_from(self, feature):
        return self.learned and feature in self.feature_names


def test_week_uses_the_injury_report_and_warns_without_one(wh, project_home, caplog):
    # no report for the week: a model that learned from injuries warns that backups are under-projected
    with caplog.at_level("WARNING", logger="nfl_bnn.pipeline"):
        res = pipeline.run_week(params(lines="proxy"), wh=wh, model=InjuryAwareModel())
    assert "no injury report for season 2024 week 4" in caplog.text
    assert "KC-RB1" in set(res.predictions.player_id)
    caplog.clear()
    # a model trained without injury reports (embedded data) has nothing to warn about
    with caplog.at_level("WARNING", logger="nfl_bnn.pipeline"):
        pipeline.run_week(params(lines="proxy"), wh=wh, model=InjuryAwareModel(learned=False))
    assert "no injury report" not in caplog.text
    # KC's starter listed Out before kickoff: not predicted, his backup knows the share that went missing
    wh.upsert_df("mart.injuries", pd.DataFrame([dict(
        season=SEASON, week=WEEK, team="KC", player_id="KC-RB1", player_name="KC Back1", position="RB",
        report_status="Out", practice_status=None, reported_at=datetime(2024, 9, 27, 16), source="test")]))
    with caplog.at_level("WARNING", logger="nfl_bnn.pipeline"):
        res = pipeline.run_week(params(lines="proxy"), wh=wh, model=InjuryAwareModel())
    assert "no injury report" not in caplog.text
    preds = res.predictions.set_index("player_id")
    assert "KC-RB1" not in preds.index and "KC-RB2" in preds.index


def test_rerun_of_a_week_under_way_keeps_the_bets_of_games_that_kicked_off(wh, project_home):
    # week 4: BAL@KC kicks off at 13:00, MIA@BUF at 14:00 on 2024-09-29 (US/Eastern)
    tuesday, between = datetime(2024, 9, 24, 9), datetime(2024, 9, 29, 13, 30)
    first = pipeline.run_week(params(bankroll=1000.0), wh=wh, model=FakeModel(), now=tuesday)
    placed = ledger.load_bets(wh, SEASON, WEEK).set_index("player_id")
    assert set(first.bets.player_id) == {"KC-RB1", "BUF-RB1"} and len(placed) == 2
    # a rerun after kickoff of BAL@KC, with a bigger bankroll: BUF's bet is re-sized, KC's stays as placed
    second = pipeline.run_week(params(bankroll=2000.0), wh=wh, model=FakeModel(), now=between)
    assert set(second.bets.loc[~second.bets.kept, "player_id"]) == {"BUF-RB1"}  # the only new bet
    assert set(second.bets.loc[second.bets.kept, "player_id"]) == {"KC-RB1"}  # listed beside it, as placed
    dec = second.predictions.set_index("player_id")["decision"]
    assert dec["KC-RB1"] == "kicked_off" and dec["BAL-RB1"] == "kicked_off" and dec["BUF-RB1"] == "bet"
    after = ledger.load_bets(wh, SEASON, WEEK).set_index("player_id")
    assert len(after) == 2 and second.ledger_counts.replaced == 1
    assert after.loc["KC-RB1", "stake"] == placed.loc["KC-RB1", "stake"] == 17.70
    assert after.loc["KC-RB1", "run_id"] == placed.loc["KC-RB1", "run_id"] == first.run_id
    assert after.loc["BUF-RB1", "stake"] == 48.00 and after.loc["BUF-RB1", "run_id"] == second.run_id
    # once every game has kicked off, the week is a replay: everything is priced again
    replay = pipeline.run_week(params(bankroll=1000.0), wh=wh, model=FakeModel(), now=datetime(2024, 10, 1))
    assert set(replay.bets.player_id) == {"KC-RB1", "BUF-RB1"}


def test_started_games_only_in_a_week_under_way():
    games, _ = make_frames()
    ko = datetime(2024, 9, 29, 13, 30)
    assert pipeline.started_games(games, SEASON, WEEK, ko) == {"2024_04_BAL_KC"}
    assert pipeline.started_games(games, SEASON, WEEK, datetime(2024, 9, 29, 12)) == set()
    assert pipeline.started_games(games, SEASON, WEEK, datetime(2024, 9, 29, 15)) == set()  # all: a replay


def test_line_for_a_back_who_changed_teams_is_not_priced(wh, project_home):
    """The warehouse last saw MIA-RB1 with MIA, but his line is for BUF (he signed there): his features
    describe MIA's game, so he is held back with a reason instead of priced."""
    wh.execute("UPDATE best_prop_lines SET team = 'BUF' WHERE player_id = 'MIA-RB1'")
    res = pipeline.run_week(params(bankroll=1000.0), wh=wh, model=FakeModel())
    reasons = dict(zip(res.candidates.player_id, res.candidates.reason))
    assert reasons["MIA-RB1"] == "team_changed" and reasons["KC-RB1"] == "bet"
    assert "MIA-RB1" not in set(res.bets.player_id)
    assert "had a line for another team than the one they are predicted for" in res.summary
    preds = pd.read_csv(project_home / "reports" / "weekly" / "s2024_w4_predictions.csv").set_index("player_id")
    assert preds.loc["MIA-RB1", "decision"] == "team_changed"
    # only moved players' lines: nothing is priced, and the summary says why
    wh.execute("UPDATE best_prop_lines SET team = 'NYJ'")
    res = pipeline.run_week(params(bankroll=1000.0), wh=wh, model=FakeModel())
    assert res.bets.empty and set(res.candidates.reason) == {"team_changed"}
    assert "NO BETS this week" in res.summary and "4 had a line for another team" in res.summary


# --- issue 12: caps, bankroll and files of a rerun; spreadsheet-safe CSVs; postseason weeks ----------------------
# These run on both backends (wh_url: DuckDB, then PostgreSQL).
TUESDAY, BETWEEN, AFTER = datetime(2024, 9, 24, 9), datetime(2024, 9, 29, 13, 30), datetime(2024, 10, 1)
OUT = ("reports", "weekly")


@pytest.fixture
def wh2(wh_url, project_home):
    """The same small warehouse as ``wh``, on each backend."""
    from nfl_bnn import schema, warehouse

    w = warehouse.connect(wh_url)
    schema.create_schema(w)
    games, stats = make_frames()
    w.upsert_df("mart.games", games)
    w.upsert_df("mart.player_game_stats", stats)
    w.upsert_df("best_prop_lines", line_rows(LINES))
    yield w
    w.close()


def _week_ledger(wh):
    return ledger.load_bets(wh, SEASON, WEEK).set_index("player_id")


def test_rerun_of_a_week_under_way_counts_kept_bets_toward_the_caps_and_monitoring(wh2, project_home):
    """12.1: a week staked at its cap, run again after one game kicked off: the kept bet uses the cap first,
    so the week never holds more than the cap; summary, monitoring and ledger show the same total."""
    kw = {"bankroll": 1000.0, "max_week_fraction": 0.03, "alerts": {"max_staked_share": 0.025}}
    first = pipeline.run_week(params(**kw), wh=wh2, model=FakeModel(), now=TUESDAY)
    # unconstrained 17.70 + 24.00 = 4.17% > 3%: both scaled by 0.03 / 0.0417
    assert first.bets.bet_amount.sum() == pytest.approx(29.99, abs=0.02)
    kc = _week_ledger(wh2).loc["KC-RB1", "stake"]
    second = pipeline.run_week(params(**kw), wh=wh2, model=FakeModel(), now=BETWEEN)
    led = _week_ledger(wh2)
    assert led.loc["KC-RB1", "stake"] == kc  # kept as placed
    assert 0 < led.loc["BUF-RB1", "stake"] <= round(30.0 - kc, 2)  # only the room the kept bet left
    assert led.stake.sum() <= 30.0  # never more than the week's cap (before the fix: 12.73 + 24.00 = 36.73)
    # the result, the bets file, the summary and monitoring hold the ledger's bets and total
    assert sorted(second.bets.bet_amount) == sorted(led.stake)
    csv = pd.read_csv(project_home.joinpath(*OUT, "s2024_w4_bets.csv")).set_index("player_id")
    assert csv.bet_amount.to_dict() == led.stake.to_dict() and csv.loc["KC-RB1", "kept"]
    share = led.stake.sum() / 1000.0
    assert f"= {share:.1%} of bankroll 1,000.00 ({kc:,.2f} of it kept from earlier runs)" in second.summary
    assert "high_exposure" in [a.code for a in second.alerts]  # 3.0% > 2.5%: the kept stake counts
    assert "1 bet(s) of this week kept as placed" in second.summary


def test_caps_already_used_by_kept_bets_leave_no_stake():
    """12.1, the sizing rule: committed stakes fill a game's cap and the week's cap before new bets."""
    from nfl_bnn import betting

    cands = pd.DataFrame({"model_prob": [0.6, 0.6, 0.6], "decimal_odds": [2.0, 2.0, 2.0], "edge": [0.1] * 3,
                          "confidence": [1.0] * 3, "game_id": ["g1", "g1", "g2"]})
    kw = {"kelly_fraction": 0.5, "max_bet_fraction": 0.05, "min_edge": 0.0, "min_confidence": 0.0,
          "max_week_fraction": 0.12, "max_game_fraction": 0.06}
    free = betting.size_stakes(cands, 1000.0, **kw)
    assert list(free.stake) == [30.0, 30.0, 50.0]  # game g1 at its 6% cap, week 11%
    used = betting.size_stakes(cands, 1000.0, **kw, committed_week=0.08, committed_games={"g1": 0.06})
    assert list(used.reason) == ["cap_used", "cap_used", "bet"] and list(used.stake) == [0.0, 0.0, 40.0]
    full = betting.size_stakes(cands, 1000.0, **kw, committed_week=0.12)
    assert set(full.reason) == {"cap_used"} and full.stake.sum() == 0.0
    kept = pd.DataFrame({"game_id": ["g1", "g1", "g2"], "stake": [10.0, 20.0, 5.0]})
    c = pipeline.Committed.of(kept)
    assert c.shares(1000.0) == {"committed_week": 0.035, "committed_games": {"g1": 0.03, "g2": 0.005}}


def _settle_week4(wh):
    """Week 4 played: scores for both games, stats for the backs with a line."""
    wh.execute("UPDATE mart.games SET home_score = 24, away_score = 20 WHERE season = 2024 AND week = 4")
    _, stats = make_frames(weeks_played=4)
    wh.upsert_df("mart.player_game_stats", stats[stats["week"] == 4])
    return ledger.settle(wh, SEASON, WEEK)


def test_rerun_of_a_settled_week_writes_the_ledgers_bets(wh2, project_home, monkeypatch, capsys):
    """12.4: a settled week run again (another bankroll would size other stakes): the ledger keeps the
    settled bets, and the bets file, latest_bets.csv, the summary and the CLI say exactly that."""
    from nfl_bnn import cli

    pipeline.run_week(params(bankroll=1000.0), wh=wh2, model=FakeModel(), now=TUESDAY)
    counts = _settle_week4(wh2)
    assert counts.still_open == 0
    before = _week_ledger(wh2)
    res = pipeline.run_week(params(bankroll=5000.0), wh=wh2, model=FakeModel(), now=AFTER)
    after = _week_ledger(wh2)
    pd.testing.assert_frame_equal(after, before)  # settled bets are never rewritten
    out = project_home.joinpath(*OUT)
    for name in ("s2024_w4_bets.csv", "latest_bets.csv"):
        csv = pd.read_csv(out / name).set_index("player_id")
        assert csv.bet_amount.to_dict() == after.stake.to_dict() == {"BUF-RB1": 24.0, "KC-RB1": 17.7}
        assert csv.status.to_dict() == after.status.to_dict() and csv.kept.all()
    assert res.ledger_counts.inserted == 0 and res.kept == 2 and res.bets.kept.all()
    assert "2 bet(s) of this week kept as placed" in res.summary and "NO NEW BETS" in res.summary
    assert "staked 41.70 = 0.8% of the bankroll" in res.summary
    dec = res.predictions.set_index("player_id")["decision"]
    assert dec["KC-RB1"] == dec["BUF-RB1"] == "kept"
    monkeypatch.setattr(pipeline, "run_week", lambda p: _orig_run_week(p, wh=wh2, model=FakeModel(), now=AFTER))
    cli.main(["weekly", "--season", "2024", "--week", "4", "--bankroll", "5000"])
    assert "0 bets recorded, 0 open bets replaced, 2 kept as placed" in capsys.readouterr().out


def test_bankroll_comes_from_the_ledger_unless_given(wh2, project_home):
    """12.1: without --bankroll a week is sized from the ledger: first recorded bankroll + settled profit of
    earlier weeks (same profile and paper flag); a bankroll the user gives is used as is."""
    week3 = pd.DataFrame({"player_id": ["KC-RB1"], "player_name": ["KC Back1"], "game_id": ["2024_03_BAL_KC"],
                          "side": ["over"], "line": [70.5], "odds": [-110], "model_prob": [0.6], "market_prob": [0.5],
                          "edge": [0.1], "confidence": [0.9], "bet_fraction": [0.02], "stake": [20.0]})
    rows = ledger.to_ledger_rows(week3, season=SEASON, week=3, market="player_rush_yds", profile="conservative",
                                 model_version="older-model", paper=False, bankroll=1000.0, params={}, run_id="r0",
                                 placed_at=datetime(2024, 9, 20))
    ledger.record_week(wh2, rows, season=SEASON, week=3, market="player_rush_yds", profile="conservative",
                       model_version="older-model", paper=False)
    wh2.execute("UPDATE bets SET status = 'win', profit = 100.0 WHERE week = 3")
    res = pipeline.run_week(params(), wh=wh2, model=FakeModel(), now=TUESDAY)
    assert res.params.bankroll == 1100.0
    assert "bankroll 1,100.00 (from the ledger: start 1,000.00 + settled profit 100.00 of 1 bets" in res.summary
    led = _week_ledger(wh2)
    assert set(led.bankroll) == {1100.0} and led.loc["BUF-RB1", "stake"] == 26.40  # 2.4% of 1100
    given = pipeline.run_week(params(bankroll=1000.0), wh=wh2, model=FakeModel(), now=TUESDAY)
    assert given.params.bankroll == 1000.0 and _week_ledger(wh2).loc["BUF-RB1", "stake"] == 24.0
    # the paper bankroll is another pot: no paper bets yet, so the params' bankroll
    assert pipeline.run_week(params(paper_trade=True), wh=wh2, model=FakeModel(), now=TUESDAY).params.bankroll == 1000.0
    wh2.execute("UPDATE bets SET profit = -1000.0, status = 'loss' WHERE week = 3")
    with pytest.raises(DataError, match="nothing left to stake; give --bankroll"):
        pipeline.run_week(params(), wh=wh2, model=FakeModel(), now=TUESDAY)


HOSTILE = {"KC-RB1": '=HYPERLINK("http://evil.example","click")', "BUF-RB1": "@SUM(1+1)"}


def test_formula_like_names_are_neutralised_in_csv_outputs_but_raw_in_the_ledger(wh2, project_home):
    """12.9: names from data that a spreadsheet would run as a formula get a leading apostrophe in the CSVs."""
    for pid, name in HOSTILE.items():
        wh2.execute("UPDATE best_prop_lines SET player_name = ?, book = ? WHERE player_id = ?", (name, "-1+bk", pid))
        wh2.execute("UPDATE mart.player_game_stats SET player_name = ? WHERE player_id = ?", (name, pid))
    res = pipeline.run_week(params(bankroll=1000.0), wh=wh2, model=FakeModel(), now=TUESDAY)
    assert set(res.bets.player_name) == set(HOSTILE.values())
    out = project_home.joinpath(*OUT)
    bets = pd.read_csv(out / "s2024_w4_bets.csv").set_index("player_id")
    preds = pd.read_csv(out / "s2024_w4_predictions.csv").set_index("player_id")
    for pid, name in HOSTILE.items():
        assert bets.loc[pid, "player_name"] == "'" + name and preds.loc[pid, "player_name"] == "'" + name
        assert bets.loc[pid, "book"] == "'-1+bk"
    assert list(bets.odds.unique()) == [-110]  # numbers stay numbers
    led = _week_ledger(wh2)  # the warehouse and the ledger keep the raw value
    assert led.loc["KC-RB1", "player_name"] == HOSTILE["KC-RB1"] and led.loc["BUF-RB1", "book"] == "-1+bk"


def test_spreadsheet_safe_changes_only_formula_like_text(tmp_path):
    from nfl_bnn import fileio, reports

    df = pd.DataFrame({"name": ["=1+1", "+cmd", "-2+3", "@x", "\t=1", "ok", "-110", "+5", None, "a=b"],
                       "n": [-1, 2, 3, 4, 5, 6, 7, 8, 9, 10]})
    safe = fileio.spreadsheet_safe(df)
    assert list(safe.name) == ["'=1+1", "'+cmd", "'-2+3", "'@x", "'\t=1", "ok", "-110", "+5", None, "a=b"]
    assert list(safe.n) == list(df.n) and df.name[0] == "=1+1"  # the input is not changed
    back = pd.read_csv(reports.save_csv(df, tmp_path, "x.csv"), keep_default_na=False)
    assert back.name[0] == "'=1+1" and back.name[6] == "-110"


def test_a_postseason_week_is_refused_regular_season_only(wh2, project_home, capsys, monkeypatch):
    """12.14: a playoff week gave 0 predictions and a low-volume alert; now one clear line, nothing written."""
    from nfl_bnn import cli

    post = pd.DataFrame([{"game_id": "2024_19_BUF_KC", "season": 2024, "week": 19, "season_type": "POST",
                          "gameday": datetime(2025, 1, 12).date(), "kickoff": datetime(2025, 1, 12, 16),
                          "home_team": "KC", "away_team": "BUF", "home_score": None, "away_score": None,
                          "spread_line": 3.0, "total_line": 45.0, "source": "test"}])
    wh2.upsert_df("mart.games", post)
    with pytest.raises(DataError, match="week 19 is a postseason week \\(POST games\\).*regular season only"):
        pipeline.run_week(params(week=19), wh=wh2, model=FakeModel())
    out = project_home.joinpath(*OUT)
    assert not list(out.glob("s2024_w19_*"))
    monkeypatch.setattr(pipeline, "run_week", lambda p: _orig_run_week(p, wh=wh2, model=FakeModel()))
    assert cli.main(["weekly", "--season", "2024", "--week", "19"]) == 1
    assert "regular season only" in capsys.readouterr().err


def test_production_code_has_no_test_hooks():
    """14.5 / 14.6: the run takes one value, not nine arguments; no test-only parameter or fallback remains."""
    import importlib
    import inspect
    import pkgutil

    import nfl_bnn

    assert list(inspect.signature(pipeline._compute_and_write).parameters) == ["run"]
    hooks = []
    for mod in pkgutil.iter_modules(nfl_bnn.__path__):
        m = importlib.import_module(f"nfl_bnn.{mod.name}")
        for name, fn in inspect.getmembers(m, inspect.isfunction):
            if fn.__module__ == m.__name__:
                hooks += [f"{mod.name}.{name}({p})" for p in inspect.signature(fn).parameters if p.startswith("_")]
    assert hooks == []
    src = inspect.getsource(pipeline)
    assert "getattr(model" not in src  # no duck-typed fallback for fake models


def test_line_for_a_back_who_is_not_eligible_is_named_in_the_summary(wh, project_home):
    """A book's line for a back the model does not price (a third-stringer, a back who is out) is named
    in the summary with its line and book, not dropped without a word."""
    _, stats = make_frames()
    third = stats[(stats["player_id"] == "KC-RB2") & (stats["week"] == 3)].assign(
        player_id="KC-RB3", player_name="KC Back3", carries=2, rushing_yards=7)
    wh.upsert_df("mart.player_game_stats", third)
    wh.upsert_df("best_prop_lines", line_rows([("KC-RB3", "over", 12.5, -110, -110, "bkX"),
                                               ("KC-RB3", "under", 12.5, -110, -110, "bkX")]))
    res = pipeline.run_week(params(bankroll=1000.0), wh=wh, model=FakeModel())
    assert "KC-RB3" not in set(res.predictions.player_id)
    assert "Lines not priced (1)" in res.summary and "KC Back3 (KC, line 12.5 at bkX)" in res.summary
    # a week where every line belongs to an eligible back says nothing extra
    wh.execute("DELETE FROM best_prop_lines WHERE player_id = 'KC-RB3'")
    assert "Lines not priced" not in pipeline.run_week(params(bankroll=1000.0), wh=wh, model=FakeModel()).summary

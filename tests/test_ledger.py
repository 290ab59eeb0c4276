"""The bets ledger on both backends: idempotent recording, atomicity, settlement and review by hand."""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from nfl_bnn import ledger
from nfl_bnn.errors import DatabaseError


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def wh(request, tmp_path):
    from nfl_bnn import schema, warehouse

    if request.param == "duckdb":
        w = warehouse.connect(str(tmp_path / "ledger.duckdb"))
    else:
        w = warehouse.connect(request.getfixturevalue("pg_server_url"))
    schema.create_schema(w)
    for t in ("bets", "mart.player_game_stats", "mart.games", "prop_lines"):
        w.execute(f"DELETE FROM {t}")
    yield w
    w.close()


def _bets(**changes) -> pd.DataFrame:
    base = pd.DataFrame(
        {
            "player_id": ["P1", "P2", "P3"],
            "player_name": ["Ann O'Back", "Bo Runner", "Cy Rusher"],
            "team": ["KC", "BUF", "KC"],
            "opponent": ["BAL", "MIA", "BAL"],
            "game_id": ["2024_01_BAL_KC", "2024_01_BUF_MIA", "2024_01_BAL_KC"],
            "side": ["over", "under", "over"],
            "line": [50.5, 60.5, 40.5],
            "odds": [-110, 150, -120],
            "book": ["bk", "bk", "bk"],
            "source": ["book", "book", "book"],
            "model_prob": [0.6, 0.5, 0.6],
            "market_prob": [0.5, 0.4, 0.52],
            "edge": [0.1, 0.1, 0.08],
            "confidence": [0.9, 0.8, 0.85],
            "bet_fraction": [0.011, 0.01, 0.012],
            "stake": [11.0, 10.0, 12.0],
        }
    )
    for k, v in changes.items():
        base[k] = v
    return base


def _record(wh, bets, week=1, run_id="r1", paper=False):
    rows = ledger.to_ledger_rows(
        bets, season=2024, week=week, market="player_rush_yds", profile="conservative", model_version="m1",
        paper=paper, bankroll=1000.0, params={"kelly_fraction": 0.15}, run_id=run_id,
        placed_at=datetime(2024, 9, 5, 12),
    )
    return ledger.record_week(wh, rows, season=2024, week=week, market="player_rush_yds", profile="conservative",
                              model_version="m1", paper=paper)


def test_rerun_replaces_open_bets_never_duplicates(wh):
    c1 = _record(wh, _bets())
    assert (c1.inserted, c1.replaced) == (3, 0)
    # second run of the week: P3 dropped, P1 restaked; the ledger holds the second run only
    c2 = _record(wh, _bets(stake=[20.0, 10.0, 0.0]), run_id="r2")
    assert (c2.inserted, c2.replaced) == (2, 3)
    got = ledger.load_bets(wh, 2024, 1)
    assert sorted(got.player_id) == ["P1", "P2"]
    assert got.set_index("player_id").stake.to_dict() == {"P1": 20.0, "P2": 10.0}
    assert set(got.run_id) == {"r2"}
    # a paper run of the same week is kept apart, not merged
    _record(wh, _bets(), paper=True)
    assert len(ledger.load_bets(wh, 2024, 1, paper=True)) == 3
    assert len(ledger.load_bets(wh, 2024, 1, paper=False)) == 2


def test_crash_during_insert_leaves_ledger_unchanged(wh, monkeypatch):
    _record(wh, _bets())
    before = ledger.load_bets(wh, 2024, 1).sort_values("bet_id").reset_index(drop=True)
    real_execute = type(wh).execute
    calls = {"n": 0}

    def failing(self, sql, params=()):
        if sql.startswith("INSERT INTO bets"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("killed mid-insert")
        return real_execute(self, sql, params)

    monkeypatch.setattr(type(wh), "execute", failing)
    with pytest.raises(RuntimeError, match="killed"):
        _record(wh, _bets(stake=[99.0, 99.0, 99.0]), run_id="r2")
    monkeypatch.setattr(type(wh), "execute", real_execute)
    after = ledger.load_bets(wh, 2024, 1).sort_values("bet_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)
    assert _record(wh, _bets(), run_id="r3").inserted == 3  # the next run succeeds


def _results(wh, played=("2024_01_BAL_KC", "2024_01_BUF_MIA"), yards=None):
    games = [("2024_01_BAL_KC", "BAL", "KC"), ("2024_01_BUF_MIA", "BUF", "MIA")]
    for gid, away, home in games:
        score = (20, 17) if gid in played else (None, None)
        wh.execute(
            "INSERT INTO mart.games (game_id, season, week, season_type, gameday, kickoff, home_team, away_team, "
            "home_score, away_score, source) VALUES (?, 2024, 1, 'REG', ?, ?, ?, ?, ?, ?, 'test')",
            (gid, datetime(2024, 9, 8).date(), datetime(2024, 9, 8, 13), home, away, score[0], score[1]),
        )
    for pid, gid, team, opp, y in yards or []:
        wh.execute(
            "INSERT INTO mart.player_game_stats (season, week, season_type, game_id, player_id, player_name, team, "
            "opponent, is_home, carries, rushing_yards, rushing_tds, source) "
            "VALUES (2024, 1, 'REG', ?, ?, ?, ?, ?, true, 10, ?, 0, 'test')",
            (gid, pid, pid, team, opp, y),
        )


def test_settlement_win_loss_void_and_odds_by_hand(wh):
    _record(wh, _bets())
    # P1 over 50.5 ran 60 -> win at -110: 11 * 100/110 = +10.00
    # P2 under 60.5 (+150) ran 75 -> loss: -10.00
    # P3 over 40.5: game final, no stats row -> void (did not play), 0
    _results(wh, yards=[("P1", "2024_01_BAL_KC", "KC", "BAL", 60), ("P2", "2024_01_BUF_MIA", "BUF", "MIA", 75)])
    c = ledger.settle(wh, 2024, 1)
    assert (c.win, c.loss, c.void, c.still_open) == (1, 1, 1, 0)
    got = ledger.load_bets(wh, 2024, 1).set_index("player_id")
    assert got.loc["P1", "status"] == "win" and got.loc["P1", "profit"] == pytest.approx(10.0)
    assert got.loc["P2", "status"] == "loss" and got.loc["P2", "profit"] == pytest.approx(-10.0)
    assert got.loc["P3", "status"] == "void" and got.loc["P3", "profit"] == 0.0
    # settling again changes nothing; re-running the week keeps settled bets and adds no copies
    assert ledger.settle(wh, 2024, 1).win == 0
    c2 = _record(wh, _bets(), run_id="r2")
    assert (c2.inserted, c2.kept_settled, c2.replaced) == (0, 3, 0)
    assert len(ledger.load_bets(wh, 2024, 1)) == 3


def test_unplayed_games_stay_open(wh):
    _record(wh, _bets())
    _results(wh, played=("2024_01_BAL_KC",), yards=[("P1", "2024_01_BAL_KC", "KC", "BAL", 40)])
    c = ledger.settle(wh, 2024, 1)
    # P1 over 50.5 ran 40 -> loss; P3 same game, no row -> void; P2's game not final -> open
    assert (c.loss, c.void, c.still_open) == (1, 1, 1)


def test_positive_odds_win_and_push():
    assert ledger.settle_outcome("under", 60.5, 50, 150, 10.0, True) == ("win", pytest.approx(15.0))  # 1.5x
    assert ledger.settle_outcome("over", 50.0, 50, -110, 10.0, True) == ("push", 0.0)
    assert ledger.settle_outcome("over", 50.5, None, -110, 10.0, True) == ("void", 0.0)
    assert ledger.settle_outcome("over", 50.5, 80, -110, 10.0, False)[0] == "open"


def test_closing_line_recorded_from_last_quote_before_kickoff(wh):
    _record(wh, _bets())
    _results(wh, yards=[("P1", "2024_01_BAL_KC", "KC", "BAL", 60)])
    for line, at in ((52.5, datetime(2024, 9, 8, 11)), (53.5, datetime(2024, 9, 8, 12, 55)),
                     (70.5, datetime(2024, 9, 8, 14))):  # the 14:00 quote is after kickoff: ignored
        wh.execute(
            "INSERT INTO prop_lines (season, week, player_id, player_name, team, book, market, line, over_odds, "
            "under_odds, fetched_at, source) VALUES (2024, 1, 'P1', 'x', 'KC', 'bk', 'player_rush_yds', ?, -115, "
            "-105, ?, 'test')",
            (line, at),
        )
    ledger.settle(wh, 2024, 1)
    got = ledger.load_bets(wh, 2024, 1).set_index("player_id")
    assert got.loc["P1", "closing_line"] == 53.5 and int(got.loc["P1", "closing_odds"]) == -115
    assert np.isnan(got.loc["P2", "closing_line"])


def test_weekly_review_by_hand():
    bets = pd.DataFrame(
        {
            "week": [1, 1, 2, 2, 3],
            "side": ["over", "under", "over", "over", "over"],
            "line": [50.5, 60.5, 40.5, 30.5, 20.5],
            "closing_line": [52.5, 58.5, np.nan, np.nan, 19.5],
            "status": ["win", "loss", "loss", "void", "win"],
            "stake": [11.0, 10.0, 20.0, 5.0, 30.0],
            "profit": [10.0, -10.0, -20.0, 0.0, 45.0],
            "bankroll": [100.0] * 5,
        }
    )
    w = ledger.weekly_review(bets)
    # week 1: staked 21, profit 0, ROI 0, 1-1; week 2: staked 20 (void excluded), profit -20, ROI -100%
    # week 3: staked 30, profit 45, ROI 150%; 4-week ROI at week 3: 25 / 71
    assert w.staked.tolist() == [21.0, 20.0, 30.0]
    assert w.profit.tolist() == [0.0, -20.0, 45.0]
    assert w.roi.tolist() == pytest.approx([0.0, -1.0, 1.5])
    assert w.roi_4wk.iloc[-1] == pytest.approx(25 / 71)
    assert w.win_rate.tolist() == [0.5, 0.0, 1.0]  # 1-1, 0-1 (void not counted), 1-0
    # bankroll 100 -> 100 -> 80 -> 125; drawdown at week 2: (100 - 80)/100 = 20%
    assert w.bankroll.tolist() == [100.0, 80.0, 125.0]
    assert w.drawdown.tolist() == pytest.approx([0.0, 0.2, 0.0])
    # CLV: over 50.5 closed 52.5 -> +2; under 60.5 closed 58.5 -> +2; over 20.5 closed 19.5 -> -1
    assert w.clv_yards.iloc[0] == 2.0 and w.clv_yards.iloc[2] == -1.0
    t = ledger.season_totals(bets, w)
    assert t["profit"] == 25.0 and t["roi"] == pytest.approx(25 / 71)
    assert t["max_drawdown"] == pytest.approx(0.2) and t["clv_beat_share"] == pytest.approx(2 / 3)
    text = ledger.review_text("Review 2024 (PROXY LINES)", w, t)
    assert "PROXY LINES" in text and "max drawdown 20.0%" in text


@pytest.mark.postgres
def test_database_gone_mid_insert_keeps_no_partial_rows(pg_server_url):
    from nfl_bnn import schema, warehouse

    w = warehouse.connect(pg_server_url)
    schema.create_schema(w)
    w.execute("DELETE FROM bets")
    real_execute = type(w).execute
    n = {"i": 0}

    def dying(self, sql, params=()):
        if sql.startswith("INSERT INTO bets"):
            n["i"] += 1
            if n["i"] == 2:
                self.conn.close()  # the server connection disappears mid-transaction
        return real_execute(self, sql, params)

    type(w).execute = dying
    try:
        with pytest.raises(DatabaseError, match="connection|closed"):
            _record(w, _bets())
    finally:
        type(w).execute = real_execute
    w2 = warehouse.connect(pg_server_url)
    assert w2.scalar("SELECT count(*) FROM bets") == 0
    w2.close()


def test_kept_bets_are_what_a_rerun_does_not_replace(wh):
    """12.1 / 12.4: settled bets, open bets on games that kicked off and another model version's bets are
    kept (they count toward the caps); open bets of the same model version on later games are not."""
    _record(wh, _bets())  # P1, P3 on BAL@KC; P2 on MIA@BUF; all open, model m1
    wh.execute("UPDATE bets SET status = 'win', profit = 9.09 WHERE player_id = 'P2'")
    kw = {"season": 2024, "week": 1, "market": "player_rush_yds", "profile": "conservative", "paper": False}
    assert list(ledger.kept_bets(wh, model_version="m1", **kw).player_id) == ["P2"]
    kept = ledger.kept_bets(wh, model_version="m1", keep_games=["2024_01_BAL_KC"], **kw)
    assert sorted(kept.player_id) == ["P1", "P2", "P3"] and kept.stake.sum() == 33.0
    assert len(ledger.kept_bets(wh, model_version="m2", **kw)) == 3  # another version's bets stand
    assert ledger.kept_bets(wh, model_version="m1", **{**kw, "paper": True}).empty
    assert ledger.kept_bets(wh, model_version="m1", **{**kw, "week": 2}).empty


def test_bankroll_before_a_week_is_the_first_bankroll_plus_earlier_settled_profit(wh):
    assert ledger.bankroll_before(wh, season=2024, week=3, profile="conservative", paper=False) is None
    _record(wh, _bets(), week=1)
    _record(wh, _bets(), week=2, run_id="r2")
    wh.execute("UPDATE bets SET status = 'win', profit = 10.0 WHERE week = 1 AND player_id = 'P1'")
    wh.execute("UPDATE bets SET status = 'loss', profit = -10.0 WHERE week = 1 AND player_id = 'P2'")
    wh.execute("UPDATE bets SET status = 'win', profit = 25.5 WHERE week = 1 AND player_id = 'P3'")
    wh.execute("UPDATE bets SET status = 'win', profit = 99.0 WHERE week = 2 AND player_id = 'P1'")
    lb = ledger.bankroll_before(wh, season=2024, week=2, profile="conservative", paper=False)
    assert (lb.bankroll, lb.start, lb.settled_profit, lb.settled_bets) == (1025.5, 1000.0, 25.5, 3)
    # week 2's own settled profit counts from week 3 on (every run of week 2 sizes from the same bankroll)
    assert ledger.bankroll_before(wh, season=2024, week=3, profile="conservative", paper=False).bankroll == 1124.5
    assert ledger.bankroll_before(wh, season=2025, week=1, profile="conservative", paper=False).bankroll == 1124.5
    assert ledger.bankroll_before(wh, season=2024, week=3, profile="conservative", paper=True) is None

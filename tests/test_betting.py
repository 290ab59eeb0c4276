"""Betting maths, checked against numbers worked out by hand (arithmetic in the comments)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nfl_bnn import betting as b
from nfl_bnn.errors import DataError


# --- odds -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "american, decimal",
    [
        (150, 2.5),  # +150: win 150 on 100 -> return 250/100
        (-110, 1 + 100 / 110),  # -110: win 100 on 110 -> 1.909090...
        (100, 2.0),
        (-100, 2.0),
        (-250, 1.4),  # 1 + 100/250
    ],
)
def test_american_to_decimal_and_back(american, decimal):
    assert b.american_to_decimal(american) == pytest.approx(decimal)
    back = b.decimal_to_american(decimal)
    assert back == pytest.approx(100.0 if american == -100 else american)


def test_implied_probability():
    assert b.implied_probability(-110) == pytest.approx(110 / 210)  # 0.5238
    assert b.implied_probability(150) == pytest.approx(100 / 250)  # 0.4


@pytest.mark.parametrize("bad", [0, 50, -99.5, 99, float("nan"), "abc", None])
def test_invalid_american_odds_are_refused_with_reason(bad):
    with pytest.raises(DataError, match="odds"):
        b.american_to_decimal(bad)


def test_profit_on_win_positive_and_negative_odds():
    assert b.profit_on_win(100, 150) == pytest.approx(150.0)  # +150 pays 1.5x the stake
    assert b.profit_on_win(110, -110) == pytest.approx(100.0)  # -110 pays 100/110 of the stake
    assert b.profit_on_win(10, -110) == pytest.approx(10 * 100 / 110)  # 9.0909


# --- margin removal -------------------------------------------------------------------------------
def test_margin_removal_symmetric_market_gives_half():
    # -110/-110: implied 0.5238 each, sum 1.0476; every method must give 0.5/0.5
    for m in ("multiplicative", "power", "shin"):
        o, u = b.remove_margin(-110, -110, m)
        assert (o, u) == (pytest.approx(0.5), pytest.approx(0.5))


def test_margin_removal_asymmetric_by_hand():
    # -150 / +130: pi_o = 150/250 = 0.6, pi_u = 100/230 = 0.434783, S = 1.034783
    pi_o, pi_u = 0.6, 100 / 230
    s = pi_o + pi_u
    # multiplicative: 0.6 / 1.034783 = 0.579832
    o, u = b.remove_margin(-150, 130, "multiplicative")
    assert o == pytest.approx(pi_o / s) and o == pytest.approx(0.579832, abs=1e-6)
    assert o + u == pytest.approx(1.0)
    # Shin with two outcomes equals the additive rule: 0.6 - (S - 1)/2 = 0.6 - 0.017391 = 0.582609
    o, u = b.remove_margin(-150, 130, "shin")
    assert o == pytest.approx(pi_o - (s - 1) / 2) and o == pytest.approx(0.582609, abs=1e-6)
    assert o + u == pytest.approx(1.0)
    # power: p = pi**k with 0.6**k + 0.434783**k = 1 -> k = 1.0615 gives 0.583983 / 0.416017
    o, u = b.remove_margin(-150, 130, "power")
    k = math.log(o) / math.log(pi_o)
    assert math.log(u) / math.log(pi_u) == pytest.approx(k)  # one exponent for both sides
    assert o + u == pytest.approx(1.0)
    assert o == pytest.approx(0.583983, abs=1e-6)
    # the longshot (under) carries more of the margin under power and Shin than multiplicative
    assert b.remove_margin(-150, 130, "power")[1] < b.remove_margin(-150, 130, "multiplicative")[1]


def test_unknown_margin_method():
    with pytest.raises(DataError, match="margin method"):
        b.remove_margin(-110, -110, "additive")  # type: ignore[arg-type]


# --- Kelly and confidence -------------------------------------------------------------------------
def test_kelly_by_hand():
    # p = 0.55 at -110 (d = 210/110): p*d = 1.05, f* = 0.05 / (100/110) = 0.055
    assert b.kelly_fraction_full(0.55, 210 / 110) == pytest.approx(0.055)
    # p = 0.5 at +150 (d = 2.5): f* = (1.25 - 1) / 1.5 = 1/6
    assert b.kelly_fraction_full(0.5, 2.5) == pytest.approx(1 / 6)
    # negative expected value -> 0, never negative; NaN -> 0
    assert b.kelly_fraction_full(0.5, 210 / 110) == 0.0
    assert b.kelly_fraction_full(float("nan"), 2.0) == 0.0


def test_confidence_share_of_draws_with_positive_ev():
    # at d = 2, EV > 0 iff p > 0.5: draws 0.5 (no, EV = 0), 0.52 (yes), 0.6 (yes), 0.4 (no) -> 2/4
    assert b.confidence(np.array([0.5, 0.52, 0.6, 0.4]), 2.0) == 0.5


def test_evaluate_lines_by_hand():
    lines = pd.DataFrame(
        {"player_id": ["p1", "p1"], "side": ["over", "under"], "line": [50.5, 50.5],
         "over_odds": [-110, -110], "under_odds": [-110, -110], "book": ["bk", "bk"]}
    )
    draws = np.array([[0.6, 0.6], [0.5, 0.5], [0.55, 0.55], [0.45, 0.45]])  # P(over) per draw
    ev = b.evaluate_lines(lines, draws, "multiplicative")
    # over: model = mean(0.6, 0.5, 0.55, 0.45) = 0.525; market 0.5; edge 0.025
    # confidence: EV > 0 iff p > 110/210 = 0.5238 -> 0.6 and 0.55 -> 2/4 = 0.5
    over = ev.iloc[0]
    assert over.model_prob == pytest.approx(0.525) and over.market_prob == pytest.approx(0.5)
    assert over.edge == pytest.approx(0.025) and over.confidence == 0.5
    assert over.ev == pytest.approx(0.525 * 210 / 110 - 1)  # 0.00227
    # under: draws 0.4, 0.5, 0.45, 0.55 -> 0.475, edge -0.025, only 0.55 > 0.5238 -> 0.25
    under = ev.iloc[1]
    assert under.model_prob == pytest.approx(0.475) and under.edge == pytest.approx(-0.025)
    assert under.confidence == 0.25
    best = b.best_side_per_player(ev)
    assert len(best) == 1 and best.iloc[0].side == "over"


# --- stake sizing with caps -----------------------------------------------------------------------
def _cands():
    # d = 2.0 (+100) for simple arithmetic: full Kelly = 2p - 1
    return pd.DataFrame(
        {
            "player_id": ["A", "B", "C", "D", "E", "F", "G"],
            "game_id": ["G1", "G1", "G2", "G2", "G3", "G3", "G3"],
            "model_prob": [0.60, 0.55, 0.56, 0.60, 0.60, 0.51, float("nan")],
            "decimal_odds": [2.0, 2.0, 2.0, 2.0, 2.0, 210 / 110, 2.0],
            "edge": [0.10, 0.05, 0.06, 0.01, 0.10, 0.04, 0.10],
            "confidence": [0.9, 0.8, 0.8, 0.9, 0.5, 0.9, 0.9],
        }
    )


def test_size_stakes_filters_and_caps_by_hand():
    out = b.size_stakes(
        _cands(), 1000.0, kelly_fraction=0.25, max_bet_fraction=0.03, min_edge=0.03, min_confidence=0.6,
        max_week_fraction=0.05, max_game_fraction=0.04,
    )
    r = dict(zip(out.player_id, out.reason))
    # D: edge 0.01 < 0.03; E: confidence 0.5 < 0.6; F: 0.51 * 1.909 = 0.9736 < 1 -> no EV; G: NaN
    assert r == {"A": "bet", "B": "bet", "C": "bet", "D": "edge", "E": "confidence", "F": "no_ev", "G": "nan"}
    # Kelly x 0.25: A = 0.25*(1.2-1) = 0.05 -> capped 0.03; B = 0.25*0.1 = 0.025; C = 0.25*0.12 = 0.03
    # game G1: 0.03 + 0.025 = 0.055 > 0.04 -> x 0.04/0.055: A = 0.021818, B = 0.018182; G2: C = 0.03
    # week: 0.021818 + 0.018182 + 0.03 = 0.07 > 0.05 -> x 5/7: A = 0.015584, B = 0.012987, C = 0.021429
    # stakes on 1000, floored to cents: 15.58, 12.98, 21.42 (sum 49.98 <= 50)
    s = dict(zip(out.player_id, out.stake))
    assert (s["A"], s["B"], s["C"]) == (15.58, 12.98, 21.42)
    assert s["D"] == s["E"] == s["F"] == s["G"] == 0.0
    assert out.stake.sum() <= 0.05 * 1000
    assert out.kelly_full.iloc[0] == pytest.approx(0.2)


def test_size_stakes_never_negative_nan_or_over_bankroll(rng):
    n = 200
    c = pd.DataFrame(
        {
            "game_id": rng.integers(0, 5, n).astype(str),
            "model_prob": rng.uniform(0, 1, n),
            "decimal_odds": rng.uniform(1.05, 6, n),
            "edge": rng.uniform(-0.2, 0.3, n),
            "confidence": rng.uniform(0, 1, n),
        }
    )
    c.loc[::17, "model_prob"] = np.nan
    out = b.size_stakes(c, 50.0, kelly_fraction=1.0, max_bet_fraction=1.0, min_edge=0.0, min_confidence=0.0)
    assert np.isfinite(out.stake).all() and (out.stake >= 0).all()
    assert out.stake.sum() <= 50.0 + 1e-9


@pytest.mark.parametrize("kw", [{"kelly_fraction": 0.0}, {"kelly_fraction": 1.5}, {"max_bet_fraction": -0.1},
                                {"max_week_fraction": 2.0}, {"max_game_fraction": 0.0}])
def test_size_stakes_rejects_fractions_outside_unit_interval(kw):
    args = dict(kelly_fraction=0.15, max_bet_fraction=0.03, min_edge=0.03, min_confidence=0.6)
    args.update(kw)
    with pytest.raises(DataError, match=r"must be in \(0, 1\]"):
        b.size_stakes(_cands(), 1000.0, **args)


@pytest.mark.parametrize("bankroll", [-5.0, 0.0, float("nan"), "1000"])
def test_size_stakes_rejects_bad_bankroll(bankroll):
    with pytest.raises(DataError, match="bankroll"):
        b.size_stakes(_cands(), bankroll, kelly_fraction=0.15, max_bet_fraction=0.03, min_edge=0.03,
                      min_confidence=0.6)


# --- line validation ------------------------------------------------------------------------------
def _lines(**over):
    row = {"player_id": "p1", "player_name": "Joe Back", "side": "over", "line": 55.5, "over_odds": -110,
           "under_odds": -110, "book": "bk", "market": "player_rush_yds"}
    row.update(over)
    return pd.DataFrame([row])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"over_odds": 0}, "over_odds"),
        ({"under_odds": 50}, "under_odds"),
        ({"over_odds": -99}, "invalid"),
        ({"line": -3.5}, "negative"),
        ({"line": 55.0}, "half-yard"),
        ({"line": 55.25}, "half-yard"),
        ({"side": "middle"}, "side"),
    ],
)
def test_validate_lines_refuses_bad_rows(change, message):
    with pytest.raises(DataError, match=message) as exc:
        b.validate_lines(_lines(**change))
    assert "Joe Back" in str(exc.value)  # names the row


def test_validate_lines_refuses_duplicates():
    two = pd.concat([_lines(book="A"), _lines(book="B", line=56.5)], ignore_index=True)
    with pytest.raises(DataError, match="2 over lines.*books: A, B"):
        b.validate_lines(two)
    ok = pd.concat([_lines(), _lines(side="under")], ignore_index=True)
    assert len(b.validate_lines(ok)) == 2

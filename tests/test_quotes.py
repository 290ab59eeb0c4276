"""nfl_bnn.quotes: the one validation, as-of selection, best price per side, one-sided quotes, open/close."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nfl_bnn import quotes as q
from nfl_bnn.errors import DataError


def frame(rows):
    """Quotes from (player, book, line, over, under, fetched_at) tuples; season 2024 week 5, one game."""
    df = pd.DataFrame(rows, columns=["player_name", "book", "line", "over_odds", "under_odds", "fetched_at"])
    df["season"], df["week"], df["market"], df["source"] = 2024, 5, "player_rush_yds", "test"
    df["game_id"], df["team"] = "2024_05_AAA_BBB", "BBB"
    df["player_id"] = df["player_name"].map(lambda n: f"id-{n}")
    for c in ("over_odds", "under_odds"):
        df[c] = pd.array(df[c], dtype="Int64")
    df["fetched_at"] = pd.to_datetime(df["fetched_at"])
    return df


def test_validation_rejects_each_bad_row_with_a_reason_and_keeps_the_rest():
    df = frame([
        ("Good", "A", 50.5, -110, -110, "2024-10-01 10:00"),
        ("Absurd", "A", 50.5, 100000, -110, "2024-10-01 10:00"),   # issue 12.2: +100000
        ("Long", "A", 50.5, -1200, 700, "2024-10-01 10:00"),
        ("Junk", "A", -0.5, -110, -110, "2024-10-01 10:00"),        # BettingPros junk line
        ("Huge", "A", 1e9, -110, -110, "2024-10-01 10:00"),         # issue 12.3
        ("Zero", "A", 0.0, -110, -110, "2024-10-01 10:00"),
        ("Fine", "A", 50.3, -110, -110, "2024-10-01 10:00"),
        ("Between", "A", 50.5, -50, -110, "2024-10-01 10:00"),
        ("Whole", "A", 50.0, -110, -110, "2024-10-01 10:00"),       # accepted: priced with pushes
        ("OneSided", "A", 40.5, -115, None, "2024-10-01 10:00"),    # accepted
        ("Edge", "A", 300.0, -1000, 1000, "2024-10-01 10:00"),      # the bounds themselves are fine
        ("NoOdds", "A", 40.5, None, None, "2024-10-01 10:00"),
    ])
    good, bad = q.validate_quote_frame(df, "test")
    assert sorted(good["player_name"]) == ["Edge", "Good", "OneSided", "Whole"]
    reasons = dict(zip(bad["player_name"], bad["reason"]))
    assert "over_odds +100000 is outside the plausible range [-1000, +1000]" in reasons["Absurd"]
    assert "over_odds -1200" in reasons["Long"] and "under_odds" not in reasons["Long"]
    assert "line -0.5 is outside (0, 300]" in reasons["Junk"]
    assert "line 1e+09 is outside" in reasons["Huge"]
    assert "line 0 is outside" in reasons["Zero"]
    assert "multiple of 0.5" in reasons["Fine"]
    assert "not an American price" in reasons["Between"]
    assert "neither over_odds nor under_odds" in reasons["NoOdds"]
    summary = q.rejection_summary(bad)
    assert summary.startswith("8 quote(s) refused") and "implausible odds" in summary


def test_validation_needs_its_columns():
    with pytest.raises(DataError, match="missing column.*under_odds"):
        q.validate_quote_frame(pd.DataFrame({"player_name": ["x"], "book": ["b"], "line": [1.5],
                                             "over_odds": [-110]}), "here")


def test_latest_per_book_never_returns_a_quote_fetched_after_as_of():
    df = frame([
        ("P", "A", 50.5, -110, -110, "2024-10-01 10:00"),
        ("P", "A", 52.5, -110, -110, "2024-10-02 10:00"),
        ("P", "A", 60.5, -110, -110, "2024-10-03 10:00"),   # after the as-of time
        ("P", "B", 49.5, -110, -110, "2024-10-03 09:00"),   # book B only quotes after it
    ])
    got = q.latest_per_book(df, "2024-10-02T12:00:00Z")
    assert list(got["book"]) == ["A"] and list(got["line"]) == [52.5]
    # exactly at the cutoff counts as seen; a zone is converted to UTC (12:00+02:00 == 10:00Z)
    got = q.latest_per_book(df, "2024-10-02T12:00:00+02:00")
    assert list(got["line"]) == [52.5]
    assert q.latest_per_book(df, "2024-09-30").empty


def test_no_quote_after_as_of_is_ever_used_randomised():
    rng = np.random.default_rng(7)
    rows = []
    for i in range(300):
        rows.append((f"P{i % 7}", f"B{i % 4}", float(rng.integers(20, 120)) + 0.5, -110, int(rng.choice([-120, 105])),
                     pd.Timestamp("2024-10-01") + pd.Timedelta(minutes=int(rng.integers(0, 5000)))))
    df = frame(rows)
    for cut in pd.date_range("2024-10-01", periods=12, freq="7h"):
        best = q.best_as_of(df, cut)
        assert (best["fetched_at"] <= cut).all()
        lpb = q.latest_per_book(df, cut)
        assert (lpb["fetched_at"] <= cut).all()
        # and it is the latest one seen: no earlier-than-latest quote of the same book survives
        seen = df[df["fetched_at"] <= cut]
        expect = seen.groupby(["player_name", "book"])["fetched_at"].max()
        assert lpb.set_index(["player_name", "book"])["fetched_at"].sort_index().equals(expect.sort_index())


def test_per_row_as_of_cutoff():
    df = frame([
        ("P", "A", 50.5, -110, -110, "2024-10-01 10:00"),
        ("P", "A", 55.5, -110, -110, "2024-10-01 20:00"),
        ("Q", "A", 30.5, -110, -110, "2024-10-01 10:00"),
        ("Q", "A", 33.5, -110, -110, "2024-10-01 20:00"),
    ])
    cut = pd.Series([pd.Timestamp("2024-10-01 12:00")] * 2 + [pd.Timestamp("2024-10-02 00:00")] * 2, index=df.index)
    best = q.best_as_of(df, cut)
    assert best.set_index(["player_name", "side"]).loc[("P", "over"), "line"] == 50.5
    assert best.set_index(["player_name", "side"]).loc[("Q", "over"), "line"] == 33.5
    with pytest.raises(DataError, match="aligned"):
        q.latest_per_book(df, cut.iloc[:2])


def test_best_price_per_side_keeps_that_books_both_sides():
    df = frame([
        ("P", "A", 50.5, -115, -105, "2024-10-01 10:00"),
        ("P", "B", 49.5, -120, 100, "2024-10-01 10:00"),
        ("P", "C", 50.5, -105, -115, "2024-10-01 10:00"),
        ("P", "D", 51.5, -110, -110, "2024-10-01 10:00"),
        ("P", "E", 51.5, -110, -105, "2024-10-01 10:00"),
    ])
    best = q.best_as_of(df, "2024-10-02").set_index("side")
    assert tuple(best.loc["over", ["book", "line", "over_odds", "under_odds"]]) == ("B", 49.5, -120, 100)
    assert tuple(best.loc["under", ["book", "line", "over_odds", "under_odds"]]) == ("E", 51.5, -110, -105)
    assert best["two_sided"].all() and list(best["devig_book"]) == list(best["book"])
    assert set(best.reset_index().columns) == set(q.BEST_COLUMNS)


def test_one_sided_best_quote_priced_from_another_books_market_or_flagged():
    df = frame([
        ("P", "A", 49.5, -105, None, "2024-10-01 10:00"),   # best over, one-sided
        ("P", "B", 49.5, -115, -105, "2024-10-01 10:00"),   # two-sided at that line, margin 4.4%
        ("P", "C", 49.5, -120, -110, "2024-10-01 10:00"),   # two-sided, larger margin
        ("Q", "A", 30.5, None, -110, "2024-10-01 10:00"),   # only quote: no two-sided market
        ("R", "A", 20.5, -110, -110, "2024-10-01 10:00"),
    ])
    best = q.best_as_of(df, "2024-10-02").set_index(["player_name", "side"])
    over = best.loc[("P", "over")]
    assert (over["book"], over["over_odds"], over["under_odds"] is pd.NA) == ("A", -105, True)
    assert (over["two_sided"], over["devig_book"], over["devig_over_odds"], over["devig_under_odds"]) == \
        (True, "B", -115, -105)
    q_under = best.loc[("Q", "under")]
    assert not q_under["two_sided"] and q_under["devig_book"] is None
    assert ("Q", "over") not in best.index
    assert best.loc[("R", "over"), "two_sided"]


def test_unpriceable_best_quote_does_not_hide_a_priceable_one():
    df = frame([
        ("P", "A", 47.5, -110, None, "2024-10-01 10:00"),   # lowest line, one-sided, no market at 47.5
        ("P", "B", 49.5, -115, -105, "2024-10-01 10:00"),
    ])
    best = q.best_as_of(df, "2024-10-02").set_index("side")
    assert (best.loc["over", "book"], best.loc["over", "line"], bool(best.loc["over", "two_sided"])) == \
        ("B", 49.5, True)


def test_bad_quote_never_blocks_other_players():
    df = frame([
        ("Bad", "A", 1e9, -110, -110, "2024-10-01 10:00"),
        ("Worse", "A", 50.5, 100000, -110, "2024-10-01 10:00"),
        ("Good", "A", 50.5, -110, -110, "2024-10-01 10:00"),
    ])
    best = q.best_as_of(df, "2024-10-02")
    assert sorted(set(best["player_name"])) == ["Good"]


def test_a_later_bad_quote_does_not_hide_the_earlier_good_one():
    df = frame([
        ("P", "A", 50.5, -110, -110, "2024-10-01 10:00"),
        ("P", "A", 50.5, 100000, -110, "2024-10-01 11:00"),
    ])
    best = q.best_as_of(df, "2024-10-02").set_index("side")
    assert best.loc["over", "over_odds"] == -110


def test_open_close_before_kickoff():
    df = frame([
        ("P", "A", 50.5, -110, -110, "2024-10-01 10:00"),
        ("P", "A", 52.5, -115, -105, "2024-10-02 10:00"),
        ("P", "A", 58.5, -110, -110, "2024-10-06 18:00"),   # after kickoff: ignored
        ("P", "B", 51.5, -110, -110, "2024-10-03 10:00"),
    ])
    oc = q.open_close(df, {"2024_05_AAA_BBB": pd.Timestamp("2024-10-06T17:00:00Z")}).set_index("book")
    assert (oc.loc["A", "open_line"], oc.loc["A", "close_line"], oc.loc["A", "n_quotes"]) == (50.5, 52.5, 2)
    assert oc.loc["A", "close_over_odds"] == -115
    assert (oc.loc["B", "open_line"], oc.loc["B", "close_line"]) == (51.5, 51.5)
    # a game without a kickoff cannot be told "before kickoff": left out
    assert q.open_close(df, {}).empty


def test_empty_inputs():
    empty = frame([])
    assert q.best_as_of(empty, "2024-10-02").empty
    assert list(q.best_as_of(empty, "2024-10-02").columns) == q.BEST_COLUMNS
    with pytest.raises(DataError, match="not a time"):
        q.to_utc_naive("NaT")


def test_kickoffs_utc_converts_eastern_wall_clock():
    games = pd.DataFrame({"game_id": ["g1", "g2"], "kickoff": pd.to_datetime(["2024-10-06 13:00", "2024-12-01 13:00"])})
    ko = q.kickoffs_utc(games)
    assert ko["g1"] == pd.Timestamp("2024-10-06 17:00") and ko["g2"] == pd.Timestamp("2024-12-01 18:00")

"""Game lines stamped with their fetch time (issue 15.6): import, as-of selection, and the weekly feature.

The week-4 warehouse of tests/_fakes.py: week 4 of 2024 is BAL@KC (kickoff 13:00 US/Eastern = 17:00 UTC
on 2024-09-29) and MIA@BUF (18:00 UTC), schedule lines spread 3.0 (home favoured) and total 45.0.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from _fakes import SEASON, WEEK, FakeModel, load_week4, make_frames

from nfl_bnn import features, game_lines, pipeline
from nfl_bnn.cli import main
from nfl_bnn.errors import DataError
from nfl_bnn.ingest.game_lines import import_game_lines
from nfl_bnn.teams import CURRENT, FULL_NAMES, from_full_name
from nfl_bnn.warehouse import connect, load_game_lines, load_game_lines_as_of

FIXTURES = Path(__file__).parent / "fixtures"
LIVE = FIXTURES / "odds_api_game_lines.json"
HISTORICAL = FIXTURES / "odds_api_game_lines_historical.json"
KC, BUF = "2024_04_BAL_KC", "2024_04_MIA_BUF"
HEADER = "game_id,book,fetched_at,spread_line,total_line\n"


def csv(tmp_path, body, name="game_lines.csv"):
    p = tmp_path / name
    p.write_text(HEADER + body)
    return p


@pytest.fixture
def wh(wh_url):
    with connect(wh_url) as w:
        load_week4(w, lines=None)
        yield w


def _rows(wh):
    df = load_game_lines(wh, SEASON, WEEK)
    return {(r.game_id, r.book, r.fetched_at.isoformat()): (r.spread_line, r.total_line) for r in df.itertuples()}


def test_odds_api_import_round_trip_and_reimport_changes_nothing(wh):
    counts, notes = import_game_lines(wh, [LIVE], "odds-api")
    assert (counts.inserted, counts.updated, counts.skipped) == (4, 0, 0)
    assert notes == [f"{LIVE}: skipped 1 quote(s) of games not in mart.games, 0 fetched at or after kickoff"]
    rows = _rows(wh)
    # KC home at -3.5 is the schedule's +3.5 (home margin); BUF home at +1.5 is -1.5; FanDuel's total came
    # 5 minutes after its spread: two rows, each with the value quoted then (the other NULL)
    assert set(rows) == {(KC, "DraftKings", "2024-09-24T14:00:00"), (KC, "FanDuel", "2024-09-24T15:00:00"),
                         (KC, "FanDuel", "2024-09-24T15:05:00"), (BUF, "DraftKings", "2024-09-24T14:00:00")}
    assert rows[(KC, "DraftKings", "2024-09-24T14:00:00")] == (3.5, 46.5)
    assert rows[(BUF, "DraftKings", "2024-09-24T14:00:00")] == (-1.5, 44.0)
    fd_spread, fd_total = rows[(KC, "FanDuel", "2024-09-24T15:00:00")], rows[(KC, "FanDuel", "2024-09-24T15:05:00")]
    assert fd_spread[0] == 2.5 and pd.isna(fd_spread[1]) and pd.isna(fd_total[0]) and fd_total[1] == 47.5
    df = load_game_lines(wh, SEASON, WEEK)
    assert set(df["season"]) == {2024} and set(df["week"]) == {4} and set(df["source"]) == {"odds-api"}
    again, _ = import_game_lines(wh, [LIVE], "odds-api")
    assert (again.inserted, again.updated, again.skipped) == (0, 0, 4)
    assert len(load_game_lines(wh, SEASON)) == 4


def test_historical_snapshot_takes_its_timestamp_and_the_main_line(wh):
    import_game_lines(wh, [HISTORICAL], "odds-api")
    # decimal odds; the -10.5 alternate (3.10) is not the main line; fetched_at = the snapshot's timestamp
    assert _rows(wh) == {(KC, "DraftKings", "2024-09-28T12:00:00"): (6.5, 50.5)}


def test_csv_round_trip_times_to_utc(wh, tmp_path):
    f = csv(tmp_path, f"{KC},BookA,2024-09-24T10:00:00-04:00,3,45.5\n{BUF},BookA,2024-09-24 15:00,,43\n")
    counts, _ = import_game_lines(wh, [f], "csv")
    assert counts.inserted == 2
    rows = _rows(wh)
    assert rows[(KC, "BookA", "2024-09-24T14:00:00")] == (3.0, 45.5)
    assert pd.isna(rows[(BUF, "BookA", "2024-09-24T15:00:00")][0])
    assert import_game_lines(wh, [f], "csv")[0].skipped == 2


@pytest.mark.parametrize("body, message", [
    (f"{KC},BookA,2024-09-24T14:00:00Z,31,45\n", r"spread_line beyond \+-30"),
    (f"{KC},BookA,2024-09-24T14:00:00Z,3,80\n", "total_line outside 25-70"),
    (f"{KC},BookA,2024-09-24T14:00:00Z,3,20.5\n", "total_line outside 25-70"),
    (f"{KC},BookA,2024-09-24T14:00:00Z,,\n", "neither spread_line nor total_line"),
    (f"{KC},BookA,next tuesday,3,45\n", "unreadable fetched_at"),
    (f"{KC},BookA,2099-09-24T14:00:00Z,3,45\n", "in the future"),
    (f"{KC},,2024-09-24T14:00:00Z,3,45\n", "empty book"),
    (f"{KC},BookA,2024-09-24T14:00:00Z,KC -3,45\n", "non-numeric value 'KC -3'"),
    ("2024_04_BAL_XX,BookA,2024-09-24T14:00:00Z,3,45\n", "game_id not in mart.games"),
    (f"{KC},BookA,2024-09-24T14:00:00Z,3,45\n{KC},BookA,2024-09-24T14:00:00Z,4,45\n", "two different spread_line"),
])
def test_bad_input_is_refused_and_nothing_is_written(wh, tmp_path, body, message):
    good = csv(tmp_path, f"{BUF},BookA,2024-09-24T14:00:00Z,-1,44\n", "good.csv")
    import_game_lines(wh, [good], "csv")
    before = load_game_lines(wh, SEASON)
    extra = csv(tmp_path, f"{KC},BookB,2024-09-24T14:00:00Z,3,45\n", "also_good.csv")
    with pytest.raises(DataError, match=message):
        import_game_lines(wh, [extra, csv(tmp_path, f"{BUF},BookC,2024-09-24T14:00:00Z,-2,44\n" + body)], "csv")
    pd.testing.assert_frame_equal(load_game_lines(wh, SEASON), before)


def test_wrong_files_are_one_clear_error(wh, tmp_path):
    short = tmp_path / "short.csv"
    short.write_text(f"game_id,book,fetched_at\n{KC},BookA,2024-09-24T14:00:00Z\n")
    with pytest.raises(DataError, match="missing column.*spread_line, total_line"):
        import_game_lines(wh, [short], "csv")
    with pytest.raises(DataError, match="no spreads or totals quotes found"):
        import_game_lines(wh, [FIXTURES / "odds_api_historical.json"], "odds-api")  # a props response
    error = tmp_path / "error.json"
    error.write_text('{"message": "Usage quota has been reached", "error_code": "OUT_OF_USAGE_CREDITS"}')
    with pytest.raises(DataError, match="expected The Odds API v4 odds events"):
        import_game_lines(wh, [error], "odds-api")
    with pytest.raises(DataError, match="unknown NFL team 'Alabama Crimson Tide'"):
        from_full_name("Alabama Crimson Tide", "f.json (home_team)")
    assert from_full_name("St. Louis Rams", "f") == "LA" and from_full_name("Washington Commanders", "f") == "WAS"
    assert set(FULL_NAMES.values()) == CURRENT  # every franchise has its full name
    with pytest.raises(DataError, match="does not exist"):
        import_game_lines(wh, [tmp_path / "none.json"], "odds-api")


def test_quotes_fetched_at_or_after_kickoff_are_skipped(wh, tmp_path):
    # kickoff of BAL@KC: 2024-09-29 13:00 US/Eastern = 17:00 UTC
    f = csv(tmp_path, f"{KC},BookA,2024-09-29T16:59:00Z,3,45\n{KC},BookA,2024-09-29T17:00:00Z,7,45\n")
    counts, notes = import_game_lines(wh, [f], "csv")
    assert counts.inserted == 1 and "1 fetched at or after kickoff" in notes[0]
    assert list(_rows(wh).values()) == [(3.0, 45.0)]


def test_as_of_uses_only_quotes_fetched_by_then(wh):
    import_game_lines(wh, [LIVE, HISTORICAL], "odds-api")
    tuesday = load_game_lines_as_of(wh, SEASON, WEEK, "2024-09-25T00:00:00Z").set_index("game_id")
    # the median of DraftKings' and FanDuel's latest: spread (3.5, 2.5), total (46.5, 47.5); not the 28th's 6.5
    assert tuple(tuesday.loc[KC, ["spread_line", "total_line", "n_books"]]) == (3.0, 47.0, 2)
    assert tuple(tuesday.loc[BUF, ["spread_line", "total_line", "n_books"]]) == (-1.5, 44.0, 1)
    assert tuesday.loc[KC, "last_fetched_at"] == pd.Timestamp("2024-09-24 15:05")
    saturday = load_game_lines_as_of(wh, SEASON, WEEK, "2024-09-28T12:00:00Z").set_index("game_id")
    assert tuple(saturday.loc[KC, ["spread_line", "total_line"]]) == (4.5, 49.0)  # DraftKings moved to 6.5 / 50.5
    a_minute_before = load_game_lines_as_of(wh, SEASON, WEEK, "2024-09-28T11:59:00Z").set_index("game_id")
    assert tuple(a_minute_before.loc[KC, ["spread_line", "total_line"]]) == (3.0, 47.0)
    one_book = load_game_lines_as_of(wh, SEASON, WEEK, "2024-09-28T13:00:00Z", book="FanDuel").set_index("game_id")
    assert tuple(one_book.loc[KC, ["spread_line", "total_line"]]) == (2.5, 47.5) and BUF not in one_book.index
    # a zoned as-of time is converted: 10:00 EDT on the 24th = 14:00 UTC, only DraftKings had quoted
    early = load_game_lines_as_of(wh, SEASON, WEEK, "2024-09-24T10:00:00-04:00").set_index("game_id")
    assert tuple(early.loc[KC, ["spread_line", "total_line", "n_books"]]) == (3.5, 46.5, 1)
    assert load_game_lines_as_of(wh, SEASON, WEEK, "2024-09-01T00:00:00Z").empty


def test_without_game_lines_no_frame_changes():
    games, stats = make_frames()
    empty = game_lines.lines_as_of(pd.DataFrame(columns=["game_id", "book", "fetched_at", *game_lines.VALUES]),
                                   "2024-09-25")
    same, note = game_lines.bet_time_games(games, empty, SEASON, WEEK)
    assert same is games and note == game_lines.CLOSING_NOTE
    pd.testing.assert_frame_equal(features.for_week(stats, same, SEASON, WEEK), features.for_week(stats, games, SEASON, WEEK))


def test_bet_time_lines_change_only_that_weeks_implied_total():
    games, stats = make_frames()
    current = pd.DataFrame({"game_id": [KC], "spread_line": [7.0], "total_line": [None], "n_books": [1],
                            "first_fetched_at": [pd.Timestamp("2024-09-24")], "last_fetched_at": [pd.Timestamp("2024-09-24")]})
    new, note = game_lines.bet_time_games(games, current, SEASON, WEEK)
    changed = (new[["spread_line", "total_line"]] != games[["spread_line", "total_line"]]).any(axis=1)
    assert list(new.loc[changed, "game_id"]) == [KC] and new.loc[changed, "spread_line"].item() == 7.0
    assert new.loc[changed, "total_line"].item() == 45.0  # no bet-time total: the schedule's, and the note says so
    assert "for 1 of 2 games" in note and "the missing value of 1" in note
    before = features.for_week(stats, games, SEASON, WEEK).set_index("player_id")["implied_total"]
    after = features.for_week(stats, new, SEASON, WEEK).set_index("player_id")["implied_total"]
    assert after["KC-RB1"] == 45 / 2 + 7 / 2 and after["BAL-RB1"] == 45 / 2 - 7 / 2
    assert before["KC-RB1"] == 45 / 2 + 3 / 2
    assert after.drop(["KC-RB1", "KC-RB2", "BAL-RB1", "BAL-RB2"]).equals(before.drop(["KC-RB1", "KC-RB2", "BAL-RB1",
                                                                                       "BAL-RB2"]))


class RecordingModel(FakeModel):
    """The fake predictor, keeping the feature frame it was asked to predict."""

    seen: pd.DataFrame | None = None

    def predict(self, X):
        RecordingModel.seen = X.copy()
        return super().predict(X)


def test_weekly_run_uses_the_line_known_at_as_of(week4_wh, project_home, identity_blend, caplog):
    def implied(as_of):
        res = pipeline.run_week(pipeline.load_weekly_params(SEASON, WEEK, as_of=as_of, lines="proxy"),
                                wh=week4_wh, model=RecordingModel())
        return RecordingModel.seen.set_index("player_id")["implied_total"], res.summary

    with caplog.at_level("DEBUG", logger="nfl_bnn.game_lines"):
        closing, summary = implied("2024-09-25T00:00:00Z")  # no game lines imported: the schedule's
    assert closing["KC-RB1"] == 24.0 and closing["MIA-RB1"] == 21.0
    assert "closing lines from the schedule" in summary
    assert [r.levelname for r in caplog.records if r.name == "nfl_bnn.game_lines"] == ["DEBUG"]  # the default
    caplog.clear()
    import_game_lines(week4_wh, [LIVE, HISTORICAL], "odds-api")
    tuesday, summary = implied("2024-09-25T00:00:00Z")
    assert tuesday["KC-RB1"] == 47 / 2 + 3 / 2 and tuesday["BAL-RB1"] == 47 / 2 - 3 / 2
    assert tuesday["BUF-RB1"] == 44 / 2 - 1.5 / 2 and tuesday["MIA-RB1"] == 44 / 2 + 1.5 / 2
    assert "spread and total as of the bet time for 2 of 2 games" in summary
    saturday, _ = implied("2024-09-28T13:00:00Z")  # DraftKings' 6.5 / 50.5 of the 28th is known now
    assert saturday["KC-RB1"] == 49 / 2 + 4.5 / 2
    before_any, summary = implied("2024-09-20T00:00:00Z")
    pd.testing.assert_series_equal(before_any, closing)
    assert "closing lines from the schedule" in summary
    caplog.clear()
    with caplog.at_level("INFO", logger="nfl_bnn.game_lines"):
        implied("2024-09-20T00:00:00Z")  # lines exist, none fetched by then: a warning this time
    warned = [r.getMessage() for r in caplog.records if r.name == "nfl_bnn.game_lines" and r.levelname == "WARNING"]
    assert len(warned) == 1 and "no line of season 2024 week 4 fetched by the as-of time" in warned[0]


def test_cli_import_game_lines(project_home, capsys, tmp_path):
    with connect() as w:
        load_week4(w, lines=None)
    assert main(["import-game-lines", str(LIVE)]) == 0
    assert "mart.game_lines: 4 inserted, 0 updated, 0 skipped" in capsys.readouterr().out
    bad = csv(tmp_path, f"{KC},BookA,2024-09-24T14:00:00Z,45,3\n")  # spread and total swapped
    assert main(["import-game-lines", "--format", "csv", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "spread_line beyond +-30" in err and "nothing was imported" in err and "Traceback" not in err

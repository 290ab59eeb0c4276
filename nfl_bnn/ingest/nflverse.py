"""Import nflverse schedules, weekly player stats (legacy ``player_stats`` and newer ``stats_player_week``)
and weekly injury reports (``injuries``).

Inputs are local paths or URLs, parquet or CSV (optionally .gz). Defaults for users with internet
are the nflverse release URLs below. Schedules are always processed before player stats, because
player rows get their game (game_id, opponent, home/away, season type) by joining on
(season, week, team) to the games in the same import plus those already in ``mart.games``.

Decisions: team codes become today's (OAK->LV, SD->LAC, STL->LA); ``game_id`` is rebuilt as
``{season}_{week:02d}_{away}_{home}`` from today's codes so the same game has one id whatever the
source; only REG and POST are kept (PRE dropped and counted as skipped); rushing/receiving yards are
rounded to whole yards; a schedule row without ``gametime`` gets kickoff at midnight of its gameday
(an early cut-off is the safe side for leak-free features).
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Sequence

import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.ingest import count_column, no_duplicates, numeric, require_columns, whole, write_tables
from nfl_bnn.teams import map_series
from nfl_bnn.warehouse import UpsertCounts, Warehouse

log = logging.getLogger("nfl_bnn.ingest.nflverse")

RELEASES = "https://github.com/nflverse/nflverse-data/releases/download"
#: Documented default sources (need internet): all seasons of legacy weekly stats, and schedules.
DEFAULT_PLAYER_STATS_URL = f"{RELEASES}/player_stats/player_stats.parquet"
DEFAULT_SCHEDULES_URL = "https://github.com/nflverse/nfldata/raw/master/data/games.csv"
#: Per-season file of the newer schema, e.g. ``STATS_PLAYER_WEEK_URL.format(season=2024)``.
STATS_PLAYER_WEEK_URL = f"{RELEASES}/stats_player/stats_player_week_{{season}}.parquet"
#: Per-season weekly injury reports, e.g. ``INJURIES_URL.format(season=2024)``.
INJURIES_URL = f"{RELEASES}/injuries/injuries_{{season}}.parquet"

POST_TYPES = {"WC", "DIV", "CON", "SB", "POST"}
SCHEDULE_COLUMNS = ["game_id", "season", "game_type", "week", "gameday", "gametime", "away_team", "home_team",
                    "away_score", "home_score", "spread_line", "total_line"]
STAT_COLUMNS = ["player_id", "season", "week", "position", "carries", "rushing_yards", "rushing_tds", "receptions",
                "targets", "receiving_yards"]
LEGACY_ONLY = ["recent_team", "season_type", "player_display_name"]
NEW_ONLY = ["team", "game_id", "player_name"]
INJURY_COLUMNS = ["season", "game_type", "week", "team", "gsis_id", "full_name", "position", "report_status",
                  "practice_status", "date_modified"]
REPORT_STATUSES = {"out": "Out", "doubtful": "Doubtful", "questionable": "Questionable"}


def read_table(source: str | Path) -> tuple[pd.DataFrame, str]:
    """Read a parquet or CSV file from a path or URL; return (frame, name used in messages)."""
    src = str(source)
    if src.startswith(("http://", "https://")):
        return _read_url(src), src
    path = Path(src)
    if not path.exists():
        raise DataError(f"input file {path} does not exist; check the path")
    if not path.is_file():
        raise DataError(f"input {path} is not a file")
    try:
        if path.name.lower().endswith(".parquet"):
            df = pd.read_parquet(path)
        elif path.name.lower().endswith((".csv", ".csv.gz")):
            df = pd.read_csv(path, low_memory=False)
        else:
            raise DataError(f"input file {path}: unknown format; use .parquet, .csv or .csv.gz")
    except DataError:
        raise
    except PermissionError:
        raise DataError(f"input file {path} is not readable (permission denied)") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow/pandas raise many types for a broken file
        first = (str(exc).splitlines() or [""])[0][:200]
        raise DataError(f"input file {path} is not a readable {path.suffix.lstrip('.')} file ({type(exc).__name__}: {first})"
                        ) from None
    return df, str(path)


def _read_url(url: str) -> pd.DataFrame:
    import requests

    suffix = ".parquet" if ".parquet" in url.lower() else (".csv.gz" if url.lower().endswith(".gz") else ".csv")
    try:
        resp = requests.get(url, timeout=120)
        resp.raise_for_status()
    except requests.RequestException as exc:
        raise DataError(f"cannot download {url} ({type(exc).__name__}); check the network, "
                        "or download the file yourself and pass its local path") from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"download{suffix}"
        path.write_bytes(resp.content)
        df, _ = read_table(path)
    return df


# --- schedules ---------------------------------------------------------------------------------
def schedules_frame(df: pd.DataFrame, where: str) -> tuple[pd.DataFrame, int]:
    """Validate an nflverse schedule and shape it as ``mart.games``; return (games, PRE rows dropped)."""
    require_columns(df, SCHEDULE_COLUMNS, where, "an nflverse schedule (games) file")
    ids = ["game_id", "season", "week"]
    gtype = df["game_type"].astype("string").str.upper()
    keep = gtype.isin(POST_TYPES | {"REG"})
    dropped = int((~keep).sum())
    df = df[keep.to_numpy()].copy()
    out = pd.DataFrame({
        "season": whole(df, count_column(df, "season", where, ids), "season", where, ids),
        "week": whole(df, count_column(df, "week", where, ids), "week", where, ids),
        "season_type": gtype[keep].map(lambda t: "REG" if t == "REG" else "POST").to_numpy(),
    }, index=df.index)
    out["home_team"] = map_series(df["home_team"], f"{where} column 'home_team'")
    out["away_team"] = map_series(df["away_team"], f"{where} column 'away_team'")
    gameday = pd.to_datetime(df["gameday"], errors="coerce")
    bad = gameday.isna()
    if bad.any():
        raise DataError(f"{where}: column 'gameday' has an unreadable date {df.loc[bad, 'gameday'].iloc[0]!r} "
                        f"(game_id={df.loc[bad, 'game_id'].iloc[0]!r}); expected YYYY-MM-DD")
    clock = df["gametime"].astype("string").fillna("00:00")
    kickoff = pd.to_datetime(gameday.dt.strftime("%Y-%m-%d") + " " + clock, errors="coerce", format="%Y-%m-%d %H:%M")
    bad = kickoff.isna()
    if bad.any():
        raise DataError(f"{where}: column 'gametime' has an unreadable time {df.loc[bad, 'gametime'].iloc[0]!r} "
                        f"(game_id={df.loc[bad, 'game_id'].iloc[0]!r}); expected HH:MM")
    out["gameday"] = gameday.dt.date
    out["kickoff"] = kickoff.astype("datetime64[ns]")
    for c in ("home_score", "away_score"):
        out[c] = whole(df, count_column(df, c, where, ids, allow_null=True), c, where, ids)
    for c in ("spread_line", "total_line"):
        out[c] = numeric(df, c, where, ids)
    out["game_id"] = (out["season"].astype(str) + "_" + out["week"].map("{:02d}".format) + "_"
                      + out["away_team"] + "_" + out["home_team"])
    out["source"] = "nflverse"
    out, _ = no_duplicates(out, ["game_id"], where, compare=list(out.columns))
    cols = ["game_id", "season", "week", "season_type", "gameday", "kickoff", "home_team", "away_team",
            "home_score", "away_score", "spread_line", "total_line", "source"]
    return out[cols].reset_index(drop=True), dropped


def _team_games(games: pd.DataFrame) -> pd.DataFrame:
    """One row per (season, week, team) with the team's game, opponent and side."""
    home = games.assign(team=games.home_team, opponent=games.away_team, is_home=True)
    away = games.assign(team=games.away_team, opponent=games.home_team, is_home=False)
    cols = ["season", "week", "team", "game_id", "season_type", "opponent", "is_home"]
    both = pd.concat([home[cols], away[cols]], ignore_index=True)
    both["season"] = both["season"].astype("int64")
    both["week"] = both["week"].astype("int64")
    return both.drop_duplicates(["season", "week", "team"], keep="last")


# --- player stats ------------------------------------------------------------------------------
def detect_schema(df: pd.DataFrame, where: str) -> str:
    """``legacy`` (player_stats) or ``new`` (stats_player_week); a wrong file lists what is missing."""
    if "recent_team" in df.columns:
        require_columns(df, STAT_COLUMNS + LEGACY_ONLY, where, "an nflverse player_stats (legacy) file")
        return "legacy"
    if "team" in df.columns and "game_id" in df.columns:
        require_columns(df, STAT_COLUMNS + NEW_ONLY, where, "an nflverse stats_player_week file")
        return "new"
    require_columns(df, STAT_COLUMNS + LEGACY_ONLY, where,
                    "nflverse weekly player stats (legacy player_stats: recent_team, season_type...; "
                    "or stats_player_week: team, game_id...)")
    raise AssertionError("unreachable")  # pragma: no cover


def player_stats_frame(df: pd.DataFrame, where: str, games: pd.DataFrame,
                       known_names: dict[str, str] | None = None) -> tuple[pd.DataFrame, int]:
    """Validate weekly player stats, attach each row's game; return (rows of mart.player_game_stats, dropped)."""
    schema = detect_schema(df, where)
    ids = ["player_id", "player_display_name" if schema == "legacy" else "player_name", "season", "week"]
    dropped = 0
    if schema == "legacy":
        st = df["season_type"].astype("string").str.upper()
        keep = st.isin({"REG", "POST"}).to_numpy()
        dropped += int((~keep).sum())
        df = df[keep]
    df = df.reset_index(drop=True)
    empty_id = df["player_id"].isna() | (df["player_id"].astype("string").str.strip() == "")
    if empty_id.any():
        raise DataError(f"{where}: column 'player_id' is empty in {int(empty_id.sum())} row(s) "
                        f"(first at {df.loc[empty_id, ids[1]].iloc[0]!r}); every row needs a GSIS id")
    out = pd.DataFrame({"player_id": df["player_id"].astype(str).str.strip()})
    for c in ("season", "week", "carries", "rushing_tds", "targets", "receptions"):
        out[c] = whole(df, count_column(df, c, where, ids), c, where, ids)
    for c in ("rushing_yards", "receiving_yards"):
        out[c] = count_column(df, c, where, ids, allow_negative=True).round().astype("Int64")
    team_col = "recent_team" if schema == "legacy" else "team"
    out["team"] = map_series(df[team_col], f"{where} column {team_col!r}")
    if schema == "legacy":
        name = df["player_display_name"].where(df["player_display_name"].notna(), df["player_name"])
    else:
        name = df["player_id"].map(known_names or {}).where(lambda s: s.notna(), df["player_name"])
    out["player_name"] = name.astype(object).where(name.notna(), None)
    out["position"] = df["position"].astype(object).where(df["position"].notna(), None)

    lookup = _team_games(games)
    out["season"] = out["season"].astype("int64")
    out["week"] = out["week"].astype("int64")
    merged = out.merge(lookup, on=["season", "week", "team"], how="left", validate="many_to_one")
    miss = merged["game_id"].isna()
    if miss.any():
        r = merged[miss].iloc[0]
        seasons = sorted(merged.loc[miss, "season"].unique().tolist())
        raise DataError(
            f"{where}: {int(miss.sum())} row(s) have no game in mart.games for their (season, week, team), e.g. "
            f"season={r.season}, week={r.week}, team={r.team!r} (seasons {seasons[0]}-{seasons[-1]}); "
            "import the matching schedules first: pass them with --schedules in the same command"
        )
    merged["source"] = "nflverse"
    stat_cols = ["carries", "rushing_yards", "rushing_tds", "targets", "receptions", "receiving_yards", "team"]
    merged, n = no_duplicates(merged, ["game_id", "player_id"], where, compare=stat_cols)
    dropped += n
    cols = ["season", "week", "season_type", "game_id", "player_id", "player_name", "position", "team", "opponent",
            "is_home", "carries", "rushing_yards", "rushing_tds", "targets", "receptions", "receiving_yards", "source"]
    return merged[cols].reset_index(drop=True), dropped


# --- injury reports ----------------------------------------------------------------------------
def _latest_reports(df: pd.DataFrame) -> pd.DataFrame:
    """One report per (season, week, player): the latest by ``reported_at``."""
    return (df.sort_values("reported_at", na_position="first", kind="stable")
            .drop_duplicates(["season", "week", "player_id"], keep="last").reset_index(drop=True))


def injuries_frame(df: pd.DataFrame, where: str) -> tuple[pd.DataFrame, int]:
    """Validate nflverse weekly injury reports and shape them as ``mart.injuries``; return (rows, dropped).

    Only the regular season is kept (the model predicts regular-season weeks). ``report_status`` is
    the game-status designation (Out, Doubtful, Questionable; anything else, e.g. 'Note' or empty,
    means no designation and is stored as NULL). ``date_modified`` (UTC) becomes ``reported_at`` in
    US/Eastern wall-clock time, the clock kickoffs are stored in, so features can refuse a report
    published after kickoff. A player reported twice in one week keeps his latest report.
    """
    require_columns(df, INJURY_COLUMNS, where, "an nflverse injuries file")
    ids = ["gsis_id", "full_name", "season", "week"]
    keep = (df["game_type"].astype("string").str.upper() == "REG").fillna(False).to_numpy()
    no_id = (df["gsis_id"].isna() | (df["gsis_id"].astype("string").str.strip() == "")).to_numpy()
    dropped = int((~keep | no_id).sum())
    df = df[keep & ~no_id].reset_index(drop=True)
    out = pd.DataFrame({"player_id": df["gsis_id"].astype(str).str.strip()})
    for c in ("season", "week"):
        out[c] = whole(df, count_column(df, c, where, ids), c, where, ids).astype("int64")
    out["team"] = map_series(df["team"], f"{where} column 'team'")
    out["player_name"] = df["full_name"].astype(object).where(df["full_name"].notna(), None)
    out["position"] = df["position"].astype(object).where(df["position"].notna(), None)
    status = df["report_status"].astype("string").str.strip().str.lower().map(REPORT_STATUSES)
    out["report_status"] = status.astype(object).where(status.notna(), None)
    out["practice_status"] = df["practice_status"].astype(object).where(df["practice_status"].notna(), None)
    stamp = pd.to_datetime(df["date_modified"], errors="coerce", utc=True)
    bad = stamp.isna() & df["date_modified"].notna()
    if bad.any():
        raise DataError(f"{where}: column 'date_modified' has an unreadable timestamp "
                        f"{df.loc[bad, 'date_modified'].iloc[0]!r} (player {df.loc[bad, 'full_name'].iloc[0]!r}); "
                        "expected an ISO timestamp")
    out["reported_at"] = stamp.dt.tz_convert("America/New_York").dt.tz_localize(None).astype("datetime64[ns]")
    out["source"] = "nflverse"
    before = len(out)
    out = _latest_reports(out)
    dropped += before - len(out)
    cols = ["season", "week", "team", "player_id", "player_name", "position", "report_status", "practice_status",
            "reported_at", "source"]
    return out[cols].sort_values(["season", "week", "team", "player_id"]).reset_index(drop=True), dropped


def _existing_games(wh: Warehouse) -> pd.DataFrame:
    if not wh.table_exists("mart.games"):
        return pd.DataFrame(columns=["game_id", "season", "week", "season_type", "home_team", "away_team"])
    return wh.query_df("SELECT game_id, season, week, season_type, home_team, away_team FROM mart.games")


def is_full_name(name: object) -> bool:
    """'Aaron Rodgers' yes; 'A.Rodgers', 'Mar.Wilson', 'A.St. Brown' no (nflverse short names)."""
    if not isinstance(name, str) or " " not in name.strip():
        return False
    return "." not in name.strip().split(" ")[0]


def _known_names(wh: Warehouse) -> dict[str, str]:
    """Full names already in the warehouse (the newer schema only has short names like 'A.Rodgers')."""
    if not wh.table_exists("mart.player_game_stats"):
        return {}
    df = wh.query_df("SELECT player_id, player_name, max(season) AS season FROM mart.player_game_stats "
                     "WHERE player_name IS NOT NULL GROUP BY player_id, player_name")
    # astype(bool): on an empty table the mapped Series is an empty object Series, which pandas would
    # read as a list of column labels (a fresh `init-db` warehouse crashed here with KeyError 'season')
    df = df[df["player_name"].map(is_full_name).astype(bool)].sort_values(["season", "player_name"])
    return dict(zip(df["player_id"], df["player_name"]))


def import_nflverse(wh: Warehouse, player_stats: Sequence[str | Path] = (),
                    schedules: Sequence[str | Path] = (), injuries: Sequence[str | Path] = ()) -> list[UpsertCounts]:
    """Import schedules, then player stats and injury reports, all validated first and written in one transaction."""
    if not player_stats and not schedules and not injuries:
        raise DataError("nothing to import: pass --player-stats, --schedules and/or --injuries")
    games_parts, dropped_games = [], 0
    for src in schedules:
        raw, where = read_table(src)
        g, n = schedules_frame(raw, where)
        log.info("%s: %d games (%d preseason rows dropped)", where, len(g), n)
        games_parts.append(g)
        dropped_games += n
    new_games = (pd.concat(games_parts, ignore_index=True).drop_duplicates("game_id", keep="last")
                 if games_parts else None)
    stats_parts, dropped_stats = [], 0
    if player_stats:
        existing = _existing_games(wh)
        parts = [g for g in (existing, new_games) if g is not None and not g.empty]
        all_games = pd.concat(parts, ignore_index=True) if parts else existing
        all_games = all_games.drop_duplicates("game_id", keep="last")
        if all_games.empty:
            raise DataError("no games known to match player stats against: mart.games is empty; "
                            "pass the nflverse schedules with --schedules in the same command")
        names = _known_names(wh)
        for src in player_stats:
            raw, where = read_table(src)
            s, n = player_stats_frame(raw, where, all_games, names)
            log.info("%s: %d player-game rows (%d dropped)", where, len(s), n)
            stats_parts.append(s)
            dropped_stats += n
            full = s["player_name"].map(is_full_name)
            names.update(dict(zip(s.loc[full, "player_id"], s.loc[full, "player_name"])))
    inj_parts, dropped_inj = [], 0
    for src in injuries:
        raw, where = read_table(src)
        r, n = injuries_frame(raw, where)
        log.info("%s: %d regular-season injury reports (%d dropped: postseason, no id or superseded)",
                 where, len(r), n)
        inj_parts.append(r)
        dropped_inj += n
    frames: dict[str, pd.DataFrame] = {}
    dropped: dict[str, int] = {}
    if new_games is not None:
        frames["mart.games"] = new_games
        dropped["mart.games"] = dropped_games
    if stats_parts:
        stats = pd.concat(stats_parts, ignore_index=True)
        before = len(stats)
        stats = stats.drop_duplicates(["game_id", "player_id"], keep="last")
        frames["mart.player_game_stats"] = stats
        dropped["mart.player_game_stats"] = dropped_stats + before - len(stats)
    if inj_parts:
        inj = pd.concat(inj_parts, ignore_index=True)
        before = len(inj)
        inj = _latest_reports(inj)  # files may overlap (a season file and a week's update)
        frames["mart.injuries"] = inj
        dropped["mart.injuries"] = dropped_inj + before - len(inj)
    return write_tables(wh, frames, dropped)

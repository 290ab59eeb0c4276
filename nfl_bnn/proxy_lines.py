"""Clearly labelled PROXY prop lines, for backtests where no real lines exist.

No public history of rushing-yards prop lines with odds exists, so a betting backtest needs a stand-in
for the market. Two rules, both built only from information available before kickoff:

* ``proxy:nflcom`` (2024): NFL.com's published pre-game projection of the player's rushing yards,
  moved to the nearest half-yard (x.5), priced -110/-110;
* ``proxy:season_median`` (any season, e.g. the embedded 2009-2019 data): the MEDIAN of the player's
  rushing yards over the games he played BEFORE this week this season (at least ``min_games``), moved
  to the nearest half-yard, priced -110/-110. The median, not the mean: books set an over/under near
  the median of a right-skewed quantity, and a mean-based line sits above it, which would hand any
  model a systematic, fake edge on the under.

Every row carries ``source`` = ``proxy:<rule>`` and ``book`` = ``PROXY``; anything reported on these
lines must say "PROXY LINES" in its title (see :func:`is_proxy`), and P&L against them is never real
P&L: a proxy is a weaker opponent than a real market.
"""
from __future__ import annotations

import logging
import math
import re
import unicodedata
from pathlib import Path

import pandas as pd

from nfl_bnn.errors import DataError

log = logging.getLogger("nfl_bnn.proxy_lines")

PROXY_ODDS = -110
PROXY_BOOK = "PROXY"
NFLCOM_TEAM = {"LAR": "LA", "JAC": "JAX", "WSH": "WAS"}
PROXY_TITLE = "PROXY LINES"


def half_yard(x: float) -> float:
    """Nearest line ending in .5 (the x.5 values are 1 apart, so it is floor(x) + 0.5); at least 0.5."""
    return max(math.floor(float(x)) + 0.5, 0.5)


def is_proxy(lines: pd.DataFrame) -> bool:
    return bool(len(lines)) and lines["source"].astype(str).str.startswith("proxy:").any()


def name_key(name: str) -> str:
    """Join key for player names across sources: ascii, lowercase, letters only, no Jr/Sr/II/III/IV/V."""
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z ]", "", s.replace("-", " "))
    words = [w for w in s.split() if w not in {"jr", "sr", "ii", "iii", "iv", "v"}]
    return "".join(words)


def _both_sides(df: pd.DataFrame, season: int, week: int, rule: str) -> pd.DataFrame:
    base = pd.DataFrame(
        {
            "season": int(season), "week": int(week), "player_id": df["player_id"].to_numpy(),
            "player_name": df["player_name"].to_numpy(), "team": df["team"].to_numpy(),
            "market": "player_rush_yds", "book": PROXY_BOOK, "line": df["line"].to_numpy(dtype=float),
            "over_odds": PROXY_ODDS, "under_odds": PROXY_ODDS, "fetched_at": pd.NaT, "source": f"proxy:{rule}",
        }
    )
    out = pd.concat([base.assign(side="over"), base.assign(side="under")], ignore_index=True)
    return out.sort_values(["player_name", "side"]).reset_index(drop=True)


def season_median_lines(stats: pd.DataFrame, players: pd.DataFrame, season: int, week: int,
                     min_games: int = 2) -> pd.DataFrame:
    """``proxy:season_median`` lines for ``players`` (player_id, player_name, team) of one week.

    Only rows of ``stats`` from the same season and an EARLIER week are used, so the line is known
    before kickoff; players with fewer than ``min_games`` earlier games get no line.
    """
    prior = stats[(stats["season"] == int(season)) & (stats["week"] < int(week))]
    agg = prior.groupby("player_id")["rushing_yards"].agg(["median", "size"])
    agg = agg[agg["size"] >= min_games]
    p = players[["player_id", "player_name", "team"]].drop_duplicates("player_id")
    p = p.merge(agg, left_on="player_id", right_index=True, how="inner")
    p["line"] = [half_yard(v) for v in p["median"]]
    return _both_sides(p, season, week, "season_median")


def read_nflcom(path: str | Path) -> pd.DataFrame:
    """NFL.com RB projections CSV (season, week, PlayerName, Team, RushingYDS), with a clear error."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"NFL.com projections file {p} does not exist; pass the path to rb_projections_2024.csv")
    df = pd.read_csv(p)
    need = ["season", "week", "PlayerName", "Team", "RushingYDS"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{p}: missing column(s) {missing}; expected NFL.com's projections with {need}")
    return df


def nflcom_lines(nflcom: pd.DataFrame, players: pd.DataFrame, season: int, week: int) -> pd.DataFrame:
    """``proxy:nflcom`` lines: the projection joined to ``players`` by name key and team."""
    wk = nflcom[(nflcom["season"] == int(season)) & (nflcom["week"] == int(week))].copy()
    wk = wk[wk["RushingYDS"].notna() & (wk["RushingYDS"] >= 0)]
    wk["key"] = wk["PlayerName"].map(name_key)
    wk["team_key"] = wk["Team"].astype(str).str.upper().replace(NFLCOM_TEAM)
    p = players[["player_id", "player_name", "team"]].drop_duplicates("player_id").copy()
    p["key"] = p["player_name"].map(name_key)
    m = p.merge(wk[["key", "team_key", "RushingYDS"]], left_on=["key", "team"], right_on=["key", "team_key"])
    m = m.drop_duplicates("player_id")
    unmatched = len(p) - len(m)
    if unmatched:
        log.info("proxy:nflcom s%s w%s: %d of %d players have no NFL.com projection", season, week, unmatched, len(p))
    m["line"] = [half_yard(v) for v in m["RushingYDS"]]
    return _both_sides(m, season, week, "nflcom")


def proxy_lines(stats: pd.DataFrame, players: pd.DataFrame, season: int, week: int,
                nflcom_path: str | Path | None = None, min_games: int = 2) -> pd.DataFrame:
    """NFL.com proxy where a projections file for the season is given, else the season-average proxy."""
    if nflcom_path is not None:
        nc = read_nflcom(nflcom_path)
        if (nc["season"] == int(season)).any():
            return nflcom_lines(nc, players, season, week)
        log.info("no NFL.com projections for season %s in %s; using proxy:season_median", season, nflcom_path)
    return season_median_lines(stats, players, season, week, min_games=min_games)


def review_title(bets: pd.DataFrame, season: int, week: int | None = None) -> str:
    """Title of a P&L review: says PROXY LINES whenever any bet was priced on proxy lines (ledger
    column ``line_source``), so proxy P&L is never mistaken for real P&L."""
    what = f"Season {season}" + (f" week {week}" if week is not None else "")
    src = bets["line_source"].astype(str) if "line_source" in bets else pd.Series(dtype=str)
    if src.str.startswith("proxy:").any():
        return f"{what} \u2014 {PROXY_TITLE}, NOT REAL P&L"
    return what


def proxy_note(lines: pd.DataFrame) -> str:
    """One sentence for reports saying which proxy rule priced the lines."""
    rules = sorted(set(lines["source"].astype(str))) if len(lines) else []
    return (f"{PROXY_TITLE}: lines are {', '.join(rules) or 'proxies'} at -110/-110, not real market prices; "
            "P&L against them is not real P&L.")


__all__ = [
    "review_title",
    "PROXY_TITLE",
    "half_yard",
    "is_proxy",
    "name_key",
    "nflcom_lines",
    "proxy_lines",
    "proxy_note",
    "read_nflcom",
    "season_median_lines",
]

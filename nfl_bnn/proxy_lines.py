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
from pathlib import Path

import pandas as pd

from nfl_bnn import nflcom
from nfl_bnn.betting import half_yard
from nfl_bnn.names import normalise_name

log = logging.getLogger("nfl_bnn.proxy_lines")

PROXY_ODDS = -110
PROXY_BOOK = "PROXY"
PROXY_TITLE = "PROXY LINES"


def is_proxy(lines: pd.DataFrame) -> bool:
    return bool(len(lines)) and "source" in lines and lines["source"].astype(str).str.startswith("proxy:").any()


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
    p["line"] = half_yard(p["median"].to_numpy(float))
    return _both_sides(p, season, week, "season_median")


def nflcom_lines(proj: pd.DataFrame, players: pd.DataFrame, season: int, week: int) -> pd.DataFrame:
    """``proxy:nflcom`` lines: projections (:func:`nfl_bnn.nflcom.read_projections`) joined to ``players``
    (player_id, player_name, team) by season, week, team and normalised name."""
    wk = proj[(proj["season"] == int(season)) & (proj["week"] == int(week))]
    wk = wk[wk["proj_rush_yds"].notna() & (wk["proj_rush_yds"] >= 0)]
    p = players[["player_id", "player_name", "team"]].drop_duplicates("player_id").copy()
    p["name_key"] = p["player_name"].map(normalise_name)
    m = p.merge(wk[["name_key", "team", "proj_rush_yds"]], on=["name_key", "team"]).drop_duplicates("player_id")
    unmatched = len(p) - len(m)
    if unmatched:
        log.info("proxy:nflcom s%s w%s: %d of %d players have no NFL.com projection", season, week, unmatched, len(p))
    m["line"] = half_yard(m["proj_rush_yds"].to_numpy(float))
    return _both_sides(m, season, week, "nflcom")


def proxy_lines(stats: pd.DataFrame, players: pd.DataFrame, season: int, week: int,
                nflcom_path: str | Path | None = None, min_games: int = 2) -> pd.DataFrame:
    """NFL.com proxy where a projections file for the season is given, else the season-average proxy."""
    if nflcom_path is not None:
        nc = nflcom.read_projections(nflcom_path)
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
    "is_proxy",
    "nflcom_lines",
    "proxy_lines",
    "proxy_note",
    "season_median_lines",
]

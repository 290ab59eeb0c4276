"""Game lines (spread and total) as known at the bet time, for the ``implied_total`` feature (issue 15.6).

The schedule's ``spread_line``/``total_line`` (``mart.games``) carry no time: for a played week they are
the closing lines, for a week ahead whatever nflverse had when the schedule was imported. A Tuesday bet
cannot know Sunday's closing line, so the weekly run prefers lines stored with the time they were seen
(``mart.game_lines``, filled by ``nfl-bnn import-game-lines``):

* :func:`lines_as_of` - per game, each book's latest spread and latest total fetched at or before the
  bet time (later quotes are removed first, so they can neither be used nor hide an earlier one), then
  the median over books (the consensus: one book's stale or off-market number moves it least), or one
  named book's;
* :func:`bet_time_games` - the games frame with that week's spread/total replaced by those lines where
  a game has one; every other value (other weeks, games without a line) stays the schedule's;
* :func:`week_games_as_of` - both, read from the warehouse, with the note the weekly run logs and
  writes into its summary: which lines the week's features used.

Training and the backtests keep the schedule's closing lines: they are the only history there is (no
game-line snapshots of past seasons exist), and docs/selection.md measures how much they flatter
(dropping ``implied_total`` changes CRPS by -0.013 +- 0.017: not measurably). Spread convention: the home
team's expected margin, positive = home favoured, as nflverse's ``spread_line`` (a book's "KC -3" for
home KC is +3).
"""
from __future__ import annotations

import logging
from typing import Any

import pandas as pd

log = logging.getLogger("nfl_bnn.game_lines")

#: Plausible values; an import refuses anything outside (the table's CHECKs say the same).
MAX_ABS_SPREAD = 30.0
MIN_TOTAL, MAX_TOTAL = 25.0, 70.0
VALUES = ("spread_line", "total_line")
#: :func:`lines_as_of`'s columns: the consensus lines and what they were made of.
AS_OF_COLUMNS = ["game_id", "spread_line", "total_line", "n_books", "first_fetched_at", "last_fetched_at"]
CLOSING_NOTE = ("game lines: closing lines from the schedule (mart.games; for a week ahead the schedule's line at "
                "its import, with no time): the backtests' figures assume them")


def _empty() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype="float64") for c in AS_OF_COLUMNS})
    out["game_id"] = out["game_id"].astype(object)
    out["n_books"] = out["n_books"].astype("int64")
    for c in ("first_fetched_at", "last_fetched_at"):
        out[c] = out[c].astype("datetime64[ns]")
    return out


def lines_as_of(lines: pd.DataFrame, as_of: Any, book: str | None = None) -> pd.DataFrame:
    """Consensus spread and total per game from quotes fetched at or before ``as_of`` (UTC, naive or zoned).

    Per game and book the latest non-NULL spread and, separately, the latest non-NULL total (a book may
    quote one market later than the other); then the median over books, or only ``book``'s. Columns:
    :data:`AS_OF_COLUMNS` (``n_books``: books that gave either value; the fetch times: oldest and newest
    quote used). Empty when nothing was fetched by then.
    """
    from nfl_bnn.quotes import to_utc_naive

    if lines.empty:
        return _empty()
    fetched = pd.to_datetime(lines["fetched_at"]).astype("datetime64[ns]")
    seen = lines[fetched <= to_utc_naive(as_of)].assign(fetched_at=fetched)
    if book is not None:
        seen = seen[seen["book"] == book]
    used, values = [], []
    for col in VALUES:
        s = seen[seen[col].notna()].sort_values(["fetched_at", "book"], kind="mergesort")
        latest = s.drop_duplicates(["game_id", "book"], keep="last")
        used.append(latest[["game_id", "book", "fetched_at"]])
        values.append(latest.groupby("game_id")[col].median())
    used_all = pd.concat(used, ignore_index=True)
    if used_all.empty:
        return _empty()
    out = pd.concat(values, axis=1).reindex(columns=list(VALUES))
    grp = used_all.groupby("game_id")
    out["n_books"] = grp["book"].nunique()
    out["first_fetched_at"] = grp["fetched_at"].min()
    out["last_fetched_at"] = grp["fetched_at"].max()
    return out.rename_axis("game_id").reset_index()[AS_OF_COLUMNS]


def bet_time_games(games: pd.DataFrame, current: pd.DataFrame, season: int, week: int
                   ) -> tuple[pd.DataFrame, str]:
    """``games`` with the week's spread/total taken from ``current`` (:func:`lines_as_of`), and a note.

    Only games of (season, week) that have a bet-time value change, value by value; with no such line the
    very same frame comes back (nothing changes, the note says the closing lines were used).
    """
    wk = (games["season"] == int(season)) & (games["week"] == int(week))
    hit = wk & games["game_id"].isin(set(current["game_id"]))
    if not hit.any():
        return games, CLOSING_NOTE
    g = games.copy()
    cur = current.set_index("game_id")
    for col in VALUES:
        new = g.loc[hit, "game_id"].map(cur[col]).astype(float)
        g.loc[hit, col] = new.where(new.notna(), g.loc[hit, col].astype(float))
    used = cur.loc[g.loc[hit, "game_id"]]
    n, k = int(wk.sum()), int(hit.sum())
    partial = int((used[list(VALUES)].isna().any(axis=1)).sum())
    note = (f"game lines: spread and total as of the bet time for {k} of {n} games (median of up to "
            f"{int(used['n_books'].max())} book(s)' latest quotes, fetched {used['first_fetched_at'].min():%Y-%m-%d %H:%M}"
            f" to {used['last_fetched_at'].max():%Y-%m-%d %H:%M} UTC, mart.game_lines)")
    if k < n or partial:
        note += (f"; closing lines from the schedule for the other {n - k} game(s)"
                 + (f" and the missing value of {partial}" if partial else "") + " (the backtests' figures assume them)")
    return g, note


def week_games_as_of(wh: Any, games: pd.DataFrame, season: int, week: int, as_of: Any
                     ) -> tuple[pd.DataFrame, str]:
    """:func:`bet_time_games` with the lines of ``mart.game_lines`` known at ``as_of``; logs which were used.

    Closing lines are a warning where the warehouse holds game lines but none of this week known at
    ``as_of`` (an import missed); without any game lines it is the documented default, logged at DEBUG
    (and written into the summary either way), so a warehouse that never imports them is not nagged and
    a failed run's stderr stays its one error line.
    """
    from nfl_bnn.tables import load_game_lines_as_of

    g, note = bet_time_games(games, load_game_lines_as_of(wh, season, week, as_of), season, week)
    if g is not games:
        log.info("%s", note)
        return g, note
    missed = wh.table_exists("mart.game_lines") and wh.count("mart.game_lines") > 0
    log.log(logging.WARNING if missed else logging.DEBUG, "%s; %s", note,
            f"mart.game_lines has no line of season {season} week {week} fetched by the as-of time: import the "
            "week's (`nfl-bnn import-game-lines`)" if missed else "to use lines as known at the bet time, import "
            "them with their time (`nfl-bnn import-game-lines`, docs/lines.md)")
    return g, note

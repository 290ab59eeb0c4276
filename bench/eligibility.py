"""Eligibility coverage before/after the weekly roster and depth chart decide who is a candidate (issue 13).

For each season: backs with 10+ carries in a game who were NOT candidates (the model never priced
them), void share (candidates who did not play: no stats row and no offensive snap for that team),
candidate rows per week; once with today's box-score rule (no role tables) and once with the rosters
and depth charts known at the bet time (``nfl_bnn.eligibility``; bet time = kickoff, or kickoff minus
``--hours-before`` to see what a market bet time days earlier gets: last week's roster).

    .venv/bin/python -m bench.eligibility --warehouse /tmp/elig/full.duckdb --seasons 2022 2023 2024
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from nfl_bnn import features as F  # noqa: E402
from nfl_bnn.warehouse import connect  # noqa: E402


def frame_at(history, seasons: list[int], roles, hours_before: float) -> pd.DataFrame:
    """Candidates of the seasons with their target (NaN: void), rosters known ``hours_before`` kickoff."""
    if hours_before <= 0:
        cand = F.candidate_frame(history.stats, history.games, min(seasons), max(seasons), history.injuries, roles)
    else:  # one week at a time: the bet time is a fixed time before the week's first kickoff
        g = history.games[(history.games.season_type == "REG") & history.games.season.isin(seasons)]
        parts = []
        for (s, w), gw in g.groupby(["season", "week"]):
            as_of = pd.to_datetime(gw["kickoff"]).min() - pd.Timedelta(hours=hours_before)
            parts.append(F.for_week(history.stats, history.games, s, w, history.injuries, roles, as_of))
        cand = pd.concat(parts, ignore_index=True)
    return F.attach_target(cand, history.stats, drop_missing=False, snaps=history.snaps)


def coverage(frame: pd.DataFrame, stats: pd.DataFrame, seasons: list[int]) -> pd.DataFrame:
    """Per season: backs with 10+ carries not candidates, void share, rows per week."""
    big = stats[stats.season.isin(seasons) & (stats.season_type == "REG") & (stats.carries >= 10)
                & (stats.position.fillna("") != "QB")]
    m = big.merge(frame[["season", "week", "player_id", "team"]].assign(c=True), how="left",
                  on=["season", "week", "player_id", "team"])
    out = []
    for s in seasons:
        f, b = frame[frame.season == s], m[m.season == s]
        out.append({"season": s, "backs_10plus": len(b), "not_candidates": int((~b.c.eq(True)).sum()),
                    "rows": len(f), "void": int(f[F.TARGET].isna().sum()),
                    "void_share": round(float(f[F.TARGET].isna().mean()), 4),
                    "rows_per_week": round(len(f) / f.week.nunique(), 1)})
    return pd.DataFrame(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--seasons", nargs="+", type=int, default=[2022, 2023, 2024])
    ap.add_argument("--hours-before", type=float, default=0.0,
                    help="bet time this many hours before each week's first kickoff (0: each team's kickoff)")
    args = ap.parse_args(argv)
    with connect(args.warehouse, read_only=True) as wh:
        h = F.load_history(wh, min(args.seasons), max(args.seasons))
    pd.set_option("display.width", 160)
    for label, roles in (("today's rule (no rosters)", None), ("rosters + depth charts", h.roles)):
        fr = frame_at(h, args.seasons, roles, args.hours_before)
        cov = coverage(fr, h.stats, args.seasons)
        tot = cov.sum(numeric_only=True)
        print(f"{label}, bet time {'kickoff' if args.hours_before <= 0 else f'{args.hours_before:g} h before'}:")
        print(cov.to_string(index=False))
        print(f"  all: {int(tot.not_candidates)} of {int(tot.backs_10plus)} backs with 10+ carries not candidates; "
              f"void {int(tot.void)} of {int(tot.rows)} ({tot.void / tot.rows:.2%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The weekly run's output frames and summary: bets, predictions, the reasons for no bet (pure functions).

The bets file, the summary and the ledger always list the same bets: :func:`week_bets` joins the new
bets with those kept from earlier runs (:func:`kept_bets_frame`). Re-exported by :mod:`nfl_bnn.pipeline`.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from nfl_bnn import betting, monitoring, proxy_lines
from nfl_bnn.weekly_params import WeeklyParams

BET_COLUMNS = ["player_name", "player_id", "team", "opponent", "game_id", "side", "line", "odds", "book", "source",
               "model_prob", "market_prob", "p_bet", "edge", "confidence", "ev", "kelly_full", "kelly_fraction",
               "bet_amount", "paper", "status", "kept"]


def bets_frame(sized: pd.DataFrame, paper: bool) -> pd.DataFrame:
    b = sized[sized["reason"] == "bet"].copy() if len(sized) else pd.DataFrame(columns=BET_COLUMNS)
    b["kelly_fraction"] = b.get("bet_fraction", pd.Series(dtype=float))
    b["bet_amount"] = b.get("stake", pd.Series(dtype=float))
    b["paper"] = bool(paper)
    b["status"], b["kept"] = "open", False
    for c in BET_COLUMNS:
        if c not in b:
            b[c] = np.nan
    return b.sort_values("bet_amount", ascending=False).reset_index(drop=True)


def kept_bets_frame(kept: pd.DataFrame) -> pd.DataFrame:
    """Ledger rows of bets a run keeps (:func:`ledger.kept_bets`) in the shape of :func:`bets_frame`."""
    if kept.empty:
        return pd.DataFrame(columns=BET_COLUMNS)
    b = kept.rename(columns={"line_source": "source", "bet_fraction": "kelly_fraction", "stake": "bet_amount"})
    if "p_bet" not in b:  # a ledger from before the market blend: its stakes used the model's probability
        b["p_bet"] = b["model_prob"]
    for c in ("line", "odds", "model_prob", "market_prob", "p_bet", "edge", "confidence", "kelly_fraction",
              "bet_amount"):
        b[c] = pd.to_numeric(b[c], errors="coerce").astype(float)
    b["p_bet"] = b["p_bet"].fillna(b["model_prob"])
    dec = b["odds"].map(betting.american_to_decimal)
    b["ev"], b["kelly_full"], b["kept"] = b["p_bet"] * dec - 1.0, np.nan, True
    b["paper"] = b["paper"].astype(bool)
    return b[BET_COLUMNS].reset_index(drop=True)


def week_bets(new: pd.DataFrame, kept: pd.DataFrame) -> pd.DataFrame:
    """Every bet the ledger holds for the week once this run is recorded: the new ones and the kept ones."""
    parts = [f for f in (new, kept_bets_frame(kept)) if len(f)]
    if not parts:
        return new
    out = pd.concat(parts, ignore_index=True)
    out["kept"] = out["kept"].astype(bool)
    return out.sort_values("bet_amount", ascending=False, kind="mergesort").reset_index(drop=True)


def predictions_frame(feats: pd.DataFrame, preds: pd.DataFrame, sized: pd.DataFrame) -> pd.DataFrame:
    """Every eligible player with his predictive summary, and his line and decision where he has one."""
    ids = [c for c in ("season", "week", "game_id", "player_id", "player_name", "team", "opponent", "is_home")
           if c in feats]
    out = pd.concat([feats[ids].reset_index(drop=True), preds.reset_index(drop=True)], axis=1)
    if len(sized):
        keep = sized[["player_id", "side", "line", "odds", "book", "source", "model_prob", "market_prob", "p_bet",
                      "edge", "confidence", "reason", "stake"]].rename(columns={"reason": "decision"})
        out = out.merge(keep, on="player_id", how="left")
    else:
        for c in ("side", "line", "odds", "book", "source", "model_prob", "market_prob", "p_bet", "edge",
                  "confidence", "decision", "stake"):
            out[c] = np.nan
    out["decision"] = out["decision"].fillna("no_line")
    return out


def no_bet_reasons(n_pred: int, n_lines_players: int, sized: pd.DataFrame) -> str:
    """Why there are no (or few) bets, in words, so the user never has to guess."""
    c = betting.reason_counts(sized["reason"]) if len(sized) else {}
    if n_lines_players == 0:
        return "no lines: best_prop_lines has no quotes for this week's eligible players (import lines first)"
    parts = [f"{n_pred - n_lines_players} eligible players had no line"]
    labels = {"edge": "failed the edge threshold", "confidence": "failed the confidence threshold",
              "no_ev": "had no positive expected value at the offered odds", "nan": "had a missing probability",
              "too_small": "had a stake under one cent",
              "cap_used": "found the week's or their game's cap already used by the bets kept from earlier runs",
              "team_changed": "had a line for another team than the one they are predicted for (changed teams; "
                              "not priced until they have played for the new one)",
              "no_market_skill": "had an edge but were not staked (no_market_skill): the market blend has not "
                                 "beaten the market out of sample on earlier real lines (see the blend line above)"}
    parts += [f"{c[k]} {v}" for k, v in labels.items() if c.get(k)]
    return "; ".join(parts)


def summary_text(p: WeeklyParams, model_version: str, preds: pd.DataFrame, sized: pd.DataFrame,
                 bets: pd.DataFrame, lines: pd.DataFrame, health: monitoring.WeekHealth,
                 alerts: list[monitoring.Alert], run_id: str, bankroll_note: str = "",
                 notes: list[str] | tuple[str, ...] = (), blend_text: str = "") -> str:
    """The week's summary. ``bets`` holds every bet of the week (column ``kept``: left as placed by an
    earlier run), so the summary, the bets file and the ledger list the same bets and the same stakes;
    ``notes`` are the line-loading notes (as-of time, skipped quotes), ``blend_text`` the window and
    weights of the market blend every new stake used."""

    proxy = proxy_lines.is_proxy(lines)
    title = f"Weekly bets: season {p.season} week {p.week}"
    if proxy:
        title += f" ({proxy_lines.PROXY_TITLE})"
    if p.paper_trade:
        title += " [PAPER TRADE: simulated bets]"
    out = [title, "=" * len(title),
           f"run {run_id} at {datetime.now(UTC):%Y-%m-%d %H:%M UTC}; model {model_version}",
           f"profile {p.profile}: Kelly x{p.kelly_fraction:g}, max bet {p.max_bet_fraction:.0%}, min edge "
           f"{p.min_edge:.0%}, min confidence {p.min_confidence:.0%}, week cap {p.max_week_fraction:.0%}, game cap "
           f"{p.max_game_fraction:.0%}; margin removed by the {p.margin_method} method",
           f"bankroll {p.bankroll:,.2f}" + (f" ({bankroll_note})" if bankroll_note else "")]
    if blend_text:  # the window and weights of the market blend that every stake here used
        out.append(blend_text)
    out.append("")
    if proxy:
        out += [proxy_lines.proxy_note(lines), ""]
    if notes:
        out += [f"Lines: {n}" for n in notes] + [""]
    n_line_players = int(sized["player_id"].nunique()) if len(sized) else 0
    is_kept = bets["kept"].astype(bool) if "kept" in bets else pd.Series(False, index=bets.index)
    new, kept = bets[~is_kept], bets[is_kept]
    n_open = int((~preds["decision"].isin(["kicked_off", "kept"])).sum()) if "decision" in preds else len(preds)
    out.append(f"{len(preds)} players predicted, {n_line_players} with a line, {len(new)} bets, "
               f"staked {new['bet_amount'].sum():,.2f}")
    if len(kept):
        total = float(bets["bet_amount"].sum())
        out.append(f"{len(kept)} bet(s) of this week kept as placed by an earlier run (game kicked off, bet settled "
                   f"or another model version), staked {kept['bet_amount'].sum():,.2f}; the week holds {len(bets)} "
                   f"bets, staked {total:,.2f} = {total / p.bankroll:.1%} of the bankroll "
                   f"(week cap {p.max_week_fraction:.0%})")
    if new.empty:
        out.append(("NO NEW BETS" if len(kept) else "NO BETS this week") + ". Why: "
                   + no_bet_reasons(n_open, n_line_players, sized))
    if len(new):
        out.append("Other players: " + no_bet_reasons(n_open, n_line_players, sized[sized.reason != "bet"]))
    if len(bets):
        cols = ["player_name", "team", "opponent", "side", "line", "odds", "book", "model_prob", "market_prob",
                "p_bet", "edge", "confidence", "bet_amount"] + (["status"] if len(kept) else [])
        show = bets[cols].copy()
        for c in ("model_prob", "market_prob", "p_bet", "edge", "confidence"):
            show[c] = show[c].map(lambda v: f"{v:.1%}")
        show["odds"] = show["odds"].map(lambda v: f"{int(v):+d}")
        if len(kept):
            show["status"] = np.where(is_kept, "kept, " + bets["status"].astype(str), "new")
        out += ["", show.to_string(index=False)]
    out += ["", monitoring.report(health, alerts), ""]
    out += lines_not_priced(lines, preds)
    return "\n".join(out)


def lines_not_priced(lines: pd.DataFrame, preds: pd.DataFrame, max_names: int = 30) -> list[str]:
    """Summary lines naming players who have a line this week but are not among the eligible backs.

    The model prices only the backs it judges eligible before kickoff (playing, not listed out,
    top-2 on his team); a book's line for anyone else used to vanish without a word, so a user could
    not tell "no line" from "line ignored". Each such player is named here with his line and book.
    """
    if lines is None or lines.empty or "player_id" not in lines:
        return []
    known = set(preds["player_id"].astype(str)) if "player_id" in preds else set()
    left = lines[~lines["player_id"].astype(str).isin(known)]
    if left.empty:
        return []
    per = left.drop_duplicates("player_id")
    names = [f"{r.player_name} ({r.team}, line {float(r.line):.1f} at {r.book})" if "team" in per else
             f"{r.player_name} (line {float(r.line):.1f} at {r.book})" for r in per.itertuples()]
    more = f" and {len(names) - max_names} more" if len(names) > max_names else ""
    return [f"Lines not priced ({len(names)}): these players have a line but are not eligible backs this week "
            "(not playing, listed Out or Doubtful, or not top-2 on their team by projected carries): "
            + "; ".join(names[:max_names]) + more, ""]


def zero_bet_streak(out_dir: Path, season: int, week: int, n_bets: int, max_back: int = 10) -> int:
    """Weeks in a row without bets ending this week, from the earlier weeks' bets files."""
    if n_bets:
        return 0
    streak = 1
    for w in range(week - 1, max(week - 1 - max_back, 0), -1):
        f = out_dir / f"s{season}_w{w}_bets.csv"
        if not f.is_file():
            break
        try:
            if len(pd.read_csv(f)) > 0:
                break
        except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError):
            break
        streak += 1
    return streak

"""Pricing one week: lines -> blended probabilities -> sized stakes (no side effects).

:func:`price_week` evaluates every line of an eligible player against the model and the market blend
(:func:`weekly_blend`, fitted from earlier real lines only), sizes stakes within the week's and each
game's cap left by the bets already kept (:class:`Committed`), and holds back stakes on real lines until
the blend has shown skill (:func:`market_gate`). Re-exported by :mod:`nfl_bnn.pipeline`, whose run looks
``weekly_blend`` up in its own namespace (tests replace it there).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nfl_bnn import betting, proxy_lines
from nfl_bnn.errors import NflBnnError
from nfl_bnn.weekly_params import WeeklyParams

log = logging.getLogger("nfl_bnn.pipeline")  # the weekly run's logger: its records keep their name


def load_week_lines(wh: Any, p: WeeklyParams, as_of: pd.Timestamp, known_ids: set[str]
                    ) -> tuple[pd.DataFrame, list[str]]:
    """The week's best prices from quotes fetched at or before ``as_of``, the unusable ones left out.

    Same validation as at import (:func:`nfl_bnn.quotes.validate_quote_frame`); a bad or one-sided
    quote or an unmatched player is skipped with a note for the summary, never a failed week.
    """
    from nfl_bnn import quotes, warehouse

    best = warehouse.load_lines_as_of(wh, p.season, p.week, as_of, p.market)
    return quotes.priceable(best, known_ids)


@dataclass(frozen=True)
class Committed:
    """Stakes the week already holds that a run does not replace (:func:`ledger.kept_bets`): they use up
    the week's cap and each game's cap before any new bet is sized."""

    week: float = 0.0
    games: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, kept: pd.DataFrame) -> Committed:
        if kept.empty:
            return cls()
        by_game = kept.groupby(kept["game_id"].astype(str))["stake"].sum()
        return cls(float(kept["stake"].sum()), {g: float(v) for g, v in by_game.items()})

    def shares(self, bankroll: float) -> dict[str, Any]:
        """The :func:`betting.size_stakes` arguments: the committed stakes as shares of ``bankroll``."""
        return {"committed_week": self.week / bankroll,
                "committed_games": {g: v / bankroll for g, v in self.games.items()}}


def price_week(feats: pd.DataFrame, preds: pd.DataFrame | None, lines: pd.DataFrame, model: Any,
               p: WeeklyParams, committed: Committed | None = None, blend: Any = None,
               seed: int = 0) -> pd.DataFrame:
    """Evaluate every line of an eligible player and size stakes; one row per priced player.

    Market-aware (issue 11): the model's P(side | no push) at each line (pushes exact on whole-number
    lines) is blended with the de-vigged market by ``blend`` (:class:`nfl_bnn.market.Blend`, fitted from
    earlier real lines; None = the stated default shrinkage), and edge, confidence and Kelly stakes use
    the blended ``p_bet``; the model's own probability (``p_model`` = ``model_prob``) and the market's
    (``p_market`` = ``market_prob``) are kept beside it.

    A line whose team is not the team the player is predicted for is not priced (reason
    ``team_changed``): without a roster table a back who changed teams is predicted with his old team
    until he plays for the new one (mostly week 1), so his features describe another game.
    """
    lines = lines[lines["player_id"].isin(feats["player_id"])].reset_index(drop=True)
    ids = feats.drop_duplicates("player_id").set_index("player_id")
    moved = _team_changed(lines, ids["team"])
    if moved.any():
        log.warning("not pricing %d player(s) whose line is for another team than the one they are predicted "
                    "for (changed teams; priced again once they have played for the new one): %s",
                    lines.loc[moved, "player_id"].nunique(),
                    ", ".join(sorted(set(lines.loc[moved, "player_name"].astype(str)))))
    held = lines[moved].drop_duplicates("player_id")
    lines = lines[~moved].reset_index(drop=True)
    if lines.empty:
        return _team_changed_rows(held)
    idx = feats.reset_index(drop=True).set_index("player_id")
    X = idx.loc[lines["player_id"]].reset_index()
    from nfl_bnn import market

    if blend is None:
        blend = market.fit_blend([], [], [])  # no history given: the stated default, with its note
    over, under, push = market.outcome_probs(model, X, lines["line"].to_numpy(dtype=float), per_draw=True)
    ev = market.evaluate(lines, over, under, push, blend, p.margin_method, seed=seed)
    best = market.best_side(ev)
    for c in ("game_id", "opponent"):
        best[c] = best["player_id"].map(ids[c])
    if "team" not in best or best["team"].isna().any():
        best["team"] = best["player_id"].map(ids["team"])
    sized = betting.size_stakes(
        best, p.bankroll, kelly_fraction=p.kelly_fraction, max_bet_fraction=p.max_bet_fraction,
        min_edge=p.min_edge, min_confidence=p.min_confidence, max_week_fraction=p.max_week_fraction,
        max_game_fraction=p.max_game_fraction, **(committed or Committed()).shares(p.bankroll),
    )
    sized = market_gate(sized, blend, p, proxy=proxy_lines.is_proxy(lines))
    return pd.concat([sized, _team_changed_rows(held)], ignore_index=True) if len(held) else sized


def market_gate(sized: pd.DataFrame, blend: Any, p: WeeklyParams, proxy: bool = False) -> pd.DataFrame:
    """No stake on real lines until the blend has beaten the market out of sample (:class:`market.Skill`).

    Against a real market an edge the model has never shown on earlier lines is most likely the model's
    error, not the book's: measured on 2024, the few bets the blend still liked lost closing-line value
    (docs/market.md). So with ``require_market_skill`` (the default) such candidates get the decision
    ``no_market_skill`` and no stake; their probabilities and edges stay in the files for the record.
    Proxy lines are not a market and are not gated (their reports say PROXY).
    """
    if (not p.require_market_skill or proxy or p.lines == "proxy" or sized.empty or "reason" not in sized
            or blend.skill.shown):
        return sized
    out = sized.copy()
    hit = out["reason"] == "bet"
    out.loc[hit, "reason"] = "no_market_skill"
    for c in ("stake", "bet_fraction"):
        if c in out:
            out.loc[hit, c] = 0.0
    if hit.any():
        log.info("%d candidate bet(s) not staked: %s", int(hit.sum()), blend.skill.describe())
    return out


def weekly_blend(wh: Any, model: Any, p: WeeklyParams, stats: pd.DataFrame, games: pd.DataFrame,
                 injuries: pd.DataFrame | None) -> Any:
    """The market blend for (season, week), fitted from the warehouse's real quote history and results of
    games BEFORE this week (this season and the last), so no extra command is needed.

    Proxy lines are not a market: with them, and without a quote history, the stated default shrinkage
    (:data:`nfl_bnn.market.DEFAULT_PRIOR`) is used and the summary says so.
    """
    from nfl_bnn import backtest_betting, features, market, warehouse

    default = market.fit_blend([], [], [], market.DEFAULT_PRIOR)
    if p.lines == "proxy":
        return default
    quotes = []
    for season in (p.season - 1, p.season):
        try:
            quotes.append(warehouse.load_quotes(wh, season, market=p.market))
        except NflBnnError as exc:
            log.info("no quote history for season %d (%s)", season, exc)
    quotes = [q for q in quotes if len(q)]
    if not quotes:
        return default
    q = market.history_before(pd.concat(quotes, ignore_index=True), p.season, p.week)
    if q.empty:
        return default
    close = backtest_betting.select_quotes(q, backtest_betting.kickoff_utc(games), "close")
    from nfl_bnn import role_features
    from nfl_bnn.roles import load_roles, load_snaps

    # the rows the model prices: roster eligibility at kickoff (as training builds them) and, when the
    # model reads role features, those too; without roster tables the box-score rule, as before
    roles = load_roles(wh, last_season=p.season)
    frame = features.attach_target(features.candidate_frame(stats, games, p.season - 1, p.season, injuries, roles=roles),
                                   stats, drop_missing=False, snaps=load_snaps(wh, p.season - 1, p.season))
    if role_features.used_sources(model.feature_names):
        frame = role_features.add_role_features(frame, roles, games)
    hist = backtest_betting.history_rows(close, frame, model)
    return market.fit_walk_forward(hist, p.season, p.week, market.DEFAULT_PRIOR)


def _team_changed(lines: pd.DataFrame, predicted_team: pd.Series) -> pd.Series:
    """Lines that name a team other than the one their player is predicted for (unknown team: kept)."""
    if lines.empty or "team" not in lines:
        return pd.Series(False, index=lines.index)
    predicted = lines["player_id"].map(predicted_team)
    team = lines["team"].astype("string").str.strip()
    return (team.notna() & (team != "") & (team != predicted.astype("string"))).fillna(False).astype(bool)


def _team_changed_rows(held: pd.DataFrame) -> pd.DataFrame:
    """One decision row per player held back by :func:`_team_changed` (no price, no stake)."""
    keep = [c for c in ("player_id", "player_name", "team", "line", "book", "source") if c in held]
    out = held[keep].reset_index(drop=True).copy()
    for c in ("side", "odds", "model_prob", "market_prob", "p_bet", "edge", "confidence"):
        out[c] = np.nan
    out["reason"], out["stake"] = "team_changed", 0.0
    return out

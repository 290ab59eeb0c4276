"""The Odds API (v4) client for NFL rushing-yards props (market ``player_rush_yds``).

Two calls (https://the-odds-api.com/liveapi/guides/v4/): ``GET /v4/sports/americanfootball_nfl/events``
lists upcoming games; ``GET /v4/sports/americanfootball_nfl/events/{id}/odds?markets=player_rush_yds
&oddsFormat=american&regions=us`` returns, per event, ``bookmakers[].markets[].outcomes[]`` with
``name`` Over/Under, ``description`` the player, ``price`` (American odds) and ``point`` (the line).
The key comes only from the ``ODDS_API_KEY`` environment variable and never appears in logs or
errors (request errors are re-worded without the URL, which carries the key).

Per book and player the main line is kept: the point quoted on both sides whose two prices are
closest (books also list alternate lines). ``fetched_at`` is the market's ``last_update`` (UTC), or for a
historical snapshot (``{"timestamp": ..., "data": {event}}``, from ``/v4/historical/...``) the snapshot's
``timestamp``: the time the price was seen, which is what the as-of rule compares.
"""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from nfl_bnn import config
from nfl_bnn.errors import ConfigError, DataError, NflBnnError
from nfl_bnn.ingest.lines import MARKET, validate_quotes_split

log = logging.getLogger("nfl_bnn.ingest.odds_api")

BASE_URL = "https://api.the-odds-api.com/v4/sports/americanfootball_nfl"


def _american_to_prob(price: float) -> float:
    return 100.0 / (price + 100.0) if price > 0 else -price / (-price + 100.0)


def parse_event_odds(payload: Any, season: int, week: int, where: str = "The Odds API response") -> pd.DataFrame:
    """Quotes (``prop_lines`` shape) from one event-odds object or a list of them (live or historical)."""
    return parse_event_odds_split(payload, season, week, where)[0]


def parse_event_odds_split(payload: Any, season: int, week: int, where: str = "The Odds API response"
                           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(quotes, refused rows with reasons) from one event-odds object or a list of them."""
    events = payload if isinstance(payload, list) else [payload]
    rows = []
    for ev in events:
        snapshot = None
        if isinstance(ev, dict) and "bookmakers" not in ev and isinstance(ev.get("data"), dict):
            # a historical snapshot (GET /v4/historical/.../events/{id}/odds?date=...): the event is under
            # "data" and "timestamp" is when the snapshot was taken, i.e. when the quote was seen
            snapshot, ev = ev.get("timestamp"), ev["data"]
        if not isinstance(ev, dict) or "bookmakers" not in ev:
            raise DataError(f"{where}: expected event objects with a 'bookmakers' list (The Odds API v4 event odds, "
                            "live or historical)")
        for bm in ev.get("bookmakers") or []:
            book = bm.get("title") or bm.get("key")
            for mk in bm.get("markets") or []:
                if mk.get("key") != MARKET:
                    continue
                fetched = snapshot or mk.get("last_update") or bm.get("last_update")
                sides: dict[tuple[str, float], dict[str, Any]] = {}
                for oc in mk.get("outcomes") or []:
                    side = str(oc.get("name", "")).lower()
                    if side not in ("over", "under") or oc.get("description") is None or oc.get("point") is None:
                        continue
                    sides.setdefault((oc["description"], float(oc["point"])), {})[side] = oc.get("price")
                best: dict[str, tuple[float, float, dict]] = {}
                for (player, point), prices in sides.items():
                    if "over" in prices and "under" in prices:
                        gap = abs(_american_to_prob(prices["over"]) - _american_to_prob(prices["under"]))
                    else:
                        gap = 1.0  # one-sided quote: only used when nothing two-sided exists
                    if player not in best or gap < best[player][0]:
                        best[player] = (gap, point, prices)
                for player, (_, point, prices) in best.items():
                    rows.append({"season": season, "week": week, "player_name": player, "team": None, "book": book,
                                 "market": MARKET, "line": point, "over_odds": prices.get("over"),
                                 "under_odds": prices.get("under"), "fetched_at": fetched})
    if not rows:
        raise DataError(f"{where}: no {MARKET} quotes found (no bookmaker offers the market yet?)")
    raw = pd.DataFrame(rows).astype({"season": str, "week": str, "line": str})
    for c in ("over_odds", "under_odds"):
        raw[c] = raw[c].map(lambda v: None if v is None else str(v))
    return validate_quotes_split(raw, where, source="odds-api")


def read_file_split(path: str | Path, season: int, week: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(quotes, refused rows) from a saved live or historical event-odds JSON response (or a list of them)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"odds file {p} does not exist; check the path")
    try:
        payload = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"odds file {p} is not readable JSON ({type(exc).__name__})") from None
    return parse_event_odds_split(payload, season, week, where=str(p))


def read_file(path: str | Path, season: int, week: int) -> pd.DataFrame:
    """Quotes from a saved event-odds JSON response (one event or a list)."""
    return read_file_split(path, season, week)[0]


def _get(session: Any, url: str, params: dict[str, str]) -> Any:
    import requests

    try:
        resp = session.get(url, params=params, timeout=30)
    except requests.RequestException as exc:
        raise NflBnnError(f"cannot reach The Odds API ({type(exc).__name__}); check the network and retry") from None
    if resp.status_code == 401:
        raise ConfigError("The Odds API rejected the key in ODDS_API_KEY (401); check the key")
    if resp.status_code == 429:
        raise NflBnnError("The Odds API quota or rate limit was reached (429); retry later")
    if resp.status_code >= 400:
        raise NflBnnError(f"The Odds API answered HTTP {resp.status_code} for {url.replace(BASE_URL, '')}")
    remaining = resp.headers.get("x-requests-remaining")
    if remaining is not None:
        log.info("The Odds API: %s requests left this month", remaining)
    return resp.json()


def fetch(season: int, week: int, regions: str = "us", bookmakers: str | None = None,
          window: tuple[datetime, datetime] | None = None, session: Any = None) -> pd.DataFrame:
    """Download this week's rushing-yards props for every NFL event commencing inside ``window``.

    ``window`` defaults to the next 7 days (UTC), which is the week ahead for a run before kickoffs.
    """
    key = os.environ.get(config.ENV_ODDS_API_KEY)
    if not key:
        raise ConfigError(f"set {config.ENV_ODDS_API_KEY} to your The Odds API key to fetch lines "
                          "(or import a CSV with `nfl-bnn import-lines`)")
    if session is None:
        import requests

        session = requests.Session()
    now = datetime.now(timezone.utc)
    start, end = window or (now, now + timedelta(days=7))
    events = _get(session, f"{BASE_URL}/events", {"apiKey": key})
    chosen = [e for e in events
              if start <= datetime.fromisoformat(e["commence_time"].replace("Z", "+00:00")) <= end]
    log.info("The Odds API: %d of %d events commence in the window", len(chosen), len(events))
    payloads = []
    for ev in chosen:
        params = {"apiKey": key, "regions": regions, "markets": MARKET, "oddsFormat": "american"}
        if bookmakers:
            params["bookmakers"] = bookmakers
        payloads.append(_get(session, f"{BASE_URL}/events/{ev['id']}/odds", params))
    if not payloads:
        raise DataError(f"The Odds API lists no NFL events between {start:%Y-%m-%d} and {end:%Y-%m-%d}")
    return parse_event_odds(payloads, season, week)

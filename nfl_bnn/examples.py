"""Keep the made-up example lines out of a real warehouse.

``examples/lines_example.csv`` shows the lines CSV format with invented players ("Example Runner
One") and books. Imported into the warehouse a user bets from, its rows would sit among real quotes
with only a "player not found" warning. It may be imported only into a scratch warehouse: an
embedded DuckDB file whose name says so (``scratch`` or ``example`` in it), e.g.
``NFL_BNN_WAREHOUSE=/tmp/scratch.duckdb nfl-bnn import-lines examples/lines_example.csv``; deleting
that file removes every trace.
"""
from __future__ import annotations

from pathlib import Path

from nfl_bnn import config
from nfl_bnn.errors import ConfigError

EXAMPLE_LINES = Path("examples") / "lines_example.csv"
#: Every player in the example file is named like this; no real player is.
EXAMPLE_MARKER = "Example Runner"


def is_example_file(path: str | Path) -> bool:
    """The shipped example (by location), or any file holding its invented players (a copy of it)."""
    p = Path(path)
    try:
        if p.resolve() == (config.PROJ_ROOT / EXAMPLE_LINES).resolve():
            return True
        with p.open("r", encoding="utf-8", errors="replace") as fh:
            return EXAMPLE_MARKER in fh.read(65536)
    except OSError:
        return False  # an unreadable file is reported by the importer itself


def is_scratch_warehouse(backend: str, dsn: str) -> bool:
    """An embedded DuckDB file named as scratch (``scratch`` or ``example`` in its file name)."""
    name = Path(dsn).name.lower()
    return backend == "duckdb" and ("scratch" in name or "example" in name)


def refuse_example_lines(path: str | Path) -> None:
    """Raise :class:`ConfigError` when the example lines would go into a warehouse that is not scratch."""
    if not is_example_file(path):
        return
    from nfl_bnn.warehouse import resolve

    target = resolve()
    if is_scratch_warehouse(target.backend, target.dsn):
        return
    raise ConfigError(
        f"{path} holds made-up example lines (players named '{EXAMPLE_MARKER} ...'), not real quotes; it is not "
        f"imported into {target.description}. To try the format, import it into a scratch warehouse: "
        f"NFL_BNN_WAREHOUSE=/tmp/scratch.duckdb nfl-bnn import-lines {path} (delete the file to remove it)")

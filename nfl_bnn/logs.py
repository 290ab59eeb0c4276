"""Logging set-up shared by the CLI, the notebooks and cron runs.

Everything logs through the standard library; :func:`setup_logging` adds a console handler and a
file handler at ``logs/pipeline.log`` so that alerts raised in a cron run are kept.
"""
from __future__ import annotations

import logging
from pathlib import Path

from nfl_bnn import config

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: int | str = logging.INFO, log_file: str | Path | None = None) -> Path:
    """Configure the ``nfl_bnn`` logger once (idempotent); return the log file path."""
    path = Path(log_file) if log_file else config.logs_dir() / "pipeline.log"
    logger = logging.getLogger("nfl_bnn")
    logger.setLevel(level)
    have = {getattr(h, "_nfl_bnn", None) for h in logger.handlers}
    if "console" not in have:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        console._nfl_bnn = "console"  # type: ignore[attr-defined]
        # records marked extra={"file_only": True} (the CLI's error line, already printed) go to the file only
        console.addFilter(lambda r: not getattr(r, "file_only", False))
        logger.addHandler(console)
    if str(path) not in have:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = logging.FileHandler(path)
        except OSError as exc:
            logger.warning("cannot write log file %s (%s); logging to console only", path, exc.strerror)
        else:
            fh.setFormatter(logging.Formatter(FORMAT))
            fh._nfl_bnn = str(path)  # type: ignore[attr-defined]
            logger.addHandler(fh)
    return path

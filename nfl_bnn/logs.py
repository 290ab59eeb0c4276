"""Logging set-up shared by the CLI, the notebooks and cron runs.

Everything logs through the standard library; :func:`setup_logging` adds a console handler and a
file handler at ``logs/pipeline.log`` so that alerts raised in a cron run are kept.

Both handlers mask passwords in every record (:func:`nfl_bnn.redact.mask_secrets`), whatever code
logged it. A log file that cannot be written (disk full, removed folder) costs one warning line on
stderr and the file handler is switched off; the records, alerts included, still reach stderr, which
cron mails. (Left alone, the standard library prints a "--- Logging error ---" traceback per record.)
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from nfl_bnn import config
from nfl_bnn.redact import mask_secrets

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _redact(record: logging.LogRecord) -> bool:
    """Handler filter: replace the record's message by its masked text (always keeps the record)."""
    msg = record.getMessage()
    masked = mask_secrets(msg)
    if masked != msg:
        record.msg, record.args = masked, None
    return True


class _LogFile(logging.FileHandler):
    """A file handler that, when a write fails, says so once on stderr and stops trying."""

    broken = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.broken:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # the name is logging's API
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            return super().handleError(record)
        self.broken = True  # set first: the warning below must not come back here
        logging.getLogger("nfl_bnn.logs").warning(
            "cannot write log file %s (%s); messages go to stderr only from now on",
            self.baseFilename, exc.strerror or type(exc).__name__)

    def close(self) -> None:
        try:
            super().close()
        except OSError:  # the unwritable buffer of a broken file; the stream is closed regardless
            pass


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
        console.addFilter(_redact)
        logger.addHandler(console)
    if str(path) not in have:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = _LogFile(path)
        except OSError as exc:
            logger.warning("cannot write log file %s (%s); logging to console only", path, exc.strerror)
        else:
            fh.setFormatter(logging.Formatter(FORMAT))
            fh.addFilter(_redact)
            fh._nfl_bnn = str(path)  # type: ignore[attr-defined]
            logger.addHandler(fh)
    return path

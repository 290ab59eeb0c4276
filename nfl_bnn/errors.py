"""Exceptions that carry a user-facing message.

Every error a user can cause (bad input, a missing file, a database that is down, a mismatched model)
is raised as a subclass of :class:`NflBnnError` with one sentence saying what is wrong, where, and how
to fix it. The CLI prints that sentence and exits non-zero; anything else is a bug and keeps its
traceback.
"""
from __future__ import annotations


class NflBnnError(Exception):
    """Base class: the message is shown to the user as is."""

    exit_code = 1


class ConfigError(NflBnnError):
    """A parameter file or override is invalid (unknown key, wrong type, out of range)."""

    exit_code = 2


class DataError(NflBnnError):
    """Input data is missing, of the wrong schema, or has invalid values."""


class DatabaseError(NflBnnError):
    """The warehouse cannot be reached, lacks a table, or a statement failed."""


class ModelArtifactError(NflBnnError):
    """A model artifact is missing, corrupted, incomplete or does not match the data."""


class BusyError(NflBnnError):
    """Another run holds the lock for the same work."""

    exit_code = 75  # EX_TEMPFAIL: cron may simply retry later


class FitCheckError(NflBnnError):
    """A fitted model failed the checks that decide whether it may be saved (convergence, calibration)."""

"""Importers: nflverse files, the embedded nflgame data, prop lines (CSV, The Odds API).

Every importer reads and validates its whole input first, then writes all its tables with
:func:`write_tables` in ONE transaction, so bad input or a failure half-way leaves the warehouse
exactly as it was. Validation errors name the file, the column and an example row.
"""
from __future__ import annotations

import logging
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from nfl_bnn.errors import DataError
from nfl_bnn.schema import create_schema
from nfl_bnn.warehouse import UpsertCounts, Warehouse

log = logging.getLogger("nfl_bnn.ingest")


def write_tables(wh: Warehouse, frames: Mapping[str, pd.DataFrame], dropped: Mapping[str, int] | None = None
                 ) -> list[UpsertCounts]:
    """Create missing tables, then upsert each frame, all in one transaction; return the counts.

    ``dropped`` adds rows removed during validation (e.g. preseason games) to a table's skipped count.
    """
    out = []
    create_schema(wh)
    with wh.transaction():
        for table, df in frames.items():
            counts = wh.upsert_df(table, df)
            counts.skipped += int((dropped or {}).get(table, 0))
            out.append(counts)
    return out


def _example(df: pd.DataFrame, mask: pd.Series, id_cols: Sequence[str]) -> str:
    row = df.loc[mask].iloc[0]
    cols = [c for c in id_cols if c in df.columns]
    return ", ".join(f"{c}={row[c]!r}" for c in cols) or f"row {df.index[mask.to_numpy()][0]}"


def require_columns(df: pd.DataFrame, required: Iterable[str], where: str, what: str) -> None:
    """Wrong schema: list every missing column at once."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"{where} does not look like {what}: missing column(s) {', '.join(missing)} "
            f"(it has {len(df.columns)} columns: {', '.join(map(str, list(df.columns)[:12]))}"
            f"{', ...' if len(df.columns) > 12 else ''})"
        )


def numeric(df: pd.DataFrame, col: str, where: str, id_cols: Sequence[str]) -> pd.Series:
    """The column as float; non-numeric values are an error naming the value and a row."""
    s = df[col]
    if pd.api.types.is_bool_dtype(s):
        raise DataError(f"{where}: column {col!r} is boolean, expected numbers")
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.any():
        raise DataError(
            f"{where}: column {col!r} has non-numeric value {s[bad].iloc[0]!r} "
            f"({int(bad.sum())} row(s); first at {_example(df, bad, id_cols)})"
        )
    return num.astype("float64")


def count_column(df: pd.DataFrame, col: str, where: str, id_cols: Sequence[str], allow_null: bool = False,
                 allow_negative: bool = False) -> pd.Series:
    """A count (carries, targets...): numeric, not NaN, a whole number, >= 0 (unless allowed)."""
    num = numeric(df, col, where, id_cols)
    if not allow_null:
        nan = num.isna()
        if nan.any():
            raise DataError(
                f"{where}: column {col!r} is empty/NaN in {int(nan.sum())} row(s) "
                f"(first at {_example(df, nan, id_cols)}); fill or drop those rows"
            )
    if not allow_negative:
        neg = num < 0
        if neg.any():
            raise DataError(
                f"{where}: column {col!r} has negative value {num[neg].iloc[0]:g} "
                f"({int(neg.sum())} row(s); first at {_example(df, neg, id_cols)}); counts must be >= 0"
            )
    inf = np.isinf(num)
    if inf.any():
        raise DataError(f"{where}: column {col!r} has an infinite value (first at {_example(df, inf, id_cols)})")
    return num


def whole(df: pd.DataFrame, num: pd.Series, col: str, where: str, id_cols: Sequence[str]) -> pd.Series:
    """Require whole numbers (carries 3.5 is a broken file, not a rounding matter)."""
    frac = num.notna() & (num % 1 != 0)
    if frac.any():
        raise DataError(
            f"{where}: column {col!r} must hold whole numbers, found {num[frac].iloc[0]:g} "
            f"(first at {_example(df, frac, id_cols)})"
        )
    return num.round().astype("Int64")


def no_duplicates(df: pd.DataFrame, key: Sequence[str], where: str, compare: Sequence[str] | None = None
                  ) -> tuple[pd.DataFrame, int]:
    """Duplicate keys within one file are an error, unless the rows agree on every ``compare`` column.

    Exact repeats (same key, same values we import) are dropped and counted; conflicting ones raise.
    Returns the de-duplicated frame and the number of rows dropped.
    """
    dup = df.duplicated(list(key), keep=False)
    if not dup.any():
        return df, 0
    cols = list(key) + [c for c in (compare or []) if c not in key]
    conflicting = df[dup].drop_duplicates(cols).duplicated(list(key), keep=False)
    if conflicting.any():
        sub = df[dup].drop_duplicates(cols)
        row = sub[conflicting].iloc[0]
        keytxt = ", ".join(f"{k}={row[k]!r}" for k in key)
        raise DataError(
            f"{where}: duplicate rows for the same key ({keytxt}) with different values; "
            "keep one row per key (the file may be two exports concatenated)"
        )
    out = df.drop_duplicates(list(key))
    n = len(df) - len(out)
    log.warning("%s: dropped %d exact duplicate row(s) (same key and values)", where, n)
    return out, n

"""Numbers in reports formatted for people, chosen by what the column holds.

A report table used to print every float with three decimals: odds as ``-110.000``, a bankroll as
``1,000.000``, an ESS as ``604.213``. A reader has to decode each one. Here a column's name says what
it is, and each kind has one format everywhere:

========================  ======================  ==========
kind                      columns (by name)       shown as
========================  ======================  ==========
American odds             odds, *_odds            ``-110``, ``+150``
lines (yards, x.5)        line, *_line            ``72.5``
money                     stake, profit, ...      ``1,000.00``
probabilities and shares  *_prob, edge, roi, ...  ``56.4%``
ESS                       ess*                    ``604``
R-hat                     *rhat*                  ``1.012``
yards                     mean, median, q05, ...  ``59.9``
any other float                                   ``0.123``
========================  ======================  ==========

Integers, text and booleans are left as they are; missing values are blank. The CSVs keep full
precision: this is for display only.
"""
from __future__ import annotations

import re
from typing import Callable

import pandas as pd

_MONEY = re.compile(r"(stake|staked|profit|bankroll|bet_amount|pnl)$")
_PROB = re.compile(
    r"(_prob$|^p_over$|^p_under$|^edge$|^confidence$|^roi|^win_rate$|_share$|^share_|^cov(erage)?\d*(_own)?$|"
    r"^target\d+$|^observed$|^mean_p$|^kelly_fraction$|^bet_fraction$|^kelly_full$|^drawdown$|"
    r"^max_drawdown$|_rate$|^weight)")
_YARDS = re.compile(r"^(mean|median|sd|q\d\d|actual|actual_yards|rushing_yards|mean_yards|mae|mae_\w+|"
                    r"clv_yards|yards)$")
Formatter = Callable[[float], str]


def _odds(v: float) -> str:
    return f"{int(round(v)):+d}"


def _pct(v: float) -> str:
    return f"{v:.1%}"


def _fixed(digits: int) -> Formatter:
    return f"{{:,.{digits}f}}".format


def _other(v: float) -> str:
    """Any other float: an integer when it is one (counts stored as floats), else 3 decimals."""
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.3f}"


def formatter_for(column: str) -> Formatter:
    """The display format of a numeric column, from its name (see the module docstring)."""
    name = str(column).strip().lower()
    if name == "decimal_odds":
        return _fixed(3)
    if name == "odds" or name.endswith("_odds"):
        return _odds
    if name == "line" or name.endswith("_line"):
        return _fixed(1)
    if "rhat" in name:
        return _fixed(3)
    if name.startswith("ess") or "_ess" in name:
        return _fixed(0)
    if _PROB.search(name):
        return _pct
    if _MONEY.search(name):
        return _fixed(2)
    if _YARDS.match(name):
        return _fixed(1)
    return _other


def _missing(v) -> bool:
    if v is None or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def format_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with numbers as strings formatted for people, blank where missing.

    Integer columns named like a kind above (odds, money) are formatted too; other integer columns
    (season, week, counts) and text are kept as they are.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_bool_dtype(s):
            continue
        fmt = formatter_for(col)
        numeric = pd.api.types.is_numeric_dtype(s) or (
            s.dtype == object and s.map(lambda v: _missing(v) or _is_number(v)).all() and s.map(_is_number).any())
        if not numeric or (pd.api.types.is_integer_dtype(s) and fmt is _other):
            if s.dtype == object or pd.api.types.is_datetime64_any_dtype(s):
                out[col] = s.map(lambda v: "" if _missing(v) else v).astype(object)
            continue
        out[col] = s.map(lambda v, f=fmt: "" if _missing(v) else f(float(v)))
    return out

"""Numbers in reports are formatted for people, by what their column holds (issue 16, item 9)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from nfl_bnn import reports
from nfl_bnn.report_format import format_frame


@pytest.mark.parametrize("column, value, shown", [
    ("odds", -110.0, "-110"), ("over_odds", 150.0, "+150"), ("line", 72.5, "72.5"), ("closing_line", 60.0, "60.0"),
    ("stake", 12.5, "12.50"), ("bankroll", 1000.0, "1,000.00"), ("profit", -28.42, "-28.42"),
    ("bet_amount", 3.0, "3.00"), ("model_prob", 0.6724, "67.2%"), ("edge", 0.0523, "5.2%"),
    ("confidence", 1.0, "100.0%"), ("roi", -0.284, "-28.4%"), ("coverage90", 0.957, "95.7%"),
    ("share_of_bankroll", 0.1, "10.0%"), ("ess_pred_min", 604.21, "604"), ("rhat_pred_max", 1.01234, "1.012"),
    ("mean", 59.998, "60.0"), ("q05", 13.94, "13.9"), ("mae", 26.2857, "26.3"), ("train_mean", 12.0, "12"),
    ("shift_sd", 10.6843, "10.684"), ("decimal_odds", 1.9090909, "1.909"),
])
def test_each_kind_has_one_format(column, value, shown):
    assert format_frame(pd.DataFrame({column: [value]}))[column].iloc[0] == shown


def test_missing_values_are_blank_and_ints_text_bools_kept():
    df = pd.DataFrame({"line": [np.nan, 55.5], "season": [2019, 2019], "player_name": ["A", None],
                       "paper": [True, False], "steps_per_draw": [None, None], "fetched_at": [pd.NaT, pd.NaT]})
    out = format_frame(df)
    assert out["line"].tolist() == ["", "55.5"]
    assert out["season"].tolist() == [2019, 2019]
    assert out["player_name"].tolist() == ["A", ""]
    assert out["paper"].tolist() == [True, False]
    assert out["steps_per_draw"].tolist() == ["", ""] and out["fetched_at"].tolist() == ["", ""]


def test_html_table_shows_formatted_numbers_not_raw_floats():
    df = pd.DataFrame({"odds": [-110.0], "line": [72.5], "bet_amount": [12.5], "model_prob": [0.672],
                       "ess_pred_min": [604.2]})
    page = reports.html_table(df)
    cells = re.findall(r"<td>(.*?)</td>", page)
    assert cells == ["-110", "72.5", "12.50", "67.2%", "604"]
    assert "-110.000" not in page

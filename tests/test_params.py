"""Typed parameters: unknown keys, wrong types and bad files are one clear ConfigError."""
from __future__ import annotations

import pytest
from pydantic import Field

from nfl_bnn.errors import ConfigError
from nfl_bnn.params import StrictModel, load_params


class Demo(StrictModel):
    season: int = Field(2019, ge=2000, le=2100)
    kelly_fraction: float = Field(0.15, gt=0, le=1)


def test_files_merge_left_to_right_then_overrides(tmp_path):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("season: 2018\nkelly_fraction: 0.1\n")
    b.write_text("kelly_fraction: 0.2\n")
    p = load_params(Demo, a, b, overrides={"season": 2020, "kelly_fraction": None})
    assert (p.season, p.kelly_fraction) == (2020, 0.2)


def test_typo_gets_did_you_mean(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("seasn: 2019\n")
    with pytest.raises(ConfigError, match=r"unknown parameter 'seasn'; did you mean 'season'\?"):
        load_params(Demo, f)


def test_wrong_type_and_range_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"season: .*got 'twenty'"):
        load_params(Demo, overrides={"season": "twenty"})
    with pytest.raises(ConfigError, match=r"kelly_fraction: .*less than or equal to 1"):
        load_params(Demo, overrides={"kelly_fraction": 1.5})


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_params(Demo, tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("season: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(Demo, bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_params(Demo, lst)

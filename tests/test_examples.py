"""The made-up example lines never land in a real warehouse (issue 16, item 7)."""
from __future__ import annotations

import shutil

from nfl_bnn import config, examples, warehouse
from nfl_bnn.cli import main

EXAMPLE = config.PROJ_ROOT / "examples" / "lines_example.csv"


def test_example_lines_are_refused_in_the_real_warehouse(project_home, capsys, tmp_path):
    assert main(["import-lines", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err
    assert "made-up example lines" in err and "NFL_BNN_WAREHOUSE=/tmp/scratch.duckdb" in err
    # nothing was written: the warehouse file was not even created
    assert not config.warehouse_path().exists()
    # a copy elsewhere is recognised by its invented players
    copy = tmp_path / "my_lines.csv"
    shutil.copyfile(EXAMPLE, copy)
    assert main(["import-lines", str(copy)]) == 2


def test_example_lines_import_into_a_scratch_warehouse(project_home, monkeypatch, tmp_path, capsys):
    scratch = tmp_path / "scratch.duckdb"
    monkeypatch.setenv("NFL_BNN_WAREHOUSE", str(scratch))
    assert main(["import-lines", str(EXAMPLE)]) == 0
    with warehouse.connect(read_only=True) as wh:
        assert wh.count("prop_lines") > 0
    scratch.unlink()  # removing the file removes every trace


def test_real_lines_file_is_not_mistaken_for_the_example(tmp_path):
    real = tmp_path / "lines.csv"
    real.write_text(EXAMPLE.read_text().replace("Example Runner One", "Real Back").replace("Example Runner Two",
                                                                                         "Other Back"))
    assert not examples.is_example_file(real)
    assert examples.is_example_file(EXAMPLE)
    assert examples.is_scratch_warehouse("duckdb", "/tmp/scratch.duckdb")
    assert not examples.is_scratch_warehouse("duckdb", "/srv/nfl/data/warehouse.duckdb")
    assert not examples.is_scratch_warehouse("postgres", "postgresql://h/scratch")

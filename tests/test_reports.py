"""The notebook runner: per-run folders, code-free self-contained HTML, escaping, clean failure."""
from __future__ import annotations

import nbformat
import pytest

from nfl_bnn import reports
from nfl_bnn.errors import ConfigError
from nfl_bnn.nbparams import check_parameters

pytestmark = pytest.mark.notebooks

HOSTILE = '<script>alert("pwned")</script>'


def _write_nb(folder, name, *cells):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("season: int = 2019\nweek: int = 10\nstarting_bankroll: float = 1000.0\n"
                                       "output_dir: str = ''\nseed: int = 1")
    params.metadata["tags"] = ["parameters"]
    check = nbformat.v4.new_code_cell("from nfl_bnn.nbparams import check_parameters\n"
                                      "p = check_parameters('review', globals())")
    nb.cells = [params, check, *[nbformat.v4.new_code_cell(c) for c in cells]]
    nb.metadata["kernelspec"] = {"name": "nfl_bnn", "display_name": "Python (nfl_bnn)", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / f"{name}.ipynb"))
    return folder


def test_run_writes_folder_with_notebook_html_and_csv(project_home, tmp_path):
    src = _write_nb(tmp_path / "nbs", "review", (
        "import pandas as pd, matplotlib.pyplot as plt\n"
        "from nfl_bnn import reports, nbparams\n"
        f"df = pd.DataFrame({{'player_name': [{HOSTILE!r}, 'A. Back'], 'book': [{HOSTILE!r}, 'b'], 'yards': [1.5, 2]}})\n"
        "reports.show_table(df, caption=df.player_name[0])\n"
        "reports.show_text('<p>Best bet: {name}</p>', name=df.player_name[0])\n"
        "display(df)\n"
        "print(df.player_name[0])\n"
        "reports.save_csv(df, nbparams.output_dir(p, 'review'), 'bets.csv')\n"
        "fig, ax = plt.subplots(); ax.plot([1, 2]); plt.show()\n"
        "assert p.week == 11"
    ))
    run = reports.run_notebook("review", overrides={"week": 11}, run_id="s2019_w11_test",
                               source_dir=src, progress=False)
    assert run == project_home / "reports" / "review" / "s2019_w11_test"
    assert sorted(p.name for p in run.iterdir()) == ["bets.csv", "review.html", "review.ipynb"]
    page = (run / "review.html").read_text()
    assert "<img" in page and "data:image/png;base64," in page  # figure embedded
    assert "reports.show_table" not in page and "import pandas" not in page  # no code input
    assert "A. Back" in page
    assert HOSTILE not in page  # escaped everywhere: table, caption, text, plain display, stdout
    assert "<script>alert" not in page
    assert page.count("&lt;script&gt;") >= 4
    # our own markup renders as markup (not escaped into visible tags)
    assert "<table" in page and "<h4>" in page and "<p>Best bet:" in page
    assert "&lt;table" not in page and "&lt;h4" not in page and "&lt;p&gt;" not in page
    assert not list((project_home / "reports" / "review").glob(".*partial"))


def test_failing_cell_names_error_and_leaves_no_output(project_home, tmp_path):
    src = _write_nb(tmp_path / "nbs", "review", "raise ValueError('diagnostics are bad: R-hat 1.9')")
    with pytest.raises(reports.NotebookError, match=r"ValueError: diagnostics are bad: R-hat 1.9"):
        reports.run_notebook("review", run_id="bad", source_dir=src, progress=False)
    folder = project_home / "reports" / "review"
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == []
    assert not list(folder.glob(".*partial"))
    assert (project_home / "logs" / "failed-notebooks" / "review_bad.ipynb").is_file()


def test_unknown_or_mistyped_parameter_fails_before_kernel(project_home, tmp_path):
    src = _write_nb(tmp_path / "nbs", "review", "pass")
    with pytest.raises(ConfigError, match=r"unknown parameter 'weak'.*did you mean 'week'"):
        reports.run_notebook("review", overrides={"weak": 3}, source_dir=src, progress=False)
    with pytest.raises(ConfigError, match=r"week"):
        reports.run_notebook("review", overrides={"week": "ten"}, source_dir=src, progress=False)
    assert not (project_home / "reports" / "review").exists() or not any((project_home / "reports" / "review").iterdir())


def test_check_parameters_rejects_injected_undeclared_name():
    ns = {"season": 2019, "week": 10, "starting_bankroll": 1000, "output_dir": "", "seed": 1, "wek": 3,
          "In": [], "pd": pytest}
    with pytest.raises(ConfigError, match=r"unknown parameter 'wek'.*did you mean 'week'"):
        check_parameters("review", ns)
    del ns["wek"]
    p = check_parameters("review", ns)
    assert ns["starting_bankroll"] == 1000.0 and isinstance(ns["starting_bankroll"], float)  # coerced, written back
    assert p.week == 10
    # a week is the same type everywhere (params.Week): "10" is refused here as by the weekly run
    with pytest.raises(ConfigError, match=r"week: .*must be a whole number, not str"):
        check_parameters("review", dict(ns, week="10"))


def test_parse_overrides_reads_yaml_scalars():
    assert reports.parse_overrides(["week=10", "paper=true", "profile=moderate", "x=1.5"]) == {
        "week": 10, "paper": True, "profile": "moderate", "x": 1.5}
    with pytest.raises(Exception, match="KEY=VALUE"):
        reports.parse_overrides(["week"])


def test_make_run_id():
    import datetime as dt

    assert reports.make_run_id(2019, 9, dt.datetime(2024, 1, 2, 3, 4, 5)) == "s2019_w09_20240102T030405"
    assert reports.make_run_id(now=dt.datetime(2024, 1, 2, 3, 4, 5)) == "20240102T030405"

"""``nfl-bnn --help`` explains every option in plain text (issue 16, item 8)."""
from __future__ import annotations

import pytest

from nfl_bnn import cli, cli_help, reports
from nfl_bnn.errors import ConfigError


def test_every_option_of_every_command_has_help():
    assert cli_help.options_without_help(cli.build_parser()) == []


def test_help_is_plain_text_without_rst_backticks(capsys):
    parser = cli.build_parser()
    commands = list(cli_help._subparsers(parser))
    for argv in [["--help"], *[[c, "--help"] for c in commands]]:
        with pytest.raises(SystemExit):
            cli.main(argv)
        out = capsys.readouterr().out
        assert "`" not in out, f"{' '.join(argv)} prints backticks"
    with pytest.raises(SystemExit):
        cli.main(["weekly", "--help"])
    out = capsys.readouterr().out
    assert "smallest edge to bet" in out and "fraction of the full Kelly stake" in out


def test_plain_strips_literals():
    assert cli_help.plain("NFL week, or `next`; see ``nfl_bnn.cli``") == "NFL week, or 'next'; see nfl_bnn.cli"


def test_unknown_profile_is_refused_before_the_kernel_starts(project_home, monkeypatch):
    def no_kernel(*a, **k):
        raise AssertionError("a kernel was looked up for a run with a bad profile")

    monkeypatch.setattr(reports, "_kernel_name", no_kernel)
    with pytest.raises(ConfigError, match="unknown risk profile 'agressive'; choose one of .*aggressive"):
        reports.run_notebook("weekly", overrides={"profile": "agressive"}, progress=False)
    assert not list((project_home / "reports").glob("weekly/*")) if (project_home / "reports").exists() else True

"""Security: credentials never leak; SQL is always parameterized (hostile strings through every path that
reaches SQL, on both backends, plus a source scan); nothing loaded from disk can execute code.
HTML escaping of data is tested in tests/test_reports.py and tests/test_notebooks.py (see
docs/reliability.md).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pytest

from _fakes import FakeModel, load_week4, make_frames

from nfl_bnn import cli, ledger, warehouse
from nfl_bnn.model import MixtureExpertsBNN

PKG = Path(__file__).resolve().parents[1] / "nfl_bnn"
SECRET = "S3cr3t-pw_do-not-leak"



def _everything_written(home: Path) -> str:
    """Every file under the project home (reports, logs, params copies), as text."""
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in home.rglob("*")
                     if p.is_file() and not p.name.endswith(".duckdb"))


# --- credentials -------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["init-db"], ["weekly", "--season", "2024", "--week", "4"],
                                  ["settle", "--season", "2024"], ["review", "--season", "2024"], ["-v", "init-db"]])
@pytest.mark.parametrize("how", ["url", "libpq-env"])
def test_password_of_a_failing_connection_appears_nowhere(project_home, monkeypatch, capsys, argv, how):
    if how == "url":
        monkeypatch.setenv("NFL_BNN_DATABASE_URL", f"postgresql://nfl:{SECRET}@127.0.0.1:1/nfl")
    else:
        for k, v in dict(PGHOST="127.0.0.1", PGPORT="1", PGUSER="nfl", PGPASSWORD=SECRET, PGDATABASE="nfl").items():
            monkeypatch.setenv(k, v)
    monkeypatch.setattr(MixtureExpertsBNN, "load", classmethod(lambda cls, path: FakeModel()))
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    assert rc == 1 and "cannot reach PostgreSQL" in err
    log_text = (project_home / "logs" / "pipeline.log").read_text()
    assert "cannot reach PostgreSQL" in log_text  # the failure is logged ...
    for where in (out, err, log_text, _everything_written(project_home)):
        assert SECRET not in where  # ... without the password


@pytest.mark.postgres
def test_password_never_in_outputs_ledger_or_logs_of_a_working_run(project_home, pg_server_url, monkeypatch,
                                                                     capsys):
    """Trust auth ignores the password, so a URL carrying one connects: a whole run must not echo it."""
    parts = urlsplit(pg_server_url)
    user = parts.username or "postgres"
    url = urlunsplit(parts._replace(netloc=f"{user}:{SECRET}@{parts.hostname}:{parts.port or 5432}"))
    monkeypatch.setenv("NFL_BNN_DATABASE_URL", url)
    with warehouse.connect() as wh:
        load_week4(wh, lines=[("KC-RB1", "over", 80.5, -110, -110), ("KC-RB1", "under", 80.5, -110, -110)])
        assert SECRET not in repr(wh) and SECRET not in wh.description
    monkeypatch.setattr(MixtureExpertsBNN, "load", classmethod(lambda cls, path: FakeModel()))
    assert cli.main(["-v", "weekly", "--season", "2024", "--week", "4"]) == 3
    assert cli.main(["settle", "--season", "2024"]) == 0 and cli.main(["review", "--season", "2024"]) == 0
    assert cli.main(["backup"]) == 0
    out, err = capsys.readouterr()
    with warehouse.connect() as wh:
        stored = wh.query_df("SELECT * FROM bets").astype(str).to_csv()
    assert "bets recorded" in out and len(stored) > 100
    for where in (out, err, stored, _everything_written(project_home)):
        assert SECRET not in where
    import tarfile

    for arc in (project_home / "backups").glob("*.tar.gz"):
        with tarfile.open(arc) as tf:
            for m in tf.getmembers():
                f = tf.extractfile(m)
                assert f is None or SECRET.encode() not in f.read()


def test_params_files_hold_no_credentials():
    """Connection settings come only from the environment: no params file has a URL, user or password."""
    root = PKG.parent / "params"
    for f in root.rglob("*.yaml"):
        text = f.read_text().lower()
        assert "postgresql://" not in text and "password" not in text, f
    from nfl_bnn.params import StrictModel

    fields = {n for cls in StrictModel.__subclasses__() for n in cls.model_fields}
    assert not {n for n in fields if re.search(r"password|database_url|dsn|secret|api_key", n)}


# --- the database setting: never a file name, never shown with its password ------------------------
@pytest.mark.parametrize("setting", [
    f"host=127.0.0.1 port=1 user=nfl password={SECRET} dbname=nfl",  # libpq key=value: PostgreSQL
    f"host=127.0.0.1 port=1 password='{SECRET} x' dbname=nfl",  # quoted value with a space
    f"my warehouse password={SECRET}",  # anything else: refused
    f"nfl:{SECRET}@localhost/nfl",  # a URL without its scheme: refused
], ids=["libpq", "libpq-quoted", "text", "no-scheme"])
def test_a_non_url_database_setting_is_never_a_file(project_home, tmp_path, monkeypatch, capsys, setting):
    """Before: any text became a DuckDB file of that name in the current folder, printed with its password."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("NFL_BNN_DATABASE_URL", setting)
    rc = cli.main(["init-db"])
    out, err = capsys.readouterr()
    assert rc == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    if setting.startswith("host="):
        assert "cannot reach PostgreSQL host=127.0.0.1 port=1" in err
    else:
        assert "NFL_BNN_DATABASE_URL is neither a PostgreSQL URL" in err and "libpq" in err
    assert not list(cwd.iterdir()) and not (project_home / "data").exists()  # no file named after the setting
    log_text = (project_home / "logs" / "pipeline.log").read_text()
    for where in (out, err, log_text):
        assert SECRET not in where


def test_libpq_strings_with_unknown_keywords_are_refused_by_name(monkeypatch):
    monkeypatch.setenv("NFL_BNN_DATABASE_URL", f"host=h dbnmae=nfl password={SECRET}")
    with pytest.raises(warehouse.DatabaseError, match="unknown keyword.*dbnmae") as e:
        warehouse.resolve()
    assert SECRET not in str(e.value)


@pytest.mark.parametrize("backend", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_libpq_string_and_duckdb_prefix_are_accepted(project_home, tmp_path, monkeypatch, capsys, backend, request):
    """Both backends from NFL_BNN_DATABASE_URL: a libpq key=value string is PostgreSQL, duckdb:PATH a file."""
    if backend == "postgres":
        parts = urlsplit(request.getfixturevalue("pg_server_url"))
        setting = (f"host={parts.hostname} port={parts.port or 5432} user={parts.username or 'postgres'} "
                   f"password={SECRET} dbname={parts.path.lstrip('/')}")
        want = f"warehouse ready: PostgreSQL host={parts.hostname}"
    else:
        setting = f"duckdb:{tmp_path / 'wh.duckdb'}"
        want = f"warehouse ready: DuckDB file {tmp_path / 'wh.duckdb'}"
    monkeypatch.setenv("NFL_BNN_DATABASE_URL", setting)
    assert cli.main(["init-db"]) == 0
    out, err = capsys.readouterr()
    assert want in out and SECRET not in out + err
    assert "Target(" in repr(warehouse.resolve()) and SECRET not in repr(warehouse.resolve())


UNENCODED = "pa/ss#w?rd@x"  # a password as people type it into a URL, unencoded


@pytest.mark.parametrize("argv", [["init-db"], ["settle", "--season", "2024"], ["-v", "review", "--season", "2024"],
                                  ["weekly", "--season", "2024", "--week", "4"]])
def test_an_unencoded_password_is_masked_on_stderr_and_in_the_log(project_home, monkeypatch, capsys, argv):
    """Before: a password holding / # ? was shown in full (the URL parser ended the user part early)."""
    monkeypatch.setenv("NFL_BNN_DATABASE_URL", f"postgresql://nfl:{UNENCODED}@127.0.0.1:1/nfl")
    monkeypatch.setattr(MixtureExpertsBNN, "load", classmethod(lambda cls, path: FakeModel()))
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    log_text = (project_home / "logs" / "pipeline.log").read_text()
    assert rc == 1 and "postgresql://nfl:***@" in err and "failed: cannot connect to PostgreSQL postgresql://nfl:***@" in log_text
    for where in (out, err, log_text, _everything_written(project_home)):
        assert "pa/ss" not in where and "w?rd" not in where


@pytest.mark.parametrize("text, shown", [
    ("postgresql://u:pa/ss#w?rd@h:5432/db", "postgresql://u:***@h:5432/db"),
    ("postgres://u:a@b@h/db", "postgres://u:***@h/db"),
    ("postgresql://h/db?user=u&password=p/w#x&sslmode=require", "postgresql://h/db?user=u&password=***&sslmode=require"),
    ("host=h password=hunter2 dbname=d", "host=h password=*** dbname=d"),
    ("host=h password = 'a b\\' c' dbname=d", "host=h password = *** dbname=d"),
    ("postgresql://me@host/db", "postgresql://me@host/db"),
])
def test_mask_url_covers_unencoded_and_libpq_passwords(text, shown):
    assert warehouse.mask_url(text) == shown


def test_a_params_file_error_does_not_echo_secrets(project_home, tmp_path, monkeypatch, capsys):
    """Before: a wrong value echoed the whole mapping (every value, a database_url included)."""
    f = tmp_path / "weekly.yaml"
    f.write_text(f"database_url: postgresql://nfl:{SECRET}@db/nfl\nalerts: postgresql://nfl:{SECRET}@db/nfl\n"
                 f"alerts_extra: {{password: {SECRET}}}\nkelly_fraction: 0.2\n")
    rc = cli.main(["weekly", "--season", "2024", "--week", "4", "--params", str(f)])
    err = capsys.readouterr().err
    log_text = (project_home / "logs" / "pipeline.log").read_text()
    assert rc == 2 and "bankroll: Field required" in err and "unknown parameter 'database_url'" in err
    assert "alerts: Input should be a valid dictionary" in err and "got 'postgresql://nfl:***@db/nfl'" in err
    for where in (err, log_text):
        assert SECRET not in where


def test_every_log_record_is_masked(project_home):
    """Whatever code logs a connection string, the log file and the console get it masked."""
    import logging

    from nfl_bnn.logs import setup_logging

    path = setup_logging()
    logging.getLogger("nfl_bnn.anything").warning("connecting to %s", f"postgresql://u:{UNENCODED}@h/db")
    logging.getLogger("nfl_bnn.anything").warning("libpq host=h password=%s", SECRET)
    text = path.read_text()
    assert "postgresql://u:***@h/db" in text and "password=***" in text
    assert "pa/ss" not in text and SECRET not in text


# --- SQL: hostile strings through every path, both backends ---------------------------------------
HOSTILE = ["O'Brien", "Robert'); DROP TABLE bets;--", 'x" OR "1"="1', "a%sb?c$1", "'; DELETE FROM mart.games; --"]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def hostile_wh(request, project_home, monkeypatch):
    if request.param == "postgres":
        monkeypatch.setenv("NFL_BNN_DATABASE_URL", request.getfixturevalue("pg_server_url"))
    _, stats = make_frames()
    # the four starters get hostile names AND ids; books too
    rename = {f"{t}-RB1": (f"{t}-RB1{HOSTILE[i]}", f"{HOSTILE[i]} {t}") for i, t in enumerate(("KC", "BUF", "MIA", "BAL"))}
    for old, (pid, name) in rename.items():
        m = stats.player_id == old
        stats.loc[m, "player_id"], stats.loc[m, "player_name"] = pid, name
    with warehouse.connect() as wh:
        load_week4(wh, lines=None, stats=stats)
    return rename


def _lines_csv(tmp_path, rename) -> Path:
    rows = []
    for i, (pid, name) in enumerate(rename.values()):
        book = HOSTILE[-1 - i]
        rows.append({"season": 2024, "week": 4, "player_name": name, "team": pid.split("-")[0], "book": book,
                     "market": "player_rush_yds", "line": 60.5, "over_odds": -110, "under_odds": -110,
                     "fetched_at": "2024-10-01T09:00:00Z"})
    p = tmp_path / "hostile_lines.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


class HostileModel(FakeModel):
    """P(over) 0.65 for everyone: every starter gets an over bet."""

    def prob_over(self, X, lines, per_draw=False):
        import numpy as np

        d = np.full((10, len(X)), 0.65)
        return d if per_draw else d.mean(axis=0)


def test_hostile_strings_through_import_weekly_ledger_settle_review(hostile_wh, tmp_path, monkeypatch, capsys):
    rename = hostile_wh
    names = sorted(n for _, n in rename.values())
    # importer: lines CSV (player matching by name reaches SQL)
    assert cli.main(["import-lines", str(_lines_csv(tmp_path, rename))]) == 0
    with warehouse.connect() as wh:
        best = warehouse.load_best_lines(wh, 2024, 4)
    assert sorted(set(best.player_name)) == names and set(best.player_id) == {p for p, _ in rename.values()}
    # weekly -> ledger (bet ids, names and books are values)
    monkeypatch.setattr(MixtureExpertsBNN, "load", classmethod(lambda cls, path: HostileModel()))
    assert cli.main(["weekly", "--season", "2024", "--week", "4", "--min-confidence", "0.5"]) == 3
    with warehouse.connect() as wh:
        got = ledger.load_bets(wh, 2024, 4)
    assert sorted(got.player_name) == names and set(got.book) == {HOSTILE[-1 - i] for i in range(4)}
    assert set(got.player_id) == {p for p, _ in rename.values()}
    # settle: results for week 4 arrive with the hostile ids; settlement joins on them
    games, stats = make_frames(weeks_played=4)
    stats = stats[stats.week == 4].copy()
    for old, (pid, name) in rename.items():
        m = stats.player_id == old
        stats.loc[m, "player_id"], stats.loc[m, "player_name"] = pid, name
    with warehouse.connect() as wh:
        wh.upsert_df("mart.games", games[games.week == 4])
        wh.upsert_df("mart.player_game_stats", stats)
    assert cli.main(["settle", "--season", "2024", "--week", "4"]) == 0
    # review, with a hostile profile filter: matches nothing, returns no rows (not every row)
    assert cli.main(["review", "--season", "2024", "--profile", "x' OR '1'='1"]) == 0
    assert "no bets in the ledger" in capsys.readouterr().out
    assert cli.main(["review", "--season", "2024"]) == 0
    with warehouse.connect() as wh:
        settled = ledger.load_bets(wh, 2024, 4)
        counts = {t: wh.count(t) for t in ("bets", "mart.games", "mart.player_game_stats", "prop_lines")}
    assert set(settled.status) <= {"win", "loss", "push"} and len(settled) == len(got)  # joined, none void
    assert counts["bets"] == len(got) and counts["mart.games"] == 8 and counts["prop_lines"] == 4
    assert counts["mart.player_game_stats"] == 3 * 8 + 8  # weeks 1-3 x 8 rows + week 4: nothing dropped


# --- SQL: a source scan ---------------------------------------------------------------------------
SQL_WORDS = re.compile(r"\b(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|CREATE|DROP|ALTER|WHERE|VALUES)\b")

#: Expressions allowed inside SQL f-strings: identifiers and clause text built by our own code from
#: fixed names (schema.KEYS/TABLES, INSERT_COLUMNS, `_check_ident`-checked names) - never a value.
ALLOWED_SQL_INTERPOLATIONS = {
    "ledger.py": {"where", "' AND '.join(where)", "wk_sql", "', '.join(INSERT_COLUMNS)", "placeholders"},
    "schema.py": {"schema"},
    "tables.py": {"cols", "table", "where", "', '.join(order)",
                  "<Add on 'WHERE'>"},  # + " AND ".join of fixed "season >= ?" clauses
    "warehouse.py": {"where", "table", "stage", "col_list", "on", "same", "c", "', '.join(key)", "action",
                     "name",
                     "<Add on 'DO UPDATE SET'>",  # + ", ".join(f"{c} = EXCLUDED.{c}") over checked column names
                     "<Add on 'WHERE'>"},  # + " AND ".join of fixed "season >= ?" clauses
}


def _sql_fstrings():
    for f in sorted(PKG.rglob("*.py")):
        tree = ast.parse(f.read_text(), filename=str(f))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if SQL_WORDS.search(text):
                    yield f, node, [ast.unparse(v.value) for v in node.values if isinstance(v, ast.FormattedValue)]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
                    and isinstance(node.func.value, ast.Constant) and SQL_WORDS.search(str(node.func.value.value)):
                yield f, node, ["<str.format>"]
            elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
                for side in (node.left, node.right):
                    if isinstance(side, ast.Constant) and isinstance(side.value, str) \
                            and SQL_WORDS.search(side.value) and not all(
                                isinstance(s, ast.Constant) for s in (node.left, node.right)):
                        yield f, node, [f"<{type(node.op).__name__} on {side.value.strip()!r}>"]


def test_no_sql_is_built_around_values():
    bad = []
    for f, node, exprs in _sql_fstrings():
        allowed = ALLOWED_SQL_INTERPOLATIONS.get(f.name, set())
        for e in exprs:
            if e not in allowed:
                bad.append(f"{f.relative_to(PKG.parent)}:{node.lineno}: {e}")
    assert not bad, ("SQL built with interpolated values (use ? parameters; identifiers only from a fixed "
                     "allow-list):\n" + "\n".join(bad))


def test_the_scan_catches_an_interpolated_value(tmp_path, monkeypatch):
    """The scan itself works: a value put into SQL with an f-string, % or .format is reported."""
    import test_security as me

    (tmp_path / "nfl_bnn").mkdir()
    (tmp_path / "nfl_bnn" / "evil.py").write_text(
        'def f(wh, name):\n'
        '    wh.execute(f"SELECT * FROM bets WHERE player_name = \'{name}\'")\n'
        '    wh.execute("DELETE FROM bets WHERE book = \'%s\'" % name)\n'
        '    wh.execute("UPDATE bets SET book = \'{}\'".format(name))\n')
    monkeypatch.setattr(me, "PKG", tmp_path / "nfl_bnn")
    found = [e for _, _, exprs in _sql_fstrings() for e in exprs]
    assert sorted(found) == sorted(["name", "<Mod on \"DELETE FROM bets WHERE book = '%s'\">", "<str.format>"])


def test_identifiers_are_checked_against_a_plain_name_pattern(tmp_path):
    with warehouse.connect(str(tmp_path / "w.duckdb")) as wh:
        for bad in ("bets; DROP TABLE bets", "bets--", "a b", "x'y"):
            with pytest.raises(ValueError, match="not a plain SQL identifier"):
                wh.count(bad)


# --- nothing loaded from disk can run code ----------------------------------------------------------
UNSAFE = [
    (r"\bimport\s+pickle\b|\bfrom\s+pickle\b|\bpickle\.load", "pickle"),
    (r"\bcPickle\b|\bdill\b|\bcloudpickle\b", "pickle variants"),
    (r"\bjoblib\b", "joblib"),
    (r"allow_pickle\s*=\s*True", "np.load(allow_pickle=True)"),
    (r"\btorch\.load\b", "torch.load"),
    (r"\bpd\.read_pickle\b|\bread_pickle\(", "pandas.read_pickle"),
    (r"\bmarshal\.loads?\b|\bshelve\b", "marshal/shelve"),
    (r"\beval\(|\bexec\(", "eval/exec"),
]


def test_no_code_executing_formats_in_the_package():
    hits = []
    for f in sorted(PKG.rglob("*.py")):
        src = f.read_text()
        for pattern, what in UNSAFE:
            for m in re.finditer(pattern, src):
                line = src[: m.start()].count("\n") + 1
                hits.append(f"{f.name}:{line}: {what}")
        for m in re.finditer(r"yaml\.(load|load_all|unsafe_load|full_load)\(([^)]*)\)", src):
            if m.group(1) in ("unsafe_load", "full_load") or "SafeLoader" not in m.group(2):
                hits.append(f"{f.name}:{src[: m.start()].count(chr(10)) + 1}: yaml.{m.group(1)} without SafeLoader")
    assert not hits, "\n".join(hits)


def test_np_load_calls_all_refuse_pickles():
    """Every np.load in the package passes allow_pickle=False explicitly."""
    for f in sorted(PKG.rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("np.load", "numpy.load"):
                kw = {k.arg: ast.unparse(k.value) for k in node.keywords}
                assert kw.get("allow_pickle") == "False", f"{f.name}:{node.lineno}"


def test_a_pickled_artifact_is_refused_not_executed(project_home, tmp_path):
    """An .npz holding a pickled object (which would run code when unpickled) is refused."""
    import numpy as np

    flag = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.write_text, (flag, "code ran"))

    path = project_home / "models" / "evil.npz"
    path.parent.mkdir(parents=True)
    with open(path, "wb") as fh:
        np.savez(fh, __meta__=np.array([Evil()], dtype=object), alpha=np.array([Evil()], dtype=object))
    from nfl_bnn.errors import ModelArtifactError

    with pytest.raises(ModelArtifactError):
        MixtureExpertsBNN.load(path)
    assert not flag.exists()

"""Run a notebook with papermill into a per-run folder and render a shareable HTML report.

Each run gets ``reports/<notebook>/<run_id>/`` (``run_id`` like ``s2019_w10_20241126T142100``) with
the executed notebook, ``<notebook>.html`` (no code cells, images embedded, so it can be emailed) and
the CSVs the notebook wrote. The run is staged in a hidden ``.partial`` folder and renamed into place
only when the notebook and its HTML are complete: a failed run leaves no folder that looks finished.
The failed executed notebook is kept under ``logs/failed-notebooks/`` for debugging, and the error
raised names the failing cell and its exception.

Values from data are escaped twice: tables go through :func:`html_table` / pandas' escaping, text
through :func:`html_text`, and :func:`sanitize_outputs` cleans every HTML output with a structural
allow-list before export, so a player or book named ``<script>`` cannot put script into a report.
"""
from __future__ import annotations

import datetime as dt
import html
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from nfl_bnn import config
from nfl_bnn.errors import NflBnnError
from nfl_bnn.fileio import atomic_write, atomic_write_text, csv_writer, ensure_writable_dir, run_lock
from nfl_bnn.nbparams import model_for
from nfl_bnn.params import read_yaml, validate

log = logging.getLogger("nfl_bnn.reports")

ENV_KERNEL = "NFL_BNN_KERNEL"
DEFAULT_KERNEL = "nfl_bnn"


class NotebookError(NflBnnError):
    """A notebook cell raised: the message names the notebook, the cell and the exception."""


def notebooks_dir() -> Path:
    return config.PROJ_ROOT / "notebooks"


def make_run_id(season: int | None = None, week: int | None = None, now: dt.datetime | None = None) -> str:
    """``s2019_w10_20241126T142100`` (season and week parts only when given)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%dT%H%M%S")
    parts = []
    if season is not None:
        parts.append(f"s{int(season)}")
    if week is not None:
        parts.append(f"w{int(week):02d}")
    return "_".join([*parts, stamp])


def parse_overrides(pairs: Iterable[str]) -> dict[str, Any]:
    """``["week=10", "paper=true"]`` -> ``{"week": 10, "paper": True}`` (values read as YAML scalars)."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise NflBnnError(f"parameter override {pair!r} is not KEY=VALUE (e.g. -p week=10)")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


def collect_parameters(notebook: str, params_files: Iterable[str | Path] = (), overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge params files and overrides and validate them against the notebook's model (before any kernel)."""
    merged: dict[str, Any] = {}
    sources = []
    for f in params_files:
        if f:
            merged.update(read_yaml(f))
            sources.append(str(f))
    if overrides:
        merged.update(overrides)
        sources.append("overrides")
    model = model_for(notebook)
    validate(model, merged, source=f"parameters of notebook {notebook!r} ({' + '.join(sources) or 'defaults'})")
    return merged


def _kernel_name(kernel: str | None) -> str:
    name = kernel or os.environ.get(ENV_KERNEL, DEFAULT_KERNEL)
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise NflBnnError(
            f"Jupyter kernel {name!r} is not installed; run `make setup` (it registers the kernel in .venv) "
            f"or set {ENV_KERNEL} to an installed kernel"
        ) from None
    return name


#: Markup our notebooks emit (headings, paragraphs, tables, lists); anything else in an HTML output,
#: above all <script>, <img onerror=...>, <iframe>, is escaped into visible text by bleach.
_ALLOWED_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "div", "em", "h1", "h2", "h3", "h4",
                 "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "small", "span", "strong", "sub", "sup", "table",
                 "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}
_ALLOWED_ATTRS = {"*": ["class", "id", "title"], "a": ["href"], "td": ["colspan", "rowspan"],
                  "th": ["colspan", "rowspan"], "table": ["border"]}


def sanitize_outputs(nb) -> None:
    """Clean every HTML output of an executed notebook in place, and drop stderr streams.

    nbconvert's own ``sanitize_html`` allows so few tags that it escapes our headings and tables into
    visible markup, so outputs are cleaned here with a structural allow-list instead (values from data
    are escaped a first time by :func:`html_table` / :func:`html_text`). stderr (library warnings, log
    lines) stays in the executed notebook but is not part of the shareable report.
    """
    import bleach

    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                continue
            data = out.get("data", {})
            if "text/html" in data:
                raw = data["text/html"]
                raw = "".join(raw) if isinstance(raw, list) else raw
                data["text/html"] = bleach.clean(raw, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS,
                                                 protocols={"http", "https"}, strip_comments=True)
            for unsafe in ("application/javascript", "text/javascript", "image/svg+xml"):
                data.pop(unsafe, None)
            kept.append(out)
        cell["outputs"] = kept


def export_html(notebook_path: str | Path, html_path: str | Path, title: str | None = None) -> Path:
    """Render an executed notebook to self-contained HTML: no code cells or prompts, images embedded."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    sanitize_outputs(nb)
    exporter = HTMLExporter(
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        sanitize_html=False,  # done by sanitize_outputs: nbconvert's list would escape our own tables
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title or Path(notebook_path).stem}})
    return atomic_write_text(html_path, body)


def _cell_error(exc: Exception) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    count = getattr(exc, "exec_count", None)
    where = f"cell [{count}]" if count is not None else "a cell"
    return f"{where} raised {ename}: {evalue}"


def run_notebook(
    notebook: str,
    params_files: Iterable[str | Path] = (),
    overrides: Mapping[str, Any] | None = None,
    *,
    run_id: str | None = None,
    kernel: str | None = None,
    progress: bool = True,
    log_output: bool = False,
    source_dir: str | Path | None = None,
    timeout_s: int | None = None,
) -> Path:
    """Execute ``notebooks/<notebook>.ipynb`` with parameters; return the finished run folder.

    Raises :class:`NotebookError` (with the failing cell's exception) when a cell fails, and
    :class:`~nfl_bnn.errors.ConfigError` for bad parameters before any kernel starts.
    """
    import papermill as pm

    src = Path(source_dir or notebooks_dir()) / f"{notebook}.ipynb"
    if not src.is_file():
        raise NflBnnError(f"notebook {src} does not exist; available: "
                          + ", ".join(sorted(p.stem for p in src.parent.glob("*.ipynb"))))
    params = collect_parameters(notebook, params_files, overrides)
    run_id = run_id or make_run_id(params.get("season"), params.get("week"))
    root = ensure_writable_dir(config.reports_dir() / notebook)
    final = root / run_id
    if final.exists():
        raise NflBnnError(f"report folder {final} already exists; choose another run id")
    staging = root / f".{run_id}.partial"
    kernel_name = _kernel_name(kernel)
    with run_lock(root / f".{run_id}.lock", f"notebook {notebook} run {run_id}"):
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        params = {**params, "output_dir": str(staging)}
        executed = staging / f"{notebook}.ipynb"
        log.info("running notebook %s (run %s) with %s", notebook, run_id,
                 {k: v for k, v in params.items() if k != "output_dir"})
        try:
            pm.execute_notebook(
                str(src), str(executed), parameters=params, kernel_name=kernel_name,
                progress_bar=progress, log_output=log_output, cwd=str(config.PROJ_ROOT),
                execution_timeout=timeout_s, report_mode=False,
            )
            export_html(executed, staging / f"{notebook}.html", title=f"{notebook} {run_id}")
        except BaseException as exc:
            failed_dir = config.logs_dir() / "failed-notebooks"
            kept = None
            if executed.is_file():
                failed_dir.mkdir(parents=True, exist_ok=True)
                kept = failed_dir / f"{notebook}_{run_id}.ipynb"
                shutil.copyfile(executed, kept)
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, pm.PapermillExecutionError):
                msg = f"notebook {notebook} failed: {_cell_error(exc)}"
                if kept:
                    msg += f" (executed notebook kept at {kept})"
                log.error(msg)
                raise NotebookError(msg) from None
            raise
        os.replace(staging, final)
    (root / f".{run_id}.lock").unlink(missing_ok=True)
    log.info("report written to %s", final / f"{notebook}.html")
    return final


# --- helpers the notebooks call to show data safely ---------------------------------------------
def html_text(template: str, **values: Any) -> str:
    """Format ``template`` with every value HTML-escaped (names from data never become markup)."""
    return template.format(**{k: html.escape(str(v)) for k, v in values.items()})


def html_table(df: pd.DataFrame, float_format: str = "{:,.3f}", max_rows: int = 200) -> str:
    """A DataFrame as an escaped HTML table (pandas escapes cell text and headers with ``escape=True``)."""
    return df.head(max_rows).to_html(index=False, escape=True, border=0, classes="nfl-bnn",
                                     float_format=float_format.format, na_rep="")


def show_table(df: pd.DataFrame, caption: str = "", **kw: Any) -> None:
    """Display an escaped table (with an escaped caption) in a notebook."""
    from IPython.display import HTML, display

    head = f"<h4>{html.escape(caption)}</h4>" if caption else ""
    display(HTML(head + html_table(df, **kw)))


def show_text(template: str, **values: Any) -> None:
    from IPython.display import HTML, display

    display(HTML(html_text(template, **values)))


def save_csv(df: pd.DataFrame, out_dir: str | Path, name: str) -> Path:
    """Write a run's CSV atomically into its output folder."""
    return atomic_write(Path(out_dir) / name, csv_writer(df))  # formula-like text neutralised

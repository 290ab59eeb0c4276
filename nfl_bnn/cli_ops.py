"""``nfl-bnn`` operations commands: run-notebook, drift, backup, restore, doctor.

Registered on the console script's parser by :func:`nfl_bnn.cli.build_parser`; heavy imports happen
inside the handlers so that ``nfl-bnn --help`` is instant.
"""
from __future__ import annotations

import argparse
import sys

from nfl_bnn import config


# --- operations: doctor, drift, backup, restore, reports --------------------------------------
def _ops_commands(sub: argparse._SubParsersAction) -> None:
    """run-notebook, drift, backup, restore, doctor (see nfl_bnn.reports, drift, backup, doctor)."""

    def run_notebook(args) -> int:
        from nfl_bnn import reports

        overrides = reports.parse_overrides(args.param or [])
        run = reports.run_notebook(args.name, args.params or [], overrides, run_id=args.run_id,
                                   progress=not args.no_progress, log_output=args.log_output,
                                   stderr_to=sys.stderr)  # the kernel's log lines (sampling progress) as they come
        print(f"report: {run / (args.name + '.html')}")
        print(f"run folder: {run}")
        return 0

    def drift_cmd(args) -> int:
        from nfl_bnn import drift
        from nfl_bnn.model import MixtureExpertsBNN

        model = MixtureExpertsBNN.load(config.resolve_model_path(args.model))
        d = drift.drift_for_model(model, drift.season_features(args.season, args.last_week), args.threshold)
        print(d[["feature", "train_mean", "train_sd", "season_mean", "shift_sd", "drifted", "calendar"]]
              .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(drift.recommendation(d, args.threshold))
        return 3 if d["drifted"].any() else 0

    def backup_cmd(args) -> int:
        from nfl_bnn import backup

        print(f"backup written: {backup.backup(include_ledger=not args.no_ledger)}")
        return 0

    def restore_cmd(args) -> int:
        from nfl_bnn import backup

        out = backup.restore(args.archive, force=args.force)
        for arc, version in out["models_loaded"].items():
            print(f"model {arc} loads: version {version}")
        print(f"restored {len(out['written'])} files; kept {len(out['kept_existing'])} existing "
              f"(use --force to overwrite); params and ledger CSV in {out['params_and_ledger']}")
        return 0

    def doctor_cmd(args) -> int:
        from nfl_bnn import doctor

        results = doctor.run_checks(config.resolve_model_path(args.model), args.calibration_weeks)
        for r in results:
            print(r.line())
        failed, warned = sum(not r.ok for r in results), sum(r.warn for r in results)
        print(f"{len(results) - failed - warned} passed, {warned} warnings, {failed} failed")
        return 1 if failed else 0

    p = sub.add_parser("run-notebook", help="run notebooks/NAME.ipynb with papermill into reports/NAME/<run_id>/")
    p.add_argument("name", help="train, weekly, calibration, review, drift or backtest")
    p.add_argument("--params", action="append", metavar="FILE", help="YAML params file (repeatable, later wins)")
    p.add_argument("-p", "--param", action="append", metavar="KEY=VALUE", help="override one parameter")
    p.add_argument("--run-id", help="name of the run folder (default s<season>_w<week>_<timestamp>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (cron)")
    p.add_argument("--log-output", action="store_true", help="stream cell output to the log")
    p.set_defaults(handler=run_notebook)

    p = sub.add_parser("drift", help="feature drift of a season vs the model's training scaler (exit 3: retrain)")
    p.add_argument("--season", type=int, required=True)
    p.add_argument("--last-week", type=int, default=22)
    p.add_argument("--model", default="models/latest.npz")
    p.add_argument("--threshold", type=float, default=0.5, help="shift in training sd that recommends retraining")
    p.set_defaults(handler=drift_cmd)

    p = sub.add_parser("backup", help="write backups/nfl_bnn_backup_<timestamp>.tar.gz (models, params, reports, ledger CSV)")
    p.add_argument("--no-ledger", action="store_true", help="files only (when the database is down)")
    p.set_defaults(handler=backup_cmd)

    p = sub.add_parser("restore", help="restore a backup archive safely and prove it by loading its model")
    p.add_argument("archive")
    p.add_argument("--force", action="store_true", help="overwrite existing models and reports")
    p.set_defaults(handler=restore_cmd)

    p = sub.add_parser("doctor", help="production checklist: each item PASS/FAIL with a reason (exit 1 on FAIL)")
    p.add_argument("--model", default="models/latest.npz")
    p.add_argument("--calibration-weeks", type=int, default=4)
    p.set_defaults(handler=doctor_cmd)

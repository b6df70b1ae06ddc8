# Two commands matter: `make demo` (install, build, load the demo, serve) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := .make
HOST ?= 127.0.0.1
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install frontend demo serve test lint format bench models models-folds services clean

help:
	@echo "make demo   install everything, build the frontend, load the demo project, serve on http://$(HOST):$(PORT)"
	@echo "make test   install and run the whole suite (lint, unit, PostgreSQL, browser)"
	@echo "make bench  run the benchmarks and print their figures"
	@echo "make models retrain the shipped ONNX models from scratch (axial: leave-one-volume-out, then the shipped model on every real volume)"
	@echo "make models-folds  leave-one-volume-out folds of both views only (shipped files untouched)"

$(STAMP):
	mkdir -p $(STAMP)

# torch first and pinned: an unpinned torch pulls gigabytes of CUDA packages.
$(STAMP)/venv: pyproject.toml | $(STAMP)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	touch $@

install: $(STAMP)/venv $(STAMP)/npm

$(STAMP)/npm: frontend/package.json frontend/package-lock.json | $(STAMP)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

FRONTEND_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/vite.config.ts frontend/tsconfig.json frontend/index.html
frontend/dist/.vite/manifest.json: $(STAMP)/npm $(FRONTEND_SOURCES)
	cd frontend && npm run --silent build

frontend: frontend/dist/.vite/manifest.json

demo: install frontend
	$(PY) manage.py ensure_secret_key
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py load_demo
	@echo "pre-labelling the demo cases with the shipped models (a few minutes on a laptop)"
	$(PY) manage.py worker --single --batch --interval 0
	$(PY) manage.py demo_campaign
	HOST=$(HOST) PORT=$(PORT) bash scripts/serve.sh

serve: install frontend
	HOST=$(HOST) PORT=$(PORT) bash scripts/serve.sh

services:
	bash scripts/ensure_services.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	DATABASE_URL=$${DATABASE_URL:-postgres://spinelabel@127.0.0.1:5432/spinelabel} $(PY) manage.py makemigrations --check --dry-run -v 1
	cd frontend && npm run --silent typecheck
	cd frontend && npm run --silent lint

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install services frontend lint
	cd frontend && npm test --silent
	$(VENV)/bin/pytest -n 2 --dist loadfile -q

bench: install services frontend
	bash scripts/bench.sh

models: install
	$(PY) scripts/make_models.py

models-folds: install
	$(PY) scripts/make_models.py --lovo --no-final

clean:
	rm -rf $(STAMP) frontend/dist var/test-data test-output bench-output

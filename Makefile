# Linli: two commands on a fresh machine.
#   make run   - install everything, train the NLU model if needed, migrate and seed,
#                start embedded Redis, Rasa and the server (foreground; Ctrl-C stops all)
#   make test  - install everything, lint (make lint), then run the whole test suite (SQLite,
#                and PostgreSQL too when a server answers on 127.0.0.1:5432)
#   make test-chaos - the same set-up, then only the chaos suite (pytest -m chaos)
#   make check - lint and the fast unit tier (tests/unit), about a minute and a half
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.linli-installed

.PHONY: run test test-chaos venv rasa-venv model lint check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "linli: the service needs Python 3.11+ (set PYTHON=...)"; exit 1; }
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP)

rasa-venv:
	@bash scripts/setup-rasa.sh

model: venv rasa-venv
	$(VENV)/bin/linli nlu train

run: venv rasa-venv
	$(VENV)/bin/linli run

test: lint rasa-venv
	@bash scripts/test.sh

# The fast loop (about a minute): lint, then the unit tier — the engine, every form and the
# message readers on a seeded SQLite with recorded parses, extractors, parsers, settings,
# repositories on SQLite (tests/unit; no Rasa, no server), on two processes.
check: lint
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider -n 2 tests/unit

# Only the chaos suite (tests/chaos: faults injected into real processes; counts printed
# and written to var/chaos-report.json). `make test` runs it too.
test-chaos: venv rasa-venv
	@bash scripts/test.sh -m chaos -s

# ruff (rules and formatting; no `# fmt: skip` packing in the service), mypy, and the
# import rules of pyproject.toml [tool.importlinter] (docs/architecture.md explains them).
lint: venv
	$(VENV)/bin/ruff check bot handlers nlu storage tests
	$(VENV)/bin/ruff format --check bot handlers nlu storage tests
	@if grep -rn --include='*.py' 'fmt: skip' bot handlers nlu storage; then \
		echo "linli: format those statements normally (no # fmt: skip packing)"; exit 1; fi
	$(VENV)/bin/mypy bot handlers nlu storage
	$(VENV)/bin/lint-imports

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

# Each target creates or reuses the local virtual environment first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml scripts/setup_env.sh
	bash scripts/setup_env.sh $(VENV)

demo: $(STAMP)
	$(VENV)/bin/msg build

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Generated inputs go to benchmarks/data (git-ignored); figures to benchmarks/results.
bench: $(STAMP)
	$(PY) -m benchmarks.run --sizes 1000 10000 --workers 1 2 --json benchmarks/results/make-bench.json

clean:
	rm -rf outputs

# Everything a user needs: `make demo` and `make test`. Both build .venv from the lock file first.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.synced

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml uv.lock
	@test -x $(UV) || ($(PYTHON) -m venv $(VENV) && $(VENV)/bin/python -m pip install --quiet uv==0.13.8)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --quiet
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rex demo

test: $(STAMP)
	@$(VENV)/bin/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi; exit $$status

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/bench_pipeline.py

clean:
	rm -rf data/synthetic data/releases data/onprem data/.prefect

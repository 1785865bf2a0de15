# Everything a user needs: `make demo` and `make test`. Both build .venv from the lock file first.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.synced
# where `rex demo` writes (REX_DATA_DIR, as for rex itself), and the releases the notebook reads
DATA := $(or $(REX_DATA_DIR),data)
DEMO_RELEASE := $(DATA)/releases/dulbea-barometer/18-088_sample_2020-06-30
DEMO_ONPREM := $(DATA)/onprem/dulbea-barometer/18-088_onprem_2020-06-30

.PHONY: demo test notebook lint bench clean sandbox

# Bytecode is compiled when the packages are installed, and rex's own before each run: Python
# then compiles no module at import, which cost each process about 2.6 s (1,400 modules: a
# third of a small command) wherever bytecode cannot be written beside the sources
# (PYTHONDONTWRITEBYTECODE set, a read-only install), in every test worker and child process.
$(STAMP): pyproject.toml uv.lock
	@test -x $(UV) || ($(PYTHON) -m venv $(VENV) && $(VENV)/bin/python -m pip install --quiet uv==0.13.8)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --quiet --compile-bytecode
	@touch $(STAMP)
COMPILE := $(VENV)/bin/python -m compileall -q -j 0 flows specs transforms synthetic researcher

# bubblewrap, the sandbox analysis runs need (flows/analysis/sandbox.py): installed when it is missing and
# this is root on Debian; anywhere else the command to install it is said, and analysis runs
# refuse until it is there.
sandbox:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing bubblewrap (the sandbox of analysis runs)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq >/dev/null && apt-get install -y -qq bubblewrap >/dev/null; \
	  else \
	    echo "analysis runs need bubblewrap: sudo apt-get install bubblewrap (Debian, Ubuntu)" >&2; \
	  fi; }

demo: $(STAMP) sandbox
	@$(COMPILE)
	$(VENV)/bin/rex demo

# The suite on every core (at most 4): a file's tests run together in one worker, so that its
# shared stores are made once; the session's world is made once per worker.
test: $(STAMP) sandbox
	@$(COMPILE) tests
	@$(VENV)/bin/python -m pytest -n auto --maxprocesses 4 --dist loadfile; status=$$?; \
	if [ $$status -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi; exit $$status

# The barometer notebook, executed against the demo release (made first if it is not there),
# rendered to HTML under $(DATA)/notebooks/.
notebook: $(STAMP)
	@test -f $(DEMO_RELEASE)/manifest.json -a -f $(DEMO_ONPREM)/manifest.json || $(VENV)/bin/rex demo
	REX_RELEASE=$(abspath $(DEMO_RELEASE)) REX_ONPREM=$(abspath $(DEMO_ONPREM)) \
		$(VENV)/bin/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=600 \
		--output-dir $(DATA)/notebooks notebooks/barometer.ipynb
	@echo $(DATA)/notebooks/barometer.html

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/bench_pipeline.py

clean:
	rm -rf data/synthetic data/releases data/onprem data/.prefect data/notebooks

# Two commands on a fresh Linux machine: `make demo` and `make test`. Everything else is set up here.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Extra options for `make demo`, e.g. make demo DEMO_ARGS="--time-budget 90s --out runs/ci-demo"
DEMO_ARGS ?=
# pytest-xdist workers for `make test`: auto is one per CPU core; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto
# What the installed .venv takes on disk (2,311 MB measured on 2026-11-29): less free space fails the install.
VENV_MB := 2400

.PHONY: demo test sysdeps venv clean bench

# Debian packages: bubblewrap for the sandbox; chromium for the report rendering test.
sysdeps:
	@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian packages:$$missing"; \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Please install:$$missing (no apt-get on this machine)"; \
	  fi; \
	fi

$(STAMP): requirements.lock requirements-ray.lock requirements-fm.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "omicsagent needs Python 3.11"' 
	@free=$$(df -Pm . | awk 'NR==2 {print $$4}'); \
	have=$$(du -sm $(VENV) 2>/dev/null | cut -f1); need=$$(( $(VENV_MB) - $${have:-0} )); \
	if [ "$$free" -lt "$$need" ]; then \
	  echo "The environment (.venv) needs about $$need MB more disk and only $$free MB are free here; free some space and run make again." >&2; \
	  exit 2; \
	fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.lock -r requirements-ray.lock -r requirements-fm.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

venv: $(STAMP)

demo: sysdeps venv
	$(BIN)/omicsagent demo $(DEMO_ARGS)

# Bytecode for the package: an editable install gets none from pip, and the sandbox never writes any
# (PYTHONDONTWRITEBYTECODE=1), so without it every sandboxed script compiles the omicsagent modules it imports.
test: sysdeps venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m compileall -q src
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

bench: sysdeps venv
	$(BIN)/python benchmarks/ml_expert.py

clean:
	rm -rf $(VENV) runs .pytest_cache

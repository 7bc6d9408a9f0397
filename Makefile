# Everyday commands. `make demo` and `make test` each set everything up from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_JOBS ?= 2

.PHONY: demo test unit notebooks browser-deps lab bench lint format clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

## demo: render the monthly reports of the committed demo data into reports/
demo: $(STAMP)
	$(BIN)/rehab report --all --jobs 2
	@echo "Open reports/index.html in a browser."

## test: every test: unit, notebooks (nbval), report rendering and the headless-browser check
test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -n $(PYTEST_JOBS) -p no:cacheprovider tests
	REHAB_KEEP_KERNELS=0 $(BIN)/python -m pytest -p no:cacheprovider --nbval-lax notebooks/0*.ipynb

## browser-deps: Debian's chromium for the browser test (installed once)
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## lab: JupyterLab on notebooks/ (as root, e.g. in a container, Jupyter needs --allow-root)
lab: $(STAMP)
	$(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/

## bench: the benchmarks (figures and ratios against baselines measured in the same run)
bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The code is laid out by hand (tables of constants, one-line expressions kept whole); ruff's
# formatter would spread it over twice the lines, so lint is ruff's rules only.
lint: $(STAMP)
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

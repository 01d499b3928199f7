# The two commands of the README. Each creates .venv/ on first use (Python 3.11+ only).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

# Debian packages the tests and the executable evidence need (a real browser, model
# checkers, document converters, database servers). Installed once, as root, when missing.
APT_PACKAGES := chromium fonts-wqy-microhei spin gcc pandoc texlive-latex-base texlive-latex-recommended \
                postgresql

.PHONY: run test lint bench setup system clean

setup: $(STAMP)

system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/kg build
	$(BIN)/kg serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src api tests benchmarks

test: $(STAMP) system lint
	$(BIN)/python -m pytest

# Side by side with Oxigraph server and rdflib-endpoint (BENCHMARKS.md); SIZES=10k,100k,1M
SIZES ?= 10k,100k
bench: $(STAMP)
	$(BIN)/python benchmarks/peers/run.py --sizes $(SIZES) --out bench-results.json
	$(BIN)/python benchmarks/peers/pages.py

clean:
	rm -rf $(VENV) .kg .pytest_cache .ruff_cache

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
                texlive-latex-extra texlive-bibtex-extra biber texlive-xetex texlive-lang-chinese \
                texlive-fonts-recommended lmodern poppler-utils postgresql virtuoso-opensource

.PHONY: run test lint bench bench-remote setup system clean font paper fuseki

# Apache Jena Fuseki for the remote-store tests (tests/test_remote_fuseki.py), from Maven
# Central; a machine that cannot reach it skips those tests and says why.
FUSEKI_VERSION := 5.6.0
FUSEKI_JAR     := .cache/fuseki/jena-fuseki-server-$(FUSEKI_VERSION).jar


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

fuseki:
	@test -f $(FUSEKI_JAR) || mvn -q -B dependency:copy \
	  -Dartifact=org.apache.jena:jena-fuseki-server:$(FUSEKI_VERSION) \
	  -DoutputDirectory=.cache/fuseki \
	  || echo "Fuseki not fetched (Maven Central unreachable?): its tests will be skipped"

# The package's bytecode is written once first (also where PYTHONDONTWRITEBYTECODE is set):
# the suite starts a few hundred Python processes, which would each compile it again.
test: $(STAMP) system fuseki lint
	$(BIN)/python -m compileall -q src api benchmarks >/dev/null
	$(BIN)/python -m pytest

# Side by side with Oxigraph server and rdflib-endpoint (BENCHMARKS.md); SIZES=10k,100k,1M
SIZES ?= 10k,100k
bench: $(STAMP)
	$(BIN)/python benchmarks/peers/run.py --sizes $(SIZES) --out bench-results.json
	$(BIN)/python benchmarks/peers/pages.py

# The same graph pushed to Oxigraph server and to Virtuoso, and served over each
# (BENCHMARKS.md, "Remote stores"); e.g. make bench-remote SIZES=100k
bench-remote: $(STAMP) system
	$(BIN)/python benchmarks/peers/remote.py --sizes $(SIZES) --out bench-remote-results.json

# The Chinese font the pages serve (src/kg/static/fonts/): Noto Sans SC from the npm
# package @fontsource/noto-sans-sc (SIL OFL 1.1, OFL.txt beside it), cut to the 3,755
# common characters of GB 2312 plus every Han character of data/, ontology/, queries/
# and the interface's messages. Rerun when new text uses a rarer character.
FONT_PACKAGE := @fontsource/noto-sans-sc@5.3.0
font: $(STAMP)
	rm -rf .font-build && mkdir -p .font-build
	cd .font-build && npm pack --silent $(FONT_PACKAGE) >/dev/null && tar xzf *.tgz
	$(BIN)/python -c 'import re, pathlib; \
	  chars = {bytes([h, l]).decode("gb2312") for h in range(0xB0, 0xD8) for l in range(0xA1, 0xFF) if (h, l) < (0xD7, 0xFA)}; \
	  files = [p for g in ("data/*.ttl", "ontology/*.ttl", "queries/*.rq", "src/kg/**/messages.py", "src/kg/**/templates/*.html") for p in pathlib.Path(".").glob(g)]; \
	  [chars.update(re.findall(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f]", p.read_text())) for p in files]; \
	  pathlib.Path(".font-build/chars.txt").write_text("".join(sorted(chars)))'
	$(BIN)/pyftsubset .font-build/package/files/noto-sans-sc-chinese-simplified-400-normal.woff \
	  --text-file=.font-build/chars.txt --flavor=woff --layout-features='*' \
	  --output-file=$$(dirname $$(find src/kg -name site.css))/fonts/noto-sans-sc-subset.woff
	cp .font-build/package/LICENSE $$(dirname $$(find src/kg -name site.css))/fonts/OFL.txt
	rm -rf .font-build

# The worked example paper (docs/paper/) from kg outputs only: tables, figure, path,
# bibliographies; then every toolchain's PDF and a PNG of its first page for the README.
paper: $(STAMP) system
	$(BIN)/kg build -q
	$(MAKE) -C docs/paper KG="$(abspath $(BIN)/kg) --project $(CURDIR)"

clean:
	rm -rf $(VENV) .kg .pytest_cache .ruff_cache

# The two commands of the README. Each creates the virtual environment on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check bench bench-families network-table lint clean browser serve-demo

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,service,peers]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/invswarm demo --periods 24

# Debian's chromium and its driver, for the service's browser test (CI has Debian's registry).
browser:
	test -x /usr/bin/chromium && test -x /usr/bin/chromedriver || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		chromium chromium-driver)

# The redeployment service with the electronics case as five firms (docs/service.md).
serve-demo: $(STAMP)
	mkdir -p .cache && rm -f .cache/serve-demo.db*
	$(BIN)/invswarm serve --demo --db sqlite:///.cache/serve-demo.db --tokens .cache/tokens.json

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# The tests a developer runs while working: all but those marked slow (exact solves, child
# processes, the long property tests, the bench suite). `make test` runs everything.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not slow"

# The micro-benchmarks (benchmarks/, pytest-benchmark; their JSON in .benchmarks/micro.json),
# then the suite of `invswarm bench`, which writes docs/bench/ (results.json, plots) and the
# report docs/benchmarks.md, with the micro-benchmarks' figures. Prints each figure as measured.
# The report is written even when a micro-benchmark misses its goal; make then still fails.
bench: $(STAMP)
	mkdir -p .benchmarks
	$(BIN)/python -m pytest benchmarks -q -s --benchmark-columns=min,median,max,rounds \
		--benchmark-json=.benchmarks/micro.json; status=$$?; \
	$(BIN)/invswarm bench --micro .benchmarks/micro.json --out-dir docs/bench \
		--report docs/benchmarks.md --readme README.md --command-line "make bench" \
		&& exit $$status

# The SFI instance families (docs/models/sfi.md, "Instance families"): our PSO against the
# exact solver on each, merged into the report. The exact runs (600 s each) are kept in
# docs/bench/families_exact.json and reused while their plans still cost what they recorded.
# `invswarm bench --experiments families --exact-time 60 --merge` makes the same table against
# 60 s exact runs (a weaker yardstick, in under two hours).
bench-families: $(STAMP)
	$(BIN)/invswarm bench --experiments families --merge --out-dir docs/bench \
		--report docs/benchmarks.md --command-line "make bench-families"

# The methods side by side on the shipped network case, written into docs/models/network.md.
network-table: $(STAMP)
	mkdir -p .cache
	$(BIN)/invswarm case electronics --out .cache/electronics.json
	$(BIN)/invswarm compare .cache/electronics.json --methods exact,pso,greedy,none --seeds 5 \
		--swarm-time 10 --time-limit 600 --gap 0 --into docs/models/network.md \
		--out .cache/electronics-compare.json --command-line "make network-table"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .benchmarks kernels/__pycache__

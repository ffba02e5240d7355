# The two commands a fresh machine needs (see README.md):
#   make bench   set everything up, benchmark the newest RadiObject commit, publish the dashboard
#   make test    run the test suite
# Everything is installed into .venv by pip; torch is pinned and installed first (see requirements/).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= default
export RADIBENCH_PROFILE := $(PROFILE)

.PHONY: bench bench-all test lint venv report html screenshot

venv: $(VENV)/.installed

$(VENV)/.installed: requirements/bench.txt requirements/dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# make bench measures radibench.suite.BENCH (the recipe comparison and RadiObject's exact counts
# per batch) for the recipes its answer compares (radibench.frameworks.ANSWER: RadiObject's and
# each peer's best); make bench-all, the whole suite and every recipe.
bench: BENCHMARKS = $$($(BIN)/python -c 'from radibench.suite import BENCH; print(BENCH)')
bench: RECIPES = $$($(BIN)/python -c 'from radibench.frameworks import ANSWER; print(",".join(ANSWER))')
bench-all: BENCHMARKS = .
bench-all: RECIPES =
bench bench-all: venv
	$(BIN)/radibench source
	$(BIN)/radibench data --profile $(PROFILE)
	$(BIN)/radibench machine
	RADIBENCH_RECIPES="$(RECIPES)" $(BIN)/asv --config $$($(BIN)/radibench source --config) \
		run --record-samples --show-stderr -b "$(BENCHMARKS)" \
		--machine $$($(BIN)/radibench machine --name) "$$($(BIN)/radibench source --newest)^!"
	$(BIN)/asv --config $$($(BIN)/radibench source --config) publish
	@$(BIN)/radibench report --answer --results-dir $$($(BIN)/radibench source --results-dir) \
		--machine $$($(BIN)/radibench machine --name) --commit $$($(BIN)/radibench source --newest) \
		--out $$($(BIN)/radibench source --html-dir)/report
	@[ -z "$(RECIPES)" ] || echo "Measured the recipes $(RECIPES);" \
		"make bench-all measures the rest (the peers' study recipes) and the whole suite."
	@echo "Dashboard: $(BIN)/python -m http.server --bind 127.0.0.1 -d $$($(BIN)/radibench source --html-dir) 8080"
	@echo "then open http://127.0.0.1:8080/ (the full report: http://127.0.0.1:8080/report/report.md)"

# One report per machine, never mixed: every recipe, the study's loaders and the S3 numbers in
# 5 processes each (docs/report), the cohorts and the recipes in one process each before that
# (docs/report/xeon).
report: venv
	rm -rf docs/report
	$(BIN)/radibench report --machine epyc-2c-24g-v1272 --out docs/report
	$(BIN)/radibench report --machine xeon-2c-24g --out docs/report/xeon

# The committed dashboard, rebuilt from results/ alone: offline, no RadiObject history needed
# (asv.html.conf.json). `make test` fails (radibench check-html) when html/ is not results/.
# A fixed hash seed: asv lists the regressions in set order, and html/ should change only
# where results/ did (and info.json's publish time).
html: venv
	PYTHONHASHSEED=0 $(BIN)/asv --config asv.html.conf.json publish

# The README's picture of the dashboard's first view (docs/dashboard.png), taken in headless
# Chromium from the published html/: run it after publishing html/ again.
screenshot: venv
	.ci/install-browser
	$(BIN)/python -m radibench.tools.screenshot --html html --out docs/dashboard.png

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/asv check --config asv.conf.json --python=same
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows \
		.github/workflows/*.yml .github/radiobject-workflows/*.yml
	$(BIN)/zizmor --offline --config .github/zizmor.yml \
		.github/workflows/ .github/radiobject-workflows/*.yml

test: venv
	.ci/install-browser
	$(MAKE) lint
	$(BIN)/radibench check-results results
	$(BIN)/radibench check-html --results results --html html
	$(BIN)/python -m pytest -q -ra --durations=25

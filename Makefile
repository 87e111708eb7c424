# The one entry point. `make demo` and `make test` set up everything they need on a fresh machine:
# a .venv with the engine (and torch), the app's npm packages, and the compiled CLI.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
# The CPU build of torch that lies on this project's machines; a torch >= 2.4 already in the venv is kept.
TORCH_SPEC ?= torch==2.13.0
DUALPROC := node app/bin/dualproc.js

.PHONY: results setup demo test test-engine test-gpu test-app test-studio check build clean

setup: $(STAMPS)/venv $(STAMPS)/npm $(STAMPS)/build

$(STAMPS)/venv: engine/pyproject.toml
	@mkdir -p $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch, sys; v = tuple(map(int, torch.__version__.split('+')[0].split('.')[:2])); sys.exit(v < (2, 4))" 2>/dev/null \
		|| $(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e "engine[models,dev]"
	@touch $@

$(STAMPS)/npm: app/package.json app/package-lock.json
	@mkdir -p $(STAMPS)
	cd app && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(STAMPS)/build: $(STAMPS)/npm $(shell find app/src app/web/src -name '*.ts*' -o -name '*.css' 2>/dev/null) app/tsconfig.json app/tsconfig.build.json app/web/index.html
	cd app && npm run --silent build
	@touch $@

build: $(STAMPS)/build

# The main job on the embedded default: render Scenes with their ground truth, then teach the embedded
# generator the demo control (horizon at 30% of the height, with the red-line visual prompt) and write its report.
# Teach every control recipe of the library and tabulate base vs taught success (docs/results.md).
# A candidate judge pair or generator is checked the same way: make results JUDGE=DIR HELDOUT_JUDGE=DIR
# GENERATOR=DIR (docs/judge.md, docs/generator.md); RESULTS=DIR puts the runs elsewhere than out/results.
# SEEDS="1 2 3" also teaches each recipe at those training seeds (RESULTS/RECIPE-seed-N; the recipes' own is 0),
# and the table gives the taught success over all of them, since two training seeds can be 25 points apart.
RESULTS ?= out/results
SEEDS ?=
RESULT_RECIPES = horizon-30 palette-colours line-weight relative-depth composition attribute-night
MODEL_ARGS = $(if $(GENERATOR),--generator $(GENERATOR)) $(if $(JUDGE),--judge $(JUDGE)) \
	$(if $(HELDOUT_JUDGE),--heldout-judge $(HELDOUT_JUDGE))
results: setup
	@for r in $(RESULT_RECIPES); do rm -rf $(RESULTS)/$$r $(RESULTS)/$$r-seed-*; \
	  $(DUALPROC) teach recipes/$$r.yaml --out $(RESULTS)/$$r -q $(MODEL_ARGS) || exit 1; \
	  for s in $(SEEDS); do \
	    $(DUALPROC) teach recipes/$$r.yaml --out $(RESULTS)/$$r-seed-$$s --seed $$s -q $(MODEL_ARGS) || exit 1; \
	  done; done
	cd app && npx tsx scripts/results-table.ts $(addprefix $(abspath $(RESULTS))/,$(RESULT_RECIPES))

demo: setup
	$(DUALPROC) world render --n 64 --seed 0 --size-px 64 --out out/demo/scenes
	rm -rf out/demo/teach
	$(DUALPROC) teach recipes/horizon-30.yaml --out out/demo/teach
	@echo "demo output in out/demo: scenes/contact_sheet.png; teach/report.md (the taught LoRA, grids, curves); teach/eval/report.html (the held-out evaluation)"

# Every suite runs even if an earlier one fails; each prints a closing line CI can read.
test: setup
	@status=0; \
	$(MAKE) --no-print-directory test-engine || status=1; \
	$(MAKE) --no-print-directory test-app || status=1; \
	$(MAKE) --no-print-directory test-studio || status=1; \
	exit $$status

test-engine: $(STAMPS)/venv
	$(PY) -m pytest engine/tests

# The product's GPU path (tests marked gpu: every family on CUDA in bf16, the embedded default taught on CUDA
# against the CPU; docs/models.md "On a GPU"). Part of test-engine too, where they skip without CUDA.
test-gpu: $(STAMPS)/venv
	$(PY) -m pytest -m gpu -rs engine/tests

test-app: $(STAMPS)/npm $(STAMPS)/venv
	cd app && node scripts/vitest-summary.mjs

# The studio end to end in Debian's Chromium (installed here if missing), against the real engine.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
test-studio: $(STAMPS)/build $(STAMPS)/venv $(CHROMIUM)
	cd app && CHROMIUM=$(CHROMIUM) node scripts/vitest-summary.mjs --config vitest.e2e.config.ts

$(CHROMIUM):
	$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium > /dev/null

check: setup
	@status=0; \
	$(PY) -m ruff check engine || status=1; \
	$(PY) -m ruff format --check engine || status=1; \
	$(PY) -m mypy engine/src || status=1; \
	(cd app && npx tsc --noEmit -p tsconfig.json) || status=1; \
	(cd app && npx tsc --noEmit -p src/eval/measurers/tsconfig.json) || status=1; \
	(cd app && npx tsc --noEmit -p web/tsconfig.json) || status=1; \
	(cd app && npx eslint .) || status=1; \
	(cd app && npx prettier --check . --log-level warn) || status=1; \
	exit $$status

clean:
	rm -rf $(STAMPS) app/dist out

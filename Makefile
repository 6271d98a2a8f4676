# The pipeline's commands. `make` alone lists them.
PYTHON     ?= python3
VENV       := .venv
BIN        := $(VENV)/bin
# WAVE names the wave to build (waves/<WAVE>/wave.yaml says everything else). The other variables are
# taken from the wave; give one on the command line only to try something without editing wave.yaml.
WAVE       ?= 2018
WAVES      ?= waves
WAVE_DIR   := $(WAVES)/$(WAVE)
EXPORT     ?= $(WAVE_EXPORT)
SUPPLEMENT ?= $(WAVE_SUPPLEMENT)
TEMPLATES  ?= $(WAVE_TEMPLATES)
TEXTS      ?= $(WAVE_TEXTS)
PROCESSED  ?= $(WAVE_DIR)/processed
OUT        ?= $(if $(filter waves,$(WAVES)),reports/$(WAVE),$(WAVES)/../reports/$(WAVE))
WAVE_MK    := $(PROCESSED)/.wave.mk

.DEFAULT_GOAL := help
.PHONY: help install report preview browser test lint bench clean

help:  ## List the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
	@echo "  Variables: WAVE=$(WAVE) (waves/$(WAVE)/wave.yaml; report into reports/$(WAVE))"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# axe-core, the accessibility checker the tests run in Chromium, pinned; without npm the test skips.
AXE_VERSION := 4.10.3
$(VENV)/axe/.installed-$(AXE_VERSION): $(BIN)/.installed
	@if command -v npm >/dev/null; then \
	  npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/axe axe-core@$(AXE_VERSION) && touch $@; \
	else echo "npm not found: axe-core not installed, the accessibility test will skip"; fi

install: $(BIN)/.installed $(VENV)/axe/.installed-$(AXE_VERSION)  ## Create .venv and install the project into it

# The stages as file targets: a stage is due when its inputs, its module or its config changed. Each stage's
# recipe only notes that it is due; the report's recipe then runs the earliest due stage and every later one
# in one process (imports paid once), so an edit re-runs what it affects and nothing before it.
# The prerequisites follow the table of stages in pipeline/app/runner.py (tests/test_make.py holds them to it).
PY         := $(BIN)/python -m pipeline --config config --waves "$(WAVES)"
COMMON     := $(BIN)/.installed pipeline/app/cli.py pipeline/app/runner.py pipeline/core/config.py pipeline/core/schemas.py pipeline/core/errors.py
INGEST_ARGS := $(PROCESSED)/.ingest-args
RENDER_ARGS := $(PROCESSED)/.render-args
DUE        := $(PROCESSED)/.due-stages

# Remember the export, supplement, templates and texts the outputs were made from, so that changing
# one of these variables re-runs what depends on it (and only that).
define remember
$(shell mkdir -p "$(PROCESSED)" && printf '%s\n' $(2) > "$(1).new" && \
  { cmp -s "$(1).new" "$(1)" && rm -f "$(1).new" || mv "$(1).new" "$(1)"; })
endef
ifneq ($(filter report,$(MAKECMDGOALS)),)
ifeq ($(wildcard $(WAVE_DIR)/wave.yaml),)
$(error error: wave $(WAVE): $(WAVE_DIR)/wave.yaml not found; start one with `python -m pipeline new-wave $(WAVE) --export FILE`)
endif
# The wave's paths, written by the pipeline from wave.yaml, so that the prerequisites follow the wave.
-include $(WAVE_MK)
$(call remember,$(INGEST_ARGS),"$(WAVE)" "$(EXPORT)" "$(SUPPLEMENT)")
$(call remember,$(RENDER_ARGS),"$(WAVE)" "$(TEMPLATES)" "$(TEXTS)")
endif

$(WAVE_MK): $(WAVE_DIR)/wave.yaml pipeline/waves/wave.py $(BIN)/.installed
	@mkdir -p "$(@D)" && $(BIN)/python -m pipeline --waves "$(WAVES)" make-vars "$(WAVE)" > "$@.new" && mv "$@.new" "$@"

# A missing export is one line, not make's "No rule to make target".
missing-export:
	@echo "error: $(EXPORT): file not found; check the export in $(WAVE_DIR)/wave.yaml (or EXPORT=)." >&2; exit 1

# Note the stage as due and touch its output, so that make sees it changed and notes the later stages too.
# The note is removed only when the run succeeds: after a failed or interrupted run it is still there, it is
# a prerequisite of the report, and the next `make report` starts again from the earliest stage it names.
define due
@echo $(1) >> "$(DUE)"; touch -c "$@"
endef

$(PROCESSED)/responses.parquet: $(if $(wildcard $(EXPORT)),$(EXPORT),missing-export) $(SUPPLEMENT) $(INGEST_ARGS) \
		pipeline/reading/ingest.py pipeline/reading/qualtrics.py pipeline/reading/deidentify.py config/instrument.yaml config/settings.yaml \
		config/not_names.txt $(WAVE_DIR)/wave.yaml \
		$(COMMON)
	$(call due,ingest)

$(PROCESSED)/networks.parquet: $(PROCESSED)/responses.parquet pipeline/analysis/normalise.py pipeline/language/matching.py \
		config/taxonomies.yaml config/instrument.yaml $(COMMON)
	$(call due,normalise)

$(PROCESSED)/involvement.parquet: $(PROCESSED)/networks.parquet
	$(call due,normalise)

$(PROCESSED)/codes.parquet: $(PROCESSED)/networks.parquet pipeline/coding/rules.py pipeline/language/matching.py \
		config/codebook.yaml $(wildcard $(WAVE_DIR)/coding_corrections.csv) $(COMMON)
	$(call due,code)

$(PROCESSED)/tables.json: $(PROCESSED)/codes.parquet $(PROCESSED)/networks.parquet $(PROCESSED)/involvement.parquet \
		pipeline/analysis/aggregate.py pipeline/core/excel.py pipeline/waves/compare.py pipeline/analysis/spss.py config/codebook.yaml config/taxonomies.yaml \
		config/instrument.yaml $(wildcard $(WAVE_PREVIOUS_TABLES)) $(wildcard $(WAVE_DIR)/network_links.csv) \
		pipeline/coding/quotes.py $(wildcard $(WAVE_DIR)/quotes.csv) $(COMMON)
	$(call due,aggregate)

$(PROCESSED)/charts.json: $(PROCESSED)/tables.json pipeline/publishing/charts.py pipeline/core/style.py pipeline/core/background.py \
		config/instrument.yaml config/style.yaml $(wildcard $(WAVE_DIR)/style.yaml) $(COMMON)
	$(call due,charts)

REPORT_INPUTS := $(PROCESSED)/tables.json $(PROCESSED)/charts.json $(PROCESSED)/networks.parquet $(PROCESSED)/codes.parquet \
		$(PROCESSED)/involvement.parquet $(PROCESSED)/responses.parquet $(RENDER_ARGS) pipeline/publishing/render.py \
		pipeline/publishing/word.py pipeline/publishing/word_text.py pipeline/publishing/word_fields.py \
		pipeline/publishing/word_tables.py pipeline/publishing/word_figures.py pipeline/publishing/word_body.py \
		pipeline/core/background.py pipeline/language/formatting.py pipeline/waves/output_folder.py pipeline/coding/sheet.py pipeline/waves/wave.py \
		pipeline/core/style.py config/instrument.yaml config/codebook.yaml config/taxonomies.yaml config/style.yaml \
		$(WAVE_DIR)/wave.yaml $(wildcard $(WAVE_DIR)/style.yaml) \
		$(wildcard $(WAVE_DIR)/coding_reviews.csv) $(COMMON) $(wildcard templates/*) $(wildcard texts/*.md) \
		$(if $(TEMPLATES),$(wildcard $(TEMPLATES)/*)) $(if $(TEXTS),$(wildcard $(TEXTS)/*.md))

$(OUT)/manifest.json: $(REPORT_INPUTS) $(wildcard $(DUE))
	@$(PY) run --wave "$(WAVE)" --from $$(cat "$(DUE)" 2>/dev/null || echo render) --export "$(EXPORT)" \
		$(if $(SUPPLEMENT),--supplement "$(SUPPLEMENT)") --processed "$(PROCESSED)" --out "$(OUT)" \
		$(if $(TEMPLATES),--templates "$(TEMPLATES)") $(if $(TEXTS),--texts "$(TEXTS)") && rm -f "$(DUE)"

report: $(OUT)/manifest.json  ## Build the report of WAVE (default 2018) into reports/WAVE

preview: install  ## Serve WAVE's report on 127.0.0.1 (PORT=8000) and rebuild it on every save
	@$(BIN)/python -m pipeline --config config --waves "$(WAVES)" preview --wave "$(WAVE)" --port "$(or $(PORT),8000)"

# The browser tests (the preview, accessibility) drive Debian's Chromium through its chromedriver. Where
# they are missing and apt can install them (root, as on CI), they are installed; elsewhere those tests
# skip with a reason (and fail when CI=true).
browser:  ## Install Chromium and chromedriver for the browser tests, when missing (Debian, as root)
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "browser: installing chromium and chromium-driver (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "browser: chromium and chromedriver are missing; install the Debian packages chromium and" \
	  "chromium-driver, or the browser tests skip"; fi

# On every core (pytest-xdist; PYTEST_XDIST_AUTO_NUM_WORKERS=N to choose; an idle worker takes tests queued
# for another), with a line per test file as it ends.
test: install browser  ## Run the test suite
	$(BIN)/python -m pytest -n auto --dist worksteal

bench: install  ## Measure speed and memory; writes bench/RESULTS.md
	$(BIN)/python bench/run.py

lint: install  ## Check the code for errors and dead code
	$(BIN)/python -m pyflakes pipeline tests scripts bench

clean:  ## Remove generated data and reports (never data/raw, never a wave's own files)
	rm -rf waves/*/processed data/processed/* $(filter-out reports/.gitkeep,$(wildcard reports/*)) .pytest_cache
	@touch data/processed/.gitkeep

# The pipeline's commands. `make` alone lists them.
PYTHON     ?= python3
VENV       := .venv
BIN        := $(VENV)/bin
EXPORT     ?= data/raw/wsd_leernetwerken_2018.csv
SUPPLEMENT ?= data/raw/wsd_leernetwerken_2018_supplement.csv
OUT        ?= reports/wsd_leernetwerken_2018
PROCESSED  ?= data/processed
TEMPLATES  ?=
TEXTS      ?=

.DEFAULT_GOAL := help
.PHONY: help install report test lint bench clean

help:  ## List the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
	@echo "  Variables: EXPORT=$(EXPORT) SUPPLEMENT=$(SUPPLEMENT) OUT=$(OUT)"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/.installed  ## Create .venv and install the project into it

# The stages as file targets: each re-runs only when its inputs, its module or its config changed.
PY         := $(BIN)/python -m pipeline --config config
COMMON     := $(BIN)/.installed pipeline/cli.py pipeline/config.py pipeline/schemas.py pipeline/errors.py
INGEST_ARGS := $(PROCESSED)/.ingest-args
RENDER_ARGS := $(PROCESSED)/.render-args

# Remember the export, supplement, templates and texts the outputs were made from, so that changing
# one of these variables re-runs what depends on it (and only that).
define remember
$(shell mkdir -p "$(PROCESSED)" && printf '%s\n' $(2) > "$(1).new" && \
  { cmp -s "$(1).new" "$(1)" && rm -f "$(1).new" || mv "$(1).new" "$(1)"; })
endef
ifneq ($(filter report,$(MAKECMDGOALS)),)
$(call remember,$(INGEST_ARGS),"$(EXPORT)" "$(SUPPLEMENT)")
$(call remember,$(RENDER_ARGS),"$(TEMPLATES)" "$(TEXTS)")
endif

$(PROCESSED)/responses.parquet: $(EXPORT) $(SUPPLEMENT) $(INGEST_ARGS) pipeline/ingest.py pipeline/qualtrics.py \
		config/instrument.yaml config/settings.yaml $(COMMON)
	@$(PY) ingest --export "$(EXPORT)" $(if $(SUPPLEMENT),--supplement "$(SUPPLEMENT)") --processed "$(PROCESSED)"

$(PROCESSED)/networks.parquet: $(PROCESSED)/responses.parquet pipeline/normalise.py pipeline/dutch.py \
		config/taxonomies.yaml config/instrument.yaml $(COMMON)
	@$(PY) normalise --processed "$(PROCESSED)"

$(PROCESSED)/codes.parquet: $(PROCESSED)/networks.parquet pipeline/coding.py pipeline/dutch.py \
		config/codebook.yaml config/coding_overrides.csv $(COMMON)
	@$(PY) code --processed "$(PROCESSED)"

TABLE_INPUTS := $(PROCESSED)/codes.parquet $(PROCESSED)/networks.parquet $(PROCESSED)/involvement.parquet \
		pipeline/aggregate.py pipeline/workbook.py config/codebook.yaml config/taxonomies.yaml $(COMMON)

$(PROCESSED)/tables.xlsx: $(TABLE_INPUTS)
	@$(PY) aggregate --processed "$(PROCESSED)"

$(PROCESSED)/figures/.done: $(TABLE_INPUTS) pipeline/charts.py
	@$(PY) charts --processed "$(PROCESSED)"
	@touch $@

REPORT_INPUTS := $(PROCESSED)/tables.xlsx $(PROCESSED)/figures/.done $(RENDER_ARGS) pipeline/render.py \
		pipeline/dutch_format.py $(wildcard templates/*) $(wildcard texts/*.md) \
		$(if $(TEMPLATES),$(wildcard $(TEMPLATES)/*)) $(if $(TEXTS),$(wildcard $(TEXTS)/*.md))

$(OUT)/manifest.json: $(REPORT_INPUTS)
	@$(PY) render --processed "$(PROCESSED)" --out "$(OUT)" $(if $(TEMPLATES),--templates "$(TEMPLATES)") \
		$(if $(TEXTS),--texts "$(TEXTS)")

report: $(OUT)/manifest.json  ## Run the pipeline on EXPORT (and SUPPLEMENT) into OUT (TEMPLATES, TEXTS optional)

test: install  ## Run the test suite
	$(BIN)/python -m pytest

bench: install  ## Measure speed and memory; writes bench/RESULTS.md
	$(BIN)/python bench/run.py

lint: install  ## Check the code for errors and dead code
	$(BIN)/python -m pyflakes pipeline tests scripts bench

clean:  ## Remove generated data and reports (never data/raw)
	rm -rf $(PROCESSED)/* $(PROCESSED)/.ingest-args $(PROCESSED)/.render-args $(filter-out reports/.gitkeep,$(wildcard reports/*)) .pytest_cache
	@touch $(PROCESSED)/.gitkeep

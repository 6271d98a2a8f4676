# The pipeline's commands. `make` alone lists them.
PYTHON     ?= python3
VENV       := .venv
BIN        := $(VENV)/bin
EXPORT     ?= data/raw/wsd_leernetwerken_2018.csv
SUPPLEMENT ?= data/raw/wsd_leernetwerken_2018_supplement.csv
OUT        ?= reports/wsd_leernetwerken_2018
PROCESSED  ?= data/processed

.DEFAULT_GOAL := help
.PHONY: help install report test lint clean

help:  ## List the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
	@echo "  Variables: EXPORT=$(EXPORT) SUPPLEMENT=$(SUPPLEMENT) OUT=$(OUT)"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/.installed  ## Create .venv and install the project into it

report: install  ## Run the pipeline on EXPORT (and SUPPLEMENT) into OUT
	$(BIN)/python -m pipeline run --export "$(EXPORT)" $(if $(SUPPLEMENT),--supplement "$(SUPPLEMENT)") \
		--processed "$(PROCESSED)" --out "$(OUT)"

test: install  ## Run the test suite
	$(BIN)/python -m pytest

lint: install  ## Check the code for errors and dead code
	$(BIN)/python -m pyflakes pipeline tests scripts

clean:  ## Remove generated data and reports (never data/raw)
	rm -rf $(PROCESSED)/* $(filter-out reports/.gitkeep,$(wildcard reports/*)) .pytest_cache
	@touch $(PROCESSED)/.gitkeep

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
.PHONY: help install report fetch preview review browser office test lint bench clean

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
# The stage rules are written from the table of stages (pipeline/app/stages.py) into $(WAVE_MK) below.
PY         := $(BIN)/python -m pipeline --config config --waves "$(WAVES)"
COMMON     := $(BIN)/.installed pipeline/app/cli.py pipeline/app/runner.py pipeline/app/stages.py pipeline/core/stage.py \
		pipeline/core/config.py pipeline/core/schemas.py pipeline/core/errors.py
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
# The wave's paths (from wave.yaml) and the stage rules (from the table in pipeline/app/stages.py, see
# pipeline/app/makefile.py), written by the pipeline, so that the prerequisites follow the wave and the table.
-include $(WAVE_MK)
$(call remember,$(INGEST_ARGS),"$(WAVE)" "$(EXPORT)" "$(SUPPLEMENT)")
$(call remember,$(RENDER_ARGS),"$(WAVE)" "$(TEMPLATES)" "$(TEXTS)")
endif

$(WAVE_MK): $(WAVE_DIR)/wave.yaml pipeline/waves/wave.py pipeline/app/stages.py pipeline/app/makefile.py $(BIN)/.installed
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

# Which wave was built, always: make's "Nothing to be done" alone would not say that another wave, not
# the default, is the one that is out of date.
OTHER_WAVES = $(filter-out $(WAVE),$(patsubst $(WAVES)/%/wave.yaml,%,$(wildcard $(WAVES)/*/wave.yaml)))
report: $(OUT)/manifest.json  ## Build the report of WAVE (default 2018) into reports/WAVE
	@echo "report     wave $(WAVE)$(if $(filter command line environment,$(origin WAVE)),, (the default: \
	WAVE=<name> builds another$(if $(OTHER_WAVES),; other waves: $(OTHER_WAVES))))$(strip \
	): $(OUT)/ is up to date with its inputs"

# A wave's responses and questionnaire straight from Qualtrics (pipeline/app/fetch.py); the token comes from
# QUALTRICS_API_TOKEN or TOKEN_FILE, never from the command line. WAVE is required: no default wave is fetched into.
fetch: install  ## Fetch WAVE's responses and .qsf from Qualtrics (WAVE=, SURVEY=SV_...; DATA_CENTER=, SINCE=)
	@if [ "$(origin WAVE)" = file ] || [ -z "$(SURVEY)" ]; then \
	  echo "error: give the wave and the survey: make fetch WAVE=<name> SURVEY=SV_... (the token in QUALTRICS_API_TOKEN)" >&2; \
	  exit 1; fi
	@$(BIN)/python -m pipeline --config config --waves "$(WAVES)" fetch --wave "$(WAVE)" --survey "$(SURVEY)" \
	  $(if $(DATA_CENTER),--data-center "$(DATA_CENTER)") $(if $(SINCE),--since "$(SINCE)") \
	  $(if $(TOKEN_FILE),--token-file "$(TOKEN_FILE)") $(if $(PREVIOUS),--previous "$(PREVIOUS)")

preview: install  ## Serve WAVE's report on 127.0.0.1 (PORT=8000) and rebuild it on every save
	@$(BIN)/python -m pipeline --config config --waves "$(WAVES)" preview --wave "$(WAVE)" --port "$(or $(PORT),8000)"

review: install  ## Review WAVE's codes in the browser on 127.0.0.1 (PORT=8010; BLIND=1, SAMPLE=N)
	@$(BIN)/python -m pipeline --config config --waves "$(WAVES)" review --wave "$(WAVE)" --port "$(or $(PORT),8010)" \
	  $(if $(BLIND),--blind) $(if $(SAMPLE),--sample "$(SAMPLE)")

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

# The Word edition's test converts report.docx with LibreOffice (Writer without its GUI, and the Dutch
# hyphenation patterns), installed the same way: about 85 MB of packages, 260 MB on disk, some 20 s of CPU.
office:  ## Install LibreOffice Writer and Calc for the Word and workbook print tests, when missing (Debian, as root)
	@if command -v soffice >/dev/null 2>&1 && [ -e /usr/share/hyphen/hyph_nl_NL.dic ] \
	  && [ -e /usr/lib/libreoffice/program/libsclo.so ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "office: installing libreoffice-writer-nogui, libreoffice-calc-nogui and hyphen-nl (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    libreoffice-writer-nogui libreoffice-calc-nogui hyphen-nl >/dev/null; \
	else echo "office: LibreOffice is missing; install the Debian packages libreoffice-writer-nogui," \
	  "libreoffice-calc-nogui and hyphen-nl, or the LibreOffice tests skip"; fi

# On every core (pytest-xdist; PYTEST_XDIST_AUTO_NUM_WORKERS=N to choose; an idle worker takes tests queued
# for another), with a line per test file as it ends and the ten slowest tests at the end.
test: install browser office  ## Run the test suite
	$(BIN)/python -m pytest -n auto --dist worksteal --durations=10

bench: install  ## Measure speed and memory; writes bench/RESULTS.md
	$(BIN)/python bench/run.py

lint: install  ## Check the code for errors and dead code
	$(BIN)/python -m pyflakes pipeline tests scripts bench

clean:  ## Remove generated data and reports (never data/raw, never a wave's own files)
	rm -rf waves/*/processed data/processed/* $(filter-out reports/.gitkeep,$(wildcard reports/*)) .pytest_cache
	@touch data/processed/.gitkeep

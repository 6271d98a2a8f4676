"""The table of stages, in the order they run: which module's run(ctx) is the stage, what it reads and
writes in the processed folder, which config and wave files and other inputs it depends on, and which frames
it hands on in memory. run_pipeline loops over it; `run --from/--to`, the preview's choice of what to re-run
and the Makefile's stage rules (written by `make-vars` from this table) follow it. A new stage is one row
here and one module with run(ctx).

Kept apart from the runner so that reading the table imports nothing heavy (make calls make-vars on every
`make report`)."""

from __future__ import annotations

from pipeline.core.stage import Stage

STAGES = (
    Stage("ingest", "pipeline.reading.ingest",
          ("reading/ingest", "reading/mapping", "reading/filtering", "reading/privacy", "reading/qualtrics",
           "reading/deidentify", "language/names"),
          config=("instrument.yaml", "settings.yaml", "not_names.txt"), reads=(),
          writes=("responses.parquet", "drops.csv", "column_mapping.csv", "ingest.json"), wave=("wave.yaml",),
          sources=("export", "supplement"), gives=("responses",),
          help="read the export into responses.parquet", options=("export", "supplement", "keep_unfinished")),
    Stage("normalise", "pipeline.analysis.normalise", ("analysis/normalise", "language/matching", "core/wave_files"),
          config=("taxonomies.yaml", "instrument.yaml"), reads=("responses.parquet",), wave=("group_decisions.csv",),
          writes=("networks.parquet", "involvement.parquet", "group_review.csv", "normalise.json"),
          gives=("networks", "involvement"), takes=("responses",),
          help="networks and involvement from the responses"),
    Stage("code", "pipeline.coding.rules", ("coding/rules", "language/matching", "core/codebook", "core/wave_files"),
          config=("codebook.yaml",), reads=("networks.parquet",),
          writes=("codes.parquet", "code_audit.csv", "coding.json"), wave=("coding_corrections.csv",),
          gives=("codes",), takes=("networks",),
          help="code the free text with the codebook and the wave's corrections", options=("corrections",)),
    Stage("aggregate", "pipeline.analysis.aggregate",
          ("analysis/aggregate", "core/excel", "waves/compare", "analysis/spss", "coding/quotes", "core/wave_files",
           "analysis/coding_accuracy", "coding/rules"),
          config=("codebook.yaml", "taxonomies.yaml", "instrument.yaml"),
          reads=("codes.parquet", "networks.parquet", "involvement.parquet", "ingest.json"),
          writes=("tables.json", "tables.xlsx", "typed/", "tables/", "quotes.json", "coding_accuracy.json"),
          wave=("network_links.csv", "quotes.csv", "coding_reviews.csv", "coding_sample.csv"), sources=("previous tables",),
          gives=("tables",), takes=("networks", "involvement", "codes"),
          help="the report's tables as CSV and one Excel workbook", options=("quotes",)),
    Stage("charts", "pipeline.publishing.charts", ("publishing/charts", "core/style", "core/background"),
          config=("instrument.yaml", "style.yaml"), reads=("tables.json",), writes=("charts.json", "figures/"),
          wave=("style.yaml",), takes=("tables",), help="the report's figures as PNG, SVG, PDF and CSV"),
    Stage("render", "pipeline.publishing.render",
          ("publishing/render", "publishing/pdf_tags", "publishing/context", "publishing/texts", "publishing/inherited", "publishing/word", "publishing/word_text", "publishing/word_fields",
           "publishing/word_tables", "publishing/word_figures", "publishing/word_body", "language/formatting", "waves/output_folder", "coding/sheet",
           "waves/wave", "core/style", "core/background", "core/wave_files"),
          config=("instrument.yaml", "codebook.yaml", "taxonomies.yaml", "style.yaml", "questionnaire.yaml"),
          reads=("tables.json", "charts.json", "networks.parquet", "involvement.parquet", "ingest.json",
                 "normalise.json", "coding.json", "quotes.json", "coding_accuracy.json"), writes=(),
          wave=("wave.yaml", "coding_reviews.csv", "style.yaml"), sources=("templates", "texts"), takes=("tables",),
          help="the report (HTML, PDF) and the complete output folder", options=("out", "templates", "texts")),
)
STAGE_NAMES = tuple(s.name for s in STAGES)

"""What a reader sees: the charts stage (figures for print and papers) and the render stage (the report as
HTML and PDF, its Word edition, the manifest and the output folder filled in one step).

May import pipeline.analysis, pipeline.coding, pipeline.waves, pipeline.core and pipeline.language; never
pipeline.reading (a report is made from the processed tables, not from the export) nor pipeline.app.
The allowed edges of every layer are listed in tests/test_layering.py."""

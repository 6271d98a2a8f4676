"""What a reader sees: the charts stage (figures for print and papers) and the render stage (the report as
HTML and PDF, its Word edition, the manifest and the output folder filled in one step).

May import every layer below the application: pipeline.analysis, pipeline.coding, pipeline.waves,
pipeline.reading is not needed and not allowed, pipeline.core and pipeline.language."""

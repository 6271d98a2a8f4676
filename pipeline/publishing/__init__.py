"""What a reader sees: the charts stage (figures for print and papers) and the render stage (the report as
HTML and PDF, its Word edition, the manifest and the output folder filled in one step).

The Word edition is word (the document, which render calls) and the modules it is built from, each of one
job and importing only those below it: word_body (the rendered HTML block by block), word_tables and
word_figures, word_fields (Word fields: SEQ captions, contents, page numbers), word_text (text and the
writer).

May import pipeline.analysis, pipeline.coding, pipeline.waves, pipeline.core and pipeline.language; never
pipeline.reading (a report is made from the processed tables, not from the export) nor pipeline.app.
The allowed edges of every layer are listed in tests/test_layering.py."""

"""What every part of the pipeline shares: its errors, the config folder loaded and checked (instrument,
settings, taxonomies, codebook), the contracts of the files between stages (schemas, atomic writes), the
researcher's files in a wave folder, safe Excel workbooks, the house style, and work in a second process.

May import pipeline.language only."""

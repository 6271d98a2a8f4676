"""What every part of the pipeline shares: its errors, where the project's files are (files), the config
folder loaded and checked (config: instrument, settings, taxonomies; codebook), what a stage is and is
handed (stage), the contracts of the files between stages (schemas, atomic writes), the researcher's own
files in a wave folder (wave_files: corrections, reviews, quote decisions, network links), safe Excel
workbooks, the house style, and work in a second process (background).

May import pipeline.language only."""

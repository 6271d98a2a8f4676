"""Reading what Qualtrics gives: every export variant, the survey definition (.qsf), the ingest stage
(columns to items, the responses kept and dropped) and the removal of personal data.

May import pipeline.core and pipeline.language."""

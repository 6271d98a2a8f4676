"""Reading what Qualtrics gives: every export variant (qualtrics), the survey definition (qsf), and the
ingest stage: columns to items (mapping), the responses that count (filtering), the respondent's own
personal data removed (privacy), the names of third persons removed (deidentify), all of it in ingest.

May import pipeline.core and pipeline.language."""

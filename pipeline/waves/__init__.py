"""Waves: a round of the questionnaire in its own folder, the comparison of a wave with the previous one,
and the output folder a report is published into (replaced only when the pipeline made it).

May import pipeline.core and pipeline.language."""

"""Dutch as the pipeline reads and writes it: term matching (stems, compounds, negation, spelling slips),
sentences, the particles of personal names, and numbers and dates the Dutch way.

The lowest layer: pure functions on text that know nothing of the questionnaire. Imports no other part
of the pipeline."""

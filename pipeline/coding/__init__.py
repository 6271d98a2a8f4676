"""Coding the free text: the codebook's rules (the code stage), the coder's corrections and reviews, the
suggestions of the model, the measure of the rules, the coding workbook, agreement between coders, and
the quotes chosen for each theme.

May import pipeline.core and pipeline.language."""

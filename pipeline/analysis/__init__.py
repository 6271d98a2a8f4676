"""From responses to the report's numbers: the normalise stage (networks and involvement tables), the
aggregate stage (every table of the report, as CSV and Excel) and the SPSS files of the data tables.

May import pipeline.coding (the quotes), pipeline.waves (the comparison), pipeline.core and
pipeline.language."""

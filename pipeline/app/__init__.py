"""The application: the table of stages and the run over it, the command line, and the live preview.

The top layer: may import every other part of the pipeline."""

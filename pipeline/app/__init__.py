"""The application: the table of stages (stages), the run over it (runner), the Makefile's stage rules
written from the table (makefile), the command line (cli) and the live preview (preview).

The top layer: may import every other part of the pipeline. Only the command line and the preview import
pipeline modules inside functions, so that a command loads what it needs and `--help` stays quick."""

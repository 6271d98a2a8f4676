"""Turns a Qualtrics export of the WSD learning-network questionnaire into the Dutch report.

`pipeline.run_pipeline(...)` runs it from Python (a notebook, a script); see pipeline/app/runner.py.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # run_pipeline and load_config are imported on first use, so `import pipeline` stays cheap.
    if name == "run_pipeline":
        from pipeline.app.runner import run_pipeline
        return run_pipeline
    if name == "load_config":
        from pipeline.core.config import load_config
        return load_config
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")

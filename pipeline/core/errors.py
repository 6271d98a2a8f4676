"""The project's own errors. Library code raises them; only cli.py turns them into exit codes."""


class PipelineError(Exception):
    """A problem the researcher can fix; the message says what is wrong and what to do."""


class ConfigError(PipelineError):
    """A configuration file is missing, unreadable or invalid."""


class ExportError(PipelineError):
    """An export cannot be read, or is not an export of the WSD questionnaire."""

"""Where the project's own folders are, and reading one YAML file of the config or a wave folder with a
message that says what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "config"


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; restore it from the repository (git checkout -- {path.name}).")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML{_yaml_problem(exc, text)}; check the indentation and quotes there.")


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """Where and what the parser found wrong, in lines of the file: a problem the parser only noticed at the
    end of the file (an unclosed quote or bracket) is named by the line where the construct started."""
    lines = len(text.splitlines()) or 1
    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is None:
        return ""
    where = f"line {mark.line + 1}" if mark.line < lines else f"the end of the file (line {lines})"
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start is not None and start.line != mark.line:
        return f" at line {start.line + 1}: {context} that starts there, {problem or 'a problem'} at {where}"
    return f" at {where}" + (f": {problem}" if problem else "")


DEFAULT_TEMPLATES = PROJECT_ROOT / "templates"
DEFAULT_TEXTS = PROJECT_ROOT / "texts"    # starting texts, for a run without a wave (marked as not rewritten)

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
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}; check the indentation and quotes there.")


DEFAULT_TEMPLATES = PROJECT_ROOT / "templates"
DEFAULT_TEXTS = PROJECT_ROOT / "texts"    # starting texts, for a run without a wave (marked as not rewritten)

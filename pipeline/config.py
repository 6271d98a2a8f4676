"""Loads and validates config/instrument.yaml and config/settings.yaml, once, into plain objects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from pipeline.dutch import Term, term
from pipeline.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"

ITEM_TYPES = ("text", "choice", "matrix")


@dataclass(frozen=True)
class Choice:
    value: int
    label: str
    text_entry: bool = False
    short: str | None = None


@dataclass(frozen=True)
class Item:
    """One question of the instrument; `fields` are the response columns it yields."""

    id: str
    number: int
    type: str
    wording: str
    export_tag: str
    import_id: str
    personal: bool = False
    choices: tuple[Choice, ...] = ()
    rows: tuple[Choice, ...] = ()
    scale: tuple[Choice, ...] = ()

    @property
    def plain_wording(self) -> str:
        return self.wording.replace("**", "")

    @property
    def fields(self) -> tuple[str, ...]:
        if self.type == "text":
            return (self.id,)
        if self.type == "choice":
            texts = tuple(f"{self.id}_text" for c in self.choices if c.text_entry)
            return (self.id,) + texts[:1]
        out: list[str] = []
        for row in self.rows:
            out.append(f"{self.id}_{row.value}")
            if row.text_entry:
                out.append(f"{self.id}_{row.value}_text")
        return tuple(out)


@dataclass(frozen=True)
class Instrument:
    title: str
    version: str
    items: tuple[Item, ...]

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    @property
    def response_fields(self) -> tuple[str, ...]:
        """Every answer column, in questionnaire order, personal items included."""
        return tuple(f for it in self.items for f in it.fields)

    @property
    def typed_fields(self) -> tuple[str, ...]:
        """The answer columns respondents type into: text items and the text boxes of choices and rows."""
        return tuple(f for it in self.items for f in it.fields if it.type == "text" or f.endswith("_text"))


@dataclass(frozen=True)
class Settings:
    keep_unfinished: bool = False
    default_time_zone: str = "Europe/Amsterdam"
    response_id_salt: str = "wsd-leernetwerken"
    min_items_mapped: int = 12


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


def _choices(raw: Any, where: str) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: expected a list of choices with value and label.")
    out = []
    for entry in raw:
        if not isinstance(entry, dict) or "value" not in entry or "label" not in entry:
            raise ConfigError(f"{where}: every choice needs a value and a label, got {entry!r}.")
        out.append(Choice(value=int(entry["value"]), label=str(entry["label"]),
                          text_entry=bool(entry.get("text_entry", False)), short=entry.get("short")))
    return tuple(out)


def load_instrument(path: Path = CONFIG_DIR / "instrument.yaml") -> Instrument:
    """Read the instrument; a typo or a missing key fails with the item and key named."""
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("items"), dict):
        raise ConfigError(f"{path}: expected a mapping with 'items'.")
    scales = {name: _choices(vals, f"{path}: scale {name}") for name, vals in (raw.get("scales") or {}).items()}
    items = []
    for item_id, spec in raw["items"].items():
        where = f"{path}: item {item_id}"
        match = re.fullmatch(r"q(\d+)", str(item_id))
        if not match or not isinstance(spec, dict):
            raise ConfigError(f"{where}: item ids are q1, q2, ... and each holds a mapping.")
        for key in ("type", "wording", "export_tag", "import_id"):
            if key not in spec:
                raise ConfigError(f"{where}: missing '{key}'.")
        if spec["type"] not in ITEM_TYPES:
            raise ConfigError(f"{where}: type must be one of {', '.join(ITEM_TYPES)}, not {spec['type']!r}.")
        choices = _choices(spec["choices"], where) if spec["type"] == "choice" else ()
        rows, scale = (), ()
        if spec["type"] == "matrix":
            rows = _choices(spec.get("rows"), f"{where} rows")
            if spec.get("scale") not in scales:
                raise ConfigError(f"{where}: scale {spec.get('scale')!r} is not defined under 'scales'.")
            scale = scales[spec["scale"]]
        items.append(Item(id=str(item_id), number=int(match.group(1)), type=spec["type"],
                          wording=str(spec["wording"]), export_tag=str(spec["export_tag"]),
                          import_id=str(spec["import_id"]), personal=bool(spec.get("personal", False)),
                          choices=choices, rows=rows, scale=scale))
    items.sort(key=lambda it: it.number)
    return Instrument(title=str(raw.get("title", "")), version=str(raw.get("version", "")), items=tuple(items))


def load_settings(path: Path = CONFIG_DIR / "settings.yaml", **overrides: Any) -> Settings:
    """Read run settings; keys given as overrides (from the command line) win."""
    raw = read_yaml(path) if path.exists() else {}
    raw = dict(raw or {})
    raw.update({k: v for k, v in overrides.items() if v is not None})
    known = set(Settings.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known are {', '.join(sorted(known))}.")
    settings = Settings(**raw)
    try:
        ZoneInfo(settings.default_time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{path}: default_time_zone {settings.default_time_zone!r} is not a time zone name "
                          "such as Europe/Amsterdam.")
    return settings


@dataclass(frozen=True)
class Category:
    """One entry of a taxonomy: a code, its Dutch label and its terms (stemmed once, here)."""

    code: str
    label: str
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class Taxonomies:
    empty_answers: tuple[str, ...]
    participant_groups: tuple[Category, ...]
    initiator_types: tuple[Category, ...]

    @staticmethod
    def vocab(categories: tuple[Category, ...]) -> dict[str, list[Term]]:
        return {c.code: list(c.terms) for c in categories}


def _categories(raw: Any, where: str) -> tuple[Category, ...]:
    if not isinstance(raw, dict) or "overig" not in raw:
        raise ConfigError(f"{where}: expected a mapping of codes to label and terms, including 'overig'.")
    out = []
    for code, spec in raw.items():
        if not isinstance(spec, dict) or "label" not in spec:
            raise ConfigError(f"{where}: {code} needs a label (and a list of terms).")
        terms = spec.get("terms") or []
        if not isinstance(terms, list):
            raise ConfigError(f"{where}: the terms of {code} must be a list in [ ].")
        out.append(Category(code=str(code), label=str(spec["label"]), terms=tuple(term(str(t)) for t in terms)))
    return tuple(out)


def load_taxonomies(path: Path = CONFIG_DIR / "taxonomies.yaml") -> Taxonomies:
    """Read participant groups, initiator types and the answers that mean 'nothing'."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with participant_groups and initiator_types.")
    return Taxonomies(
        empty_answers=tuple(str(a).casefold() for a in raw.get("empty_answers") or ()),
        participant_groups=_categories(raw.get("participant_groups"), f"{path}: participant_groups"),
        initiator_types=_categories(raw.get("initiator_types"), f"{path}: initiator_types"),
    )

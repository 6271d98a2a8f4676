"""Loads and validates the config folder once: the instrument (what every item is and how the report
uses it), the run settings, the taxonomies and the codebook, as one `Config`. What belongs to one wave
(its export, texts, coding corrections) is in waves/<name>/ (pipeline/waves/wave.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.language.matching import Term, term
from pipeline.core.errors import ConfigError
from pipeline.core.codebook import load_codebook
from pipeline.core.files import CONFIG_DIR, read_yaml


ITEM_TYPES = ("text", "choice", "matrix")
# What an item is for the report. Each role says which columns normalise makes of it and what the
# later stages do with it; see config/instrument.yaml.
ROLES = {
    "respondent": "text",       # personal: never leaves ingest
    "werkplaats": "text",
    "network_name": "text",
    "initiator": "text",
    "start": "text",
    "status": "choice",          # choices mean loopt / gestopt
    "text": "text",              # free text shown in Bijlage 2
    "coded": "text",             # free text coded with the codebook
    "involvement": "matrix",
    "yes_no": "choice",          # choices mean ja / nee
    "other": None,
}
SINGLE_ROLES = ("werkplaats", "network_name", "initiator", "start", "status", "involvement")
MEANINGS = {"status": ("loopt", "gestopt"), "yes_no": ("ja", "nee")}


@dataclass(frozen=True)
class Choice:
    value: int
    label: str
    text_entry: bool = False
    short: str | None = None
    meaning: str | None = None     # what a choice stands for: ja/nee, loopt/gestopt
    heading: str | None = None     # a scale point's column heading in the tables ("Zeer laag")


@dataclass(frozen=True)
class FigureSpec:
    """A figure the report shows for an item: its file name, caption, and `order`, which sorts the
    figures of the report (their numbers are their ranks). `in_report: false` draws it for figures/ only:
    a figure that shows no more than its table does not stand beside it."""

    name: str
    caption: str
    order: float
    in_report: bool = True


@dataclass(frozen=True)
class ReportSpec:
    """What the report does with an item (all optional): its table and title, its figure, its heading
    and place in Bijlage 2, its place among the yes/no sections of 3.5, and the report section a coded
    item's themes belong to."""

    table: str | None = None
    title: str | None = None
    figure: FigureSpec | None = None
    appendix: str | None = None
    appendix_order: float | None = None
    results_order: float | None = None
    section: str | None = None
    per_network: dict | None = None   # coded items: {table, title, heading} of the per-network list
    counted: str = "het thema"        # coded items: what a bar counts, for the figure's axis ("de werkvorm")


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
    role: str = "other"
    report: ReportSpec = ReportSpec()

    def value_meaning(self, value: int | None) -> str | None:
        """The meaning of a recode value (ja, nee, loopt, gestopt), or None."""
        return next((c.meaning for c in self.choices if c.value == value), None)

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

    def with_role(self, *roles: str) -> tuple[Item, ...]:
        """The items of these roles, in questionnaire order."""
        return tuple(it for it in self.items if it.role in roles)

    def the(self, role: str) -> Item:
        """The one item of a role that has exactly one (werkplaats, network_name, status, ...)."""
        return self.with_role(role)[0]

    @property
    def figures(self) -> tuple[tuple[Item, FigureSpec], ...]:
        """Every declared figure with its item, in report order."""
        found = [(it, it.report.figure) for it in self.items if it.report.figure]
        return tuple(sorted(found, key=lambda pair: pair[1].order))

    @property
    def response_fields(self) -> tuple[str, ...]:
        """Every answer column, in questionnaire order, personal items included."""
        return tuple(f for it in self.items for f in it.fields)

    @property
    def personal_fields(self) -> frozenset[str]:
        """The answer columns of the personal items (personal: true): never written by any stage."""
        return frozenset(f for it in self.items if it.personal for f in it.fields)

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
    min_networks_compared: int = 5

    def record(self) -> dict[str, Any]:
        """The settings as plain values, for the manifest; the salt stays out of published files."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "response_id_salt"}


SETTING_KINDS = {"keep_unfinished": (bool, "true or false"), "default_time_zone": (str, "a time zone name such as "
                 "Europe/Amsterdam"), "response_id_salt": (str, "a non-empty text"),
                 "min_items_mapped": (int, "a whole number of items, such as 12"),
                 "min_networks_compared": (int, "a whole number of networks, such as 5")}


def _choices(raw: Any, where: str) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: expected a list of choices with value and label.")
    out = []
    for entry in raw:
        if not isinstance(entry, dict) or "value" not in entry or "label" not in entry:
            raise ConfigError(f"{where}: every choice needs a value and a label, got {entry!r}.")
        if not isinstance(entry["value"], int) or isinstance(entry["value"], bool):
            raise ConfigError(f"{where}: the value of choice {entry['label']!r} must be a whole number, "
                              f"not {entry['value']!r}.")
        unknown = sorted(set(entry) - {"value", "label", "text_entry", "short", "meaning", "heading"})
        if unknown:
            raise ConfigError(f"{where}: choice {entry['label']!r} has unknown key(s) {', '.join(unknown)}; "
                              "known are value, label, text_entry, short, meaning and heading.")
        out.append(Choice(value=entry["value"], label=str(entry["label"]),
                          text_entry=bool(entry.get("text_entry", False)), short=entry.get("short"),
                          meaning=entry.get("meaning"), heading=entry.get("heading")))
    return tuple(out)


REPORT_KEYS = ("table", "title", "figure", "appendix", "appendix_order", "results_order", "section", "per_network",
               "counted")


def _report(raw: Any, where: str) -> ReportSpec:
    if raw is None:
        return ReportSpec()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: 'report' must be a mapping with some of {', '.join(REPORT_KEYS)}.")
    unknown = sorted(set(raw) - set(REPORT_KEYS))
    if unknown:
        raise ConfigError(f"{where}: report has unknown key(s) {', '.join(unknown)}; known are {', '.join(REPORT_KEYS)}.")
    figure = raw.get("figure")
    if figure is not None:
        if not isinstance(figure, dict) or not all(figure.get(k) is not None for k in ("name", "caption", "order")):
            raise ConfigError(f"{where}: report.figure needs a name, a caption and an order (a number that "
                              "places it among the report's figures).")
        if not isinstance(figure.get("in_report", True), bool):
            raise ConfigError(f"{where}: report.figure.in_report must be true or false, not {figure['in_report']!r}.")
        figure = FigureSpec(name=str(figure["name"]), caption=str(figure["caption"]), order=float(figure["order"]),
                            in_report=figure.get("in_report", True))
    for key in ("appendix_order", "results_order"):
        if raw.get(key) is not None and not isinstance(raw[key], (int, float)):
            raise ConfigError(f"{where}: report.{key} must be a number, not {raw[key]!r}.")
    per_network = raw.get("per_network")
    if per_network is not None and (not isinstance(per_network, dict)
                                    or not all(per_network.get(k) for k in ("table", "title", "heading"))):
        raise ConfigError(f"{where}: report.per_network needs a table, a title and a heading.")
    return ReportSpec(table=raw.get("table"), title=raw.get("title"), figure=figure, appendix=raw.get("appendix"),
                      appendix_order=raw.get("appendix_order"), results_order=raw.get("results_order"),
                      section=raw.get("section"), per_network=per_network,
                      counted=str(raw.get("counted") or "het thema"))


def _check_item(item: Item, where: str) -> None:
    """The declaration of one item makes sense: its role fits its type, its choices say what they mean."""
    expected = ROLES[item.role]
    if expected and item.type != expected:
        raise ConfigError(f"{where}: role {item.role} needs type {expected}, not {item.type}.")
    if item.role in MEANINGS:
        meanings = {c.meaning for c in item.choices}
        missing = [m for m in MEANINGS[item.role] if m not in meanings]
        if missing:
            raise ConfigError(f"{where}: role {item.role} needs choices whose meaning is "
                              f"{' and '.join(MEANINGS[item.role])}; add meaning: {missing[0]} to that choice.")
    spec = item.report
    if spec.figure and not spec.table:
        raise ConfigError(f"{where}: report.figure {spec.figure.name} has no table to draw from; add "
                          "report.table (and report.title), or remove the figure.")
    if spec.table and not spec.title:
        raise ConfigError(f"{where}: report.table {spec.table} needs a report.title.")
    if item.role == "yes_no" and not spec.table:
        raise ConfigError(f"{where}: a yes_no item needs report.table and report.title for its table.")
    if item.role == "coded" and not (spec.table and spec.figure):
        raise ConfigError(f"{where}: a coded item needs report.table, report.title and report.figure for its themes.")
    if spec.per_network and item.role != "coded":
        raise ConfigError(f"{where}: report.per_network is only for coded items.")


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
        role = str(spec.get("role", "other"))
        if role not in ROLES:
            raise ConfigError(f"{where}: role must be one of {', '.join(ROLES)}, not {role!r}.")
        item = Item(id=str(item_id), number=int(match.group(1)), type=spec["type"],
                    wording=str(spec["wording"]), export_tag=str(spec["export_tag"]),
                    import_id=str(spec["import_id"]), personal=bool(spec.get("personal", False)),
                    choices=choices, rows=rows, scale=scale, role=role, report=_report(spec.get("report"), where))
        _check_item(item, where)
        items.append(item)
    items.sort(key=lambda it: it.number)
    instrument = Instrument(title=str(raw.get("title", "")), version=str(raw.get("version", "")), items=tuple(items))
    _check_instrument(instrument, path)
    return instrument


def _check_instrument(instrument: Instrument, path: Path) -> None:
    for role in SINGLE_ROLES:
        found = instrument.with_role(role)
        if len(found) != 1:
            which = ", ".join(it.id for it in found) or "none"
            raise ConfigError(f"{path}: exactly one item must have role {role} (found {which}); "
                              f"set role: {role} on the item that asks it.")
    for kind, names in (("table", [it.report.table for it in instrument.items if it.report.table]),
                        ("figure", [it.report.figure.name for it in instrument.items if it.report.figure])):
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(f"{path}: report {kind} {twice[0]} is declared for two items; give each its own name.")


def load_settings(path: Path = CONFIG_DIR / "settings.yaml", **overrides: Any) -> Settings:
    """Read run settings; keys given as overrides (from the command line) win."""
    raw = read_yaml(path) if path.exists() else {}
    raw = dict(raw or {})
    raw.update({k: v for k, v in overrides.items() if v is not None})
    known = set(Settings.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known are {', '.join(sorted(known))}.")
    for key, value in raw.items():
        kind, expected = SETTING_KINDS[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)) \
                or (kind is str and not value.strip()):
            raise ConfigError(f"{path}: {key} is {value!r}; expected {expected}"
                              + (" (without quotes)" if isinstance(value, str) and kind is not str else "") + ".")
    if raw.get("min_items_mapped", 1) < 1:
        raise ConfigError(f"{path}: min_items_mapped is {raw['min_items_mapped']}; expected at least 1.")
    settings = Settings(**raw)
    try:
        if "/" in settings.default_time_zone and ".." in settings.default_time_zone:
            raise ValueError(settings.default_time_zone)
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
    # Terms of participant groups that say what someone does, not where ("medewerker"): a label they head
    # is placed by its modifier or complement.
    generic_heads: frozenset[str] = frozenset()

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
        generic_heads=_generic_heads(raw.get("generic_heads"), f"{path}: generic_heads"),
    )


def _generic_heads(raw: Any, where: str) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list) or not all(isinstance(t, str) and t.strip() for t in raw):
        raise ConfigError(f"{where}: expected a list of words in [ ].")
    return frozenset(t.strip() for t in raw)


@dataclass(frozen=True)
class Config:
    """The whole config folder, loaded and checked once per run and handed to every stage."""

    folder: Path
    instrument: Instrument
    settings: Settings
    taxonomies: Taxonomies
    codebook: Any          # pipeline.coding.rules.Codebook

    @property
    def files(self) -> list[Path]:
        """The files of the config folder a run reads (for the manifest)."""
        return sorted(p for p in self.folder.glob("*") if p.suffix in (".yaml", ".csv", ".txt"))

    @property
    def coded_items(self) -> tuple[Item, ...]:
        return self.instrument.with_role("coded")


def load_config(folder: Path = CONFIG_DIR, **setting_overrides: Any) -> Config:
    """instrument.yaml, settings.yaml, taxonomies.yaml and codebook.yaml of `folder`, each checked, and
    checked against each other: every coded item has codebook categories and every category codes a coded
    item. `setting_overrides` (a wave's settings, the command line) win over settings.yaml."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder; give the config folder (with instrument.yaml and the others).")
    instrument = load_instrument(folder / "instrument.yaml")
    codebook = load_codebook(folder / "codebook.yaml")
    coded = {it.id for it in instrument.with_role("coded")}
    for item in sorted(coded - set(codebook.items)):
        raise ConfigError(f"{folder / 'codebook.yaml'}: item {item} is declared coded in instrument.yaml but no "
                          f"category codes it; add a category with item: {item} and its themes, or give {item} "
                          "another role.")
    for item in codebook.items:
        if item not in coded:
            raise ConfigError(f"{folder / 'codebook.yaml'}: categories code item {item}, which instrument.yaml does "
                              f"not declare as coded; set role: coded on {item} there (with its report table and figure).")
    return Config(folder=folder, instrument=instrument,
                  settings=load_settings(folder / "settings.yaml", **setting_overrides),
                  taxonomies=load_taxonomies(folder / "taxonomies.yaml"), codebook=codebook)

"""Code: the themes of config/codebook.yaml found in the free text of q17, q19 and q23.

Rules run per sentence with Dutch-aware matching; the overrides of config/coding_overrides.csv are
applied after them and win. Every code keeps its origin (a rule id or "manual") and its evidence.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import CONFIG_DIR, read_yaml
from pipeline.dutch import Haystack, Term, find, haystack, term, word_keys, words
from pipeline.errors import ConfigError
from pipeline.schemas import CODES, write_atomic, write_parquet

OVERRIDE_COLUMNS = ("network_id", "item", "theme", "action", "coder", "reason")
OVERRIDE_ACTIONS = ("add", "remove")
EVIDENCE_LENGTH = 240
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z])|\n+")


@dataclass(frozen=True)
class Rule:
    id: str
    terms: tuple[Term, ...]
    with_terms: tuple[Term, ...] = ()
    unless: tuple[Term, ...] = ()

    def matches(self, sentence: Haystack, possible: frozenset[int] | None = None) -> bool:
        """Whether the rule codes the sentence; `possible` (ids of term objects) leaves out terms known not
        to occur in it (see RuleIndex)."""
        def found(terms: tuple[Term, ...]) -> bool:
            return any(find(t, sentence) for t in terms if possible is None or id(t) in possible)
        return found(self.terms) and (not self.with_terms or found(self.with_terms)) and not found(self.unless)


@dataclass(frozen=True)
class Theme:
    code: str
    label: str
    category: str
    item: str
    definition: str
    rules: tuple[Rule, ...]
    positive: tuple[str, ...]
    negative: tuple[str, ...]


@dataclass(frozen=True)
class Codebook:
    version: str
    categories: dict[str, dict[str, str]]
    themes: tuple[Theme, ...]

    @property
    def items(self) -> tuple[str, ...]:
        """The coded items, in the order their categories are listed."""
        return tuple(dict.fromkeys(c["item"] for c in self.categories.values()))

    def themes_for(self, item: str) -> tuple[Theme, ...]:
        return tuple(t for t in self.themes if t.item == item)

    def theme(self, code: str) -> Theme:
        for t in self.themes:
            if t.code == code:
                return t
        raise KeyError(code)


def _terms(raw: Any, where: str) -> tuple[Term, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, (str, int)) for t in raw):
        raise ConfigError(f"{where}: expected a list of terms in [ ].")
    terms = tuple(term(str(t)) for t in raw)
    empty = [t.text for t in terms if not t.stems]
    if empty:
        raise ConfigError(f"{where}: term(s) {', '.join(map(repr, empty))} hold no word to match.")
    return terms


def load_codebook(path: Path = CONFIG_DIR / "codebook.yaml") -> Codebook:
    """Read and check the codebook: categories with their item, themes with rules and examples."""
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("themes"), dict):
        raise ConfigError(f"{path}: expected a mapping with version, categories and themes.")
    categories = raw.get("categories")
    if not isinstance(categories, dict) or not categories:
        raise ConfigError(f"{path}: categories must map each category to its item and Dutch label.")
    for code, spec in categories.items():
        if not isinstance(spec, dict) or not re.fullmatch(r"q\d+", str(spec.get("item", ""))) or not spec.get("label"):
            raise ConfigError(f"{path}: category {code} needs an item (such as q23) and a label.")
    themes, rule_ids = [], set()
    for code, spec in raw["themes"].items():
        where = f"{path}: theme {code}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: expected label, category, definition, rules and examples.")
        missing = [k for k in ("label", "category", "definition", "rules") if not spec.get(k)]
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(missing)}.")
        if spec["category"] not in categories:
            raise ConfigError(f"{where}: category {spec['category']!r} is not one of {', '.join(categories)}.")
        rules = []
        for i, rule in enumerate(spec["rules"], start=1):
            if not isinstance(rule, dict) or not rule.get("terms"):
                raise ConfigError(f"{where}: rule {i} needs terms.")
            rule_id = str(rule.get("id") or f"{code}.{i}")
            if rule_id in rule_ids:
                raise ConfigError(f"{where}: rule id {rule_id} is used twice; rule ids must be unique.")
            unknown = sorted(set(rule) - {"id", "terms", "with", "unless"})
            if unknown:
                raise ConfigError(f"{where}: rule {rule_id} has unknown key(s) {', '.join(unknown)}; "
                                  "use terms, with and unless.")
            rule_ids.add(rule_id)
            rules.append(Rule(id=rule_id, terms=_terms(rule["terms"], f"{where}, rule {rule_id}"),
                              with_terms=_terms(rule.get("with"), f"{where}, rule {rule_id}, with"),
                              unless=_terms(rule.get("unless"), f"{where}, rule {rule_id}, unless")))
        examples = spec.get("examples") or {}
        themes.append(Theme(code=str(code), label=str(spec["label"]), category=str(spec["category"]),
                            item=str(categories[spec["category"]]["item"]),
                            definition=" ".join(str(spec["definition"]).split()), rules=tuple(rules),
                            positive=tuple(str(e) for e in examples.get("positive") or ()),
                            negative=tuple(str(e) for e in examples.get("negative") or ())))
    return Codebook(version=str(raw.get("version", "")),
                    categories={str(k): {"item": str(v["item"]), "label": str(v["label"])}
                                for k, v in categories.items()},
                    themes=tuple(themes))


def sentences(text: str) -> list[str]:
    """The sentences (and list lines) of an answer."""
    return [s.strip() for s in _SENTENCE_END.split(text or "") if s.strip()]


class RuleIndex:
    """Which terms a word can start: the first word of the term may match it. A sentence is only tried
    against the terms its words can start, and a theme only when one of its rules' terms is among them.
    Terms are known by the id of their object, which lives as long as the codebook."""

    def __init__(self, rules):
        self._by_key: dict[str, set[int]] = {}
        for rule in rules:
            for t in (*rule.terms, *rule.with_terms, *rule.unless):
                for key in t.parts[0].keys:
                    self._by_key.setdefault(key, set()).add(id(t))
        self._keys = frozenset(self._by_key)
        self._per_word: dict[str, frozenset[int]] = {}

    def terms_for(self, sentence_words: list[str]) -> frozenset[int]:
        found: set[int] = set()
        for word in sentence_words:
            terms = self._per_word.get(word)
            if terms is None:
                terms = frozenset().union(*(self._by_key[k] for k in word_keys(word) & self._keys))
                self._per_word[word] = terms
            found |= terms
        return frozenset(found)


class Sentence:
    """One sentence of an answer; `terms` are the ids of the terms that may occur in it (None: any)."""

    def __init__(self, text: str, terms: frozenset[int] | None = None):
        self.text, self.terms = text, terms

    @cached_property
    def haystack(self) -> Haystack:
        return haystack(self.text)


def tokenised(text: str, index: RuleIndex | None = None) -> list[Sentence]:
    """The sentences of an answer, prepared once per answer and shared by every theme."""
    return [Sentence(s, index.terms_for(words(s)) if index else None) for s in sentences(text)]


def match_theme(theme: Theme, text: str | list[Sentence]) -> tuple[str, str] | None:
    """(rule id, evidence sentence) of the first rule of `theme` matching a sentence of `text`, or None."""
    for sentence in (tokenised(text) if isinstance(text, str) else text):
        for rule in theme.rules:
            if rule.matches(sentence.haystack, sentence.terms):
                evidence = sentence.text
                if len(evidence) > EVIDENCE_LENGTH:
                    evidence = evidence[:EVIDENCE_LENGTH - 1] + "…"
                return rule.id, evidence
    return None


def apply_rules(*, networks: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Rule codes. Takes network_id and the coded items' text columns (q17, q19, q23);
    gives network_id, item, theme, origin (rule id), evidence."""
    index = RuleIndex(rule for theme in codebook.themes for rule in theme.rules)
    starts = {theme.code: frozenset(id(t) for rule in theme.rules for t in rule.terms) for theme in codebook.themes}
    columns: dict[str, list[str]] = {c: [] for c in CODES}
    for item in codebook.items:
        if item not in networks.columns:
            continue
        themes = codebook.themes_for(item)
        for network_id, text in zip(networks["network_id"].tolist(), networks[item].fillna("").tolist()):
            if not text:
                continue
            answer = tokenised(text, index)
            possible = frozenset().union(*(s.terms for s in answer))
            for theme in themes:
                hit = None if possible.isdisjoint(starts[theme.code]) else match_theme(theme, answer)
                if hit:
                    for column, value in zip(CODES, (network_id, item, theme.code, *hit)):
                        columns[column].append(value)
    return pd.DataFrame(columns, columns=list(CODES), dtype=str)


def empty_overrides() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=str) for c in OVERRIDE_COLUMNS})


def load_overrides(path: Path, *, codebook: Codebook) -> pd.DataFrame:
    """The manual corrections; a missing file means none. Checks columns, actions and themes."""
    if not path.exists():
        return empty_overrides()
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ConfigError(f"{path}: not a readable UTF-8 CSV ({exc}); save it as CSV UTF-8.")
    missing = [c for c in OVERRIDE_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}; "
                          f"the columns are {','.join(OVERRIDE_COLUMNS)}.")
    frame = frame[list(OVERRIDE_COLUMNS)].apply(lambda s: s.str.strip())
    for line, row in enumerate(frame.itertuples(index=False), start=2):
        where = f"{path}, line {line}"
        if row.action not in OVERRIDE_ACTIONS:
            raise ConfigError(f"{where}: action {row.action!r} must be add or remove.")
        try:
            theme = codebook.theme(row.theme)
        except KeyError:
            raise ConfigError(f"{where}: theme {row.theme!r} is not in the codebook.")
        if theme.item != row.item:
            raise ConfigError(f"{where}: theme {row.theme} codes {theme.item}, not {row.item!r}.")
        if not row.coder:
            raise ConfigError(f"{where}: say who made the correction in the coder column.")
    return frame


@dataclass
class Coded:
    codes: pd.DataFrame
    audit: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def apply_overrides(*, codes: pd.DataFrame, overrides: pd.DataFrame, network_ids: pd.Series) -> Coded:
    """Rule codes corrected by the overrides, which win; later lines win over earlier ones.

    Takes codes (network_id, item, theme, origin, evidence) and overrides (OVERRIDE_COLUMNS); gives the
    corrected codes and an audit table of every override with its effect."""
    known = set(network_ids)
    # Only the codes an override names are looked at one by one; the others pass through untouched.
    keys = codes["network_id"] + "\x00" + codes["item"] + "\x00" + codes["theme"]
    named = keys.isin(set(overrides["network_id"] + "\x00" + overrides["item"] + "\x00" + overrides["theme"]))
    named = named.to_numpy(dtype=bool)
    untouched = codes[~named]
    current = {(r.network_id, r.item, r.theme): r._asdict() for r in codes[named].itertuples(index=False)}
    audit, warnings = [], []
    for o in overrides.itertuples(index=False):
        key = (o.network_id, o.item, o.theme)
        if o.network_id not in known:
            effect = "skipped: network not in this export"
            warnings.append(f"coding override for unknown network {o.network_id!r} ({o.item}, {o.theme}) skipped.")
        elif o.action == "add":
            existing = current.get(key)
            if existing and existing["origin"] != "manual":
                effect = "kept: a rule already codes it"
            else:
                effect = "added"
                current[key] = {"network_id": o.network_id, "item": o.item, "theme": o.theme, "origin": "manual",
                                "evidence": f"{o.reason} ({o.coder})" if o.reason else f"({o.coder})"}
        else:
            effect = "removed" if current.pop(key, None) else "nothing to remove"
        audit.append({**o._asdict(), "effect": effect})
    frame = pd.concat([untouched, pd.DataFrame(list(current.values()), columns=list(CODES), dtype=str)])
    frame = frame.sort_values(["item", "network_id", "theme"], kind="stable").reset_index(drop=True).astype(str)
    return Coded(codes=frame, audit=pd.DataFrame(audit, columns=[*OVERRIDE_COLUMNS, "effect"]).astype(str),
                 warnings=warnings)


def code(*, networks: pd.DataFrame, codebook: Codebook, overrides: pd.DataFrame) -> Coded:
    """The codes table from the networks table (network_id, q17, q19, q23): rules, then overrides."""
    rule_codes = apply_rules(networks=networks, codebook=codebook)
    return apply_overrides(codes=rule_codes, overrides=overrides, network_ids=networks["network_id"])


def overrides_csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame[list(OVERRIDE_COLUMNS)].to_csv(buffer, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue().encode("utf-8")


def write_coded(result: Coded, processed_dir: str | Path, *, codebook: Codebook) -> list[Path]:
    """Write codes.parquet, code_audit.csv and coding.json (codebook version, warnings); returns their paths."""
    processed = Path(processed_dir)
    codes, audit, summary = processed / "codes.parquet", processed / "code_audit.csv", processed / "coding.json"
    write_parquet(result.codes, codes, schema=CODES)
    write_atomic(audit, result.audit.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    record = {"codebook_version": codebook.version, "codes": len(result.codes),
              "manual": int((result.codes["origin"] == "manual").sum()), "overrides": len(result.audit),
              "warnings": result.warnings}
    write_atomic(summary, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return [codes, audit, summary]


def run(config, *, processed: Path, networks: pd.DataFrame | None = None) -> tuple[Coded, list[Path]]:
    """The stage: the coded items of the networks (given, or read from `processed`) coded with the
    config's codebook and overrides, written to `processed`."""
    from pipeline.schemas import NETWORKS, read_parquet
    codebook = config.codebook
    if networks is None:
        networks = read_parquet(processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q",
                                columns=["network_id", "werkplaats", "name", *codebook.items])
    result = code(networks=networks, codebook=codebook, overrides=config.overrides)
    return result, write_coded(result, processed, codebook=codebook)

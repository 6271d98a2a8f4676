"""The codebook (config/codebook.yaml): its categories, themes and rules, read and checked. The rules
themselves run in pipeline.coding.rules; the types are here, below everything that reads a codebook."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.errors import ConfigError
from pipeline.core.files import CONFIG_DIR, read_yaml
from pipeline.language.matching import SENSES, Haystack, Term, find, term


@dataclass(frozen=True)
class Rule:
    id: str
    terms: tuple[Term, ...]
    with_terms: tuple[Term, ...] = ()
    unless: tuple[Term, ...] = ()

    def __post_init__(self):
        # The ids of each kind of term, and the terms by id: a sentence's possible terms are intersected
        # with these sets instead of testing the rule's terms one by one.
        object.__setattr__(self, "_by_id", {id(t): t for t in (*self.terms, *self.with_terms, *self.unless)})
        object.__setattr__(self, "_ids", tuple(frozenset(id(t) for t in kind)
                                               for kind in (self.terms, self.with_terms, self.unless)))

    @property
    def term_ids(self) -> frozenset[int]:
        return self._ids[0]

    def matches(self, sentence: Haystack, possible: frozenset[int] | None = None) -> bool:
        """Whether the rule codes the sentence; `possible` (ids of term objects) leaves out terms known not
        to occur in it (see RuleIndex)."""
        if possible is None:
            def found(terms: tuple[Term, ...]) -> bool:
                return any(find(t, sentence) for t in terms)
            return found(self.terms) and (not self.with_terms or found(self.with_terms)) and not found(self.unless)
        by_id = self._by_id
        terms, with_terms, unless = self._ids
        hit = terms & possible
        if not hit or not any(find(by_id[i], sentence) for i in hit):
            return False
        if self.with_terms:
            hit = with_terms & possible
            if not hit or not any(find(by_id[i], sentence) for i in hit):
                return False
        return not unless or not any(find(by_id[i], sentence) for i in unless & possible)


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
    sense: str | None = None   # the category's sense: a clause that denies it codes nothing (matching.SENSES)


@dataclass(frozen=True)
class Codebook:
    version: str
    categories: dict[str, dict[str, str]]
    themes: tuple[Theme, ...]

    @property
    def items(self) -> tuple[str, ...]:
        """The coded items, in the order their categories are listed."""
        return tuple(dict.fromkeys(c["item"] for c in self.categories.values()))

    @property
    def method_items(self) -> tuple[str, ...]:
        """The coded items whose categories are working methods (kind: method), not themes."""
        return tuple(item for item in self.items
                     if all(c.get("kind") == "method" for c in self.categories.values() if c["item"] == item))

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
        if spec.get("kind", "theme") not in ("theme", "method"):
            raise ConfigError(f"{path}: category {code}: kind is theme (the default) or method, not {spec['kind']!r}.")
        if spec.get("sense") is not None and spec["sense"] not in SENSES:
            raise ConfigError(f"{path}: category {code}: sense is one of {', '.join(SENSES)}, not {spec['sense']!r}.")
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
                            negative=tuple(str(e) for e in examples.get("negative") or ()),
                            sense=categories[spec["category"]].get("sense")))
    return Codebook(version=str(raw.get("version", "")),
                    categories={str(k): {"item": str(v["item"]), "label": str(v["label"]), "kind": str(v.get("kind", "theme"))}
                                for k, v in categories.items()},
                    themes=tuple(themes))


def checked_theme(codebook: Codebook, code: str, item: str, where: str):
    """The theme `code` of the codebook, which must code `item`; otherwise a ConfigError naming `where`
    (a file and line the researcher wrote)."""
    try:
        theme = codebook.theme(code)
    except KeyError:
        raise ConfigError(f"{where}: theme {code!r} is not in the codebook.")
    if theme.item != item:
        raise ConfigError(f"{where}: theme {code} codes {theme.item}, not {item!r}.")
    return theme

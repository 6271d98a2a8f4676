"""Texts carried over from an earlier wave, paragraph by paragraph: which paragraphs are still as that
wave wrote them (so the report marks them where they stand), and which of those name a subject the
tables of this wave measure (so the run tells the researcher what to check first).

A text is carried over while its first line says so (pipeline.waves.wave.INHERITED). Within it, a
paragraph counts as rewritten once its words differ from every paragraph of the earlier wave's text;
when that text cannot be found, every paragraph counts as still inherited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.config import Config
from pipeline.language.matching import Term, all_matches, term, words
from pipeline.waves.wave import TEMPLATE_SOURCE, earlier_text, inherited_from, without_mark

# Words of a label that name a dimension of the report rather than a subject ("Diversiteit in
# deelnemers, onderwerpen en werkvormen"), or that every text about learning networks uses.
GENERIC_WORDS = frozenset({"deelnemers", "deelnemer", "werkvormen", "onderwerpen", "partners", "netwerk", "netwerken",
                           "leren", "lerende", "leveren", "spreken", "elkaars", "benodigde", "centraal", "andere",
                           "eerst", "organisaties", "initiatieven", "werken", "sociaal", "domein", "werkplaats",
                           "werkplaatsen"})
MIN_LABEL_WORD = 5     # shorter words of a label ("doen", "dan") only count as the whole label ("Tijd")
FIRST_WORDS = 8


def mark_text(source: str) -> str:
    """The words that mark a paragraph still carried over from wave `source`."""
    return f"Overgenomen uit meting {source}, nog niet herschreven"


def blocks(text: str) -> list[str]:
    """The paragraphs and lists of a text, as texts.text_to_html splits them (blank lines between)."""
    return [b.strip("\n") for b in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip()) if b.strip()]


def same_words(block: str) -> str:
    return " ".join(block.split())


@dataclass(frozen=True)
class Inheritance:
    """Where a text came from (a wave's name) and the paragraphs of that wave's text (their words), or
    None when that text is not there and every paragraph counts as carried over."""

    source: str
    earlier: frozenset[str] | None

    def still_inherited(self, block: str) -> bool:
        return self.earlier is None or same_words(block) in self.earlier

    @property
    def mark(self) -> str:
        return mark_text(self.source)


def inheritance(text: str, name: str, *, waves_dir: Path | None) -> Inheritance | None:
    """How text `name` (its content `text`) is carried over from an earlier wave, or None when it is
    this wave's own or the project's starting text (which says itself that it is not written yet)."""
    source = inherited_from(text)
    if source is None or source == TEMPLATE_SOURCE:
        return None
    before = earlier_text(source, name, waves_dir=waves_dir) if waves_dir else None
    return Inheritance(source=source,
                       earlier=frozenset(same_words(b) for b in blocks(before)) if before is not None else None)


def subject_vocabulary(config: Config) -> dict[str, list[Term]]:
    """What the tables measure, each under the words a run names it by ("werkvormen: Intervisie, ..."):
    the initiator types and participant groups (their label and terms) and every theme and working
    method of the codebook (its label)."""
    vocabulary: dict[str, list[Term]] = {}
    taxonomies, codebook = config.taxonomies, config.codebook
    for kind, categories in (("initiatiefnemers", taxonomies.initiator_types),
                             ("deelnemersgroepen", taxonomies.participant_groups)):
        for category in categories:
            if category.code != "overig":
                vocabulary[f"{kind}: {category.label}"] = [*_label_terms(category.label), *category.terms]
    for item in codebook.items:
        for theme in codebook.themes_for(item):
            category = codebook.categories[theme.category]["label"].lower()
            vocabulary[f"{category}: {theme.label}"] = _label_terms(theme.label)
    return vocabulary


def _label_terms(label: str) -> list[Term]:
    """The label as a phrase (without its explanation in brackets), the phrase in brackets, and each of
    its words that names something on its own."""
    phrases = [re.sub(r"\([^)]*\)", " ", label), *re.findall(r"\(([^)]*)\)", label)]
    found = [term(" ".join(words(p))) for p in phrases if words(p)]
    found += [term(w) for w in dict.fromkeys(words(label)) if len(w) >= MIN_LABEL_WORD and w not in GENERIC_WORDS]
    return found


def subjects_named(text: str, vocabulary: dict[str, list[Term]]) -> list[str]:
    return all_matches(text, vocabulary)


def first_words(block: str, count: int = FIRST_WORDS) -> str:
    plain = re.sub(r"[*]+", "", same_words(re.sub(r"^\s*(?:[-•*]|\d+[.)])\s+", "", block)))
    shown = plain.split()
    return " ".join(shown[:count]) + (" …" if len(shown) > count else "")


def paragraphs_to_check(path: Path, name: str, config: Config, *, waves_dir: Path | None,
                        vocabulary: dict[str, list[Term]] | None = None) -> list[str]:
    """One line per paragraph (or list item) of text `name` still as an earlier wave wrote it that
    names a subject the tables measure: the text, its first words and those subjects."""
    text = path.read_text(encoding="utf-8")
    carried = inheritance(text, name, waves_dir=waves_dir)
    if carried is None:
        return []
    vocabulary = vocabulary if vocabulary is not None else subject_vocabulary(config)
    lines = []
    for block in blocks(without_mark(text)):
        if not carried.still_inherited(block):
            continue
        for part in _list_items(block):
            subjects = subjects_named(part, vocabulary)
            if subjects:
                lines.append(f'{name}.md, still as wave {carried.source} wrote it: "{first_words(part)}" names '
                             f"{'; '.join(subjects)}; check it against this wave's tables.")
    return lines


def _list_items(block: str) -> list[str]:
    """A list's items one by one (a list is one block of the text), or the paragraph itself."""
    items = re.split(r"\n(?=\s*(?:[-•*]|\d+[.)])\s)", block)
    return [i for i in items if i.strip()]

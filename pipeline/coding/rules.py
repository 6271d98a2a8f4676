"""Code: the themes of config/codebook.yaml found in the free text of the coded items.

Rules run per sentence with Dutch-aware matching; the wave's corrections (waves/<name>/coding_corrections.csv)
are applied after them and win. A correction names the answer it corrects by the response key, the item
and a hash of the answer's text, so it can only apply to that answer in that wave: when the answer has
changed it is reported as stale and not applied. Every code keeps its origin (a rule id or "manual") and
its evidence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from pipeline.core.codebook import Codebook, Theme
from pipeline.core.stage import Context
from pipeline.core.schemas import CODES, write_atomic, write_parquet
from pipeline.core.wave_files import CORRECTION_COLUMNS, answer_sha, load_corrections
from pipeline.language.matching import MIN_COMPOUND_PART, SPELL_MIN, Haystack, Speller, haystack, whole_word_keys, \
    word_keys, words
from pipeline.core.schemas import NETWORKS, read_parquet

EVIDENCE_LENGTH = 240
_SPELLING_NOTE = re.compile(r"\s\[[^\[\]]* gelezen als [^\[\]]*\]$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z])|\n+")


def sentences(text: str) -> list[str]:
    """The sentences (and list lines) of an answer."""
    return [s.strip() for s in _SENTENCE_END.split(text or "") if s.strip()]


class RuleIndex:
    """Which terms a word can start: the first word of the term may match it. A sentence is only tried
    against the terms its words can start, and a theme only when one of its rules' terms is among them.
    Terms are known by the id of their object, which lives as long as the codebook. The index also holds
    the speller of the terms' long words (spelling slips)."""

    def __init__(self, rules):
        # A term whose first word is matched as a whole word only (a "=" term, or a word too short to be
        # part of a compound) can only start at a word with its stem or that is it plus an inflection:
        # such terms are kept apart (`_whole`) and looked up by those forms, not by every substring.
        self._by_key: dict[str, set[int]] = {}
        self._whole: dict[str, set[int]] = {}
        vocabulary = set()
        for rule in rules:
            for t in (*rule.terms, *rule.with_terms, *rule.unless):
                first = t.parts[0]
                index = self._whole if t.whole_word or len(first.stem) < MIN_COMPOUND_PART else self._by_key
                for key in first.keys:
                    index.setdefault(key, set()).add(id(t))
                vocabulary.update(p.word for p in t.parts if len(p.word) >= SPELL_MIN)
        self._keys = frozenset(self._by_key)
        self._whole_keys = frozenset(self._whole)
        self._per_word: dict[str, frozenset[int]] = {}
        # Numbers (years, counts, dates) are words of their own; without a term holding a digit they start none.
        self._digits = any(c.isdigit() for key in (*self._keys, *self._whole_keys) for c in key)
        self.speller = Speller(frozenset(vocabulary))

    def _terms_of(self, word: str) -> frozenset[int]:
        if not self._digits and word.isdigit():
            return frozenset()
        return frozenset().union(*(self._by_key[k] for k in word_keys(word) & self._keys),
                                 *(self._whole[k] for k in whole_word_keys(word) & self._whole_keys))

    def read_as(self, sentence_words: list[str]) -> dict[str, str]:
        """The sentence's words that are spelling slips of a term word, with that word."""
        correct = self.speller.correct
        out = {}
        for word in sentence_words:
            if len(word) >= SPELL_MIN:
                known = correct(word)
                if known:
                    out[word] = known
        return out

    def starts_for(self, sentence_words: list[str]) -> dict[int, list[int]]:
        """For each term that may occur in the sentence, the positions of the words that can start it."""
        per_word = self._per_word
        starts: dict[int, list[int]] = {}
        for i, word in enumerate(sentence_words):
            terms = per_word.get(word)
            if terms is None:
                terms = per_word[word] = self._terms_of(word)
            for t in terms:
                at = starts.get(t)
                if at is None:
                    starts[t] = [i]
                else:
                    at.append(i)
        return starts


class Sentence:
    """One sentence of an answer; `terms` are the ids of the terms that may occur in it (None: any), with
    `starts` the positions of the words that can start each, and `read_as` its spelling slips with the term
    word each is read as. Matches in the scope of a negation, or in a clause that denies the theme's sense, do not
    count (pipeline.language.matching.negation_scope)."""

    def __init__(self, text: str, starts: dict[int, list[int]] | None = None, read_as: dict[str, str] | None = None,
                 words_of_text: list[str] | None = None):
        self.text, self.starts, self.read_as, self.words = text, starts, read_as or {}, words_of_text
        self.terms = None if starts is None else frozenset(starts)

    @cached_property
    def _haystacks(self) -> dict[str | None, Haystack]:
        return {}

    def haystack(self, sense: str | None = None) -> Haystack:
        """The sentence prepared for the themes of a category of `sense` (clauses that deny it match nothing)."""
        found = self._haystacks.get(sense)
        if found is None:
            found = self._haystacks[sense] = haystack(self.text, negation=True, read_as=self.read_as,
                                                      words_of_text=self.words, starts=self.starts, sense=sense)
        return found

    @property
    def evidence(self) -> str:
        """The sentence, with what was read as a term word when a spelling slip was corrected."""
        note = "; ".join(f"{w} gelezen als {k}" for w, k in self.read_as.items())
        text = self.text
        room = EVIDENCE_LENGTH - (len(note) + 3 if note else 0)
        if len(text) > room:
            text = text[:max(room - 1, 0)] + "…"
        return f"{text} [{note}]" if note else text


def evidence_sentence_text(evidence: str) -> str:
    """The sentence part of a rule code's evidence (see Sentence.evidence): the note on spelling slips and
    the cut-off mark taken off, spaces folded."""
    text = _SPELLING_NOTE.sub("", evidence or "")
    return " ".join((text[:-1] if text.endswith("…") else text).split())


def tokenised(text: str, index: RuleIndex | None = None) -> list[Sentence]:
    """The sentences of an answer, prepared once per answer and shared by every theme. Without an index
    every term is tried and no spelling slip is read."""
    if index is None:
        return [Sentence(s) for s in sentences(text)]
    out = []
    for s in sentences(text):
        ws = words(s)
        read_as = index.read_as(ws)
        out.append(Sentence(s, index.starts_for([read_as.get(w, w) for w in ws] if read_as else ws), read_as, ws))
    return out


_THEME_INDEX: dict[int, tuple[Theme, RuleIndex]] = {}


def _index_for(theme: Theme) -> RuleIndex:
    """The index (and speller) of one theme's rules, kept while the theme lives."""
    kept = _THEME_INDEX.get(id(theme))
    if kept is None or kept[0] is not theme:
        kept = _THEME_INDEX[id(theme)] = (theme, RuleIndex(theme.rules))
    return kept[1]


def match_theme(theme: Theme, text: str | list[Sentence]) -> tuple[str, str] | None:
    """(rule id, evidence sentence) of the first rule of `theme` matching a sentence of `text`, or None."""
    for sentence in (tokenised(text, _index_for(theme)) if isinstance(text, str) else text):
        possible = sentence.terms
        for rule in theme.rules:
            # A sentence none of whose words can start one of the rule's terms is not prepared for it.
            if possible is not None and possible.isdisjoint(rule.term_ids):
                continue
            if rule.matches(sentence.haystack(theme.sense), possible):
                return rule.id, sentence.evidence
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


def answers(networks: pd.DataFrame, items) -> pd.DataFrame:
    """The coded answers: response_key, item, network_id, answer_sha. Takes response_key, network_id and
    the items' text columns."""
    parts = []
    for item in items:
        if item not in networks.columns:
            continue
        text = networks[item].fillna("")
        answered = text.ne("").to_numpy(dtype=bool)
        parts.append(pd.DataFrame({"response_key": networks["response_key"][answered], "item": item,
                                   "network_id": networks["network_id"][answered],
                                   "answer_sha": [answer_sha(t) for t in text[answered]]}))
    columns = ["response_key", "item", "network_id", "answer_sha"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns, dtype=str)


@dataclass
class Coded:
    codes: pd.DataFrame
    audit: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def stale(self) -> int:
        return int(self.audit["effect"].str.startswith("stale").sum()) if len(self.audit) else 0


def apply_corrections(*, codes: pd.DataFrame, corrections: pd.DataFrame, answered: pd.DataFrame) -> Coded:
    """Rule codes corrected by the wave's corrections, which win; later lines win over earlier ones.

    Takes codes (network_id, item, theme, origin, evidence), corrections (CORRECTION_COLUMNS) and the
    answers (see `answers`); gives the corrected codes and an audit table of every correction with its
    effect. An added code's evidence is the correction's evidence (the sentence of an accepted suggestion),
    else its reason and coder. A correction whose answer is not in this wave, or has changed, is not applied."""
    by_answer = {(r.response_key, r.item): (r.network_id, r.answer_sha) for r in answered.itertuples(index=False)}
    keys = codes["network_id"] + "\x00" + codes["item"] + "\x00" + codes["theme"]
    named_networks = {by_answer[(r, i)][0] for r, i in zip(corrections["response_key"], corrections["item"])
                      if (r, i) in by_answer}
    # Only the codes of corrected networks are looked at one by one; the others pass through untouched.
    named = codes["network_id"].isin(named_networks).to_numpy(dtype=bool)
    untouched = codes[~named]
    current = {k: r._asdict() for k, r in zip(keys[named], codes[named].itertuples(index=False))}
    audit, warnings = [], []
    for c in corrections.itertuples(index=False):
        found = by_answer.get((c.response_key, c.item))
        if found is None:
            effect = "skipped: no such answer in this wave"
            warnings.append(f"correction {c.item} {c.theme} ({c.action}, {c.coder}) names an answer that is not in "
                            f"this wave (response {c.response_key}); not applied.")
        elif found[1] != c.answer_sha:
            effect = "stale: the answer changed since it was corrected"
            warnings.append(f"correction {c.item} {c.theme} ({c.action}, {c.coder}) of network {found[0]} is stale: "
                            "the answer has changed since; not applied. Review the answer again.")
        else:
            network_id = found[0]
            key = f"{network_id}\x00{c.item}\x00{c.theme}"
            if c.action == "add":
                existing = current.get(key)
                if existing and existing["origin"] != "manual":
                    effect = "kept: a rule already codes it"
                else:
                    effect = "added"
                    evidence = c.evidence or (f"{c.reason} ({c.coder})" if c.reason else f"({c.coder})")
                    current[key] = {"network_id": network_id, "item": c.item, "theme": c.theme, "origin": "manual",
                                    "evidence": evidence[:EVIDENCE_LENGTH]}
            else:
                effect = "removed" if current.pop(key, None) else "nothing to remove"
        audit.append({**c._asdict(), "effect": effect})
    frame = pd.concat([untouched, pd.DataFrame(list(current.values()), columns=list(CODES), dtype=str)])
    frame = frame.sort_values(["item", "network_id", "theme"], kind="stable").reset_index(drop=True).astype(str)
    return Coded(codes=frame, audit=pd.DataFrame(audit, columns=[*CORRECTION_COLUMNS, "effect"]).astype(str),
                 warnings=warnings)


def code(*, networks: pd.DataFrame, codebook: Codebook, corrections: pd.DataFrame | None = None) -> Coded:
    """The codes table from the networks table (response_key, network_id and the coded items): rules, then
    the wave's corrections."""
    rule_codes = apply_rules(networks=networks, codebook=codebook)
    if corrections is None or corrections.empty:
        return Coded(codes=rule_codes.sort_values(["item", "network_id", "theme"], kind="stable")
                     .reset_index(drop=True).astype(str),
                     audit=pd.DataFrame(columns=[*CORRECTION_COLUMNS, "effect"], dtype=str))
    return apply_corrections(codes=rule_codes, corrections=corrections,
                             answered=answers(networks, codebook.items))


def write_coded(result: Coded, processed_dir: str | Path, *, codebook: Codebook) -> list[Path]:
    """Write codes.parquet, code_audit.csv and coding.json (codebook version, warnings); returns their paths."""
    processed = Path(processed_dir)
    codes, audit, summary = processed / "codes.parquet", processed / "code_audit.csv", processed / "coding.json"
    write_parquet(result.codes, codes, schema=CODES)
    write_atomic(audit, result.audit.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    record = {"codebook_version": codebook.version, "codes": len(result.codes),
              "manual": int((result.codes["origin"] == "manual").sum()), "corrections": len(result.audit),
              "applied": int(result.audit["effect"].isin(["added", "removed"]).sum()) if len(result.audit) else 0,
              "added": int((result.audit["effect"] == "added").sum()) if len(result.audit) else 0,
              "removed": int((result.audit["effect"] == "removed").sum()) if len(result.audit) else 0,
              "stale": result.stale, "warnings": result.warnings}
    write_atomic(summary, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return [codes, audit, summary]


def run(ctx: Context) -> None:
    """The stage: the coded items of the networks (of normalise, or read from the processed folder) coded
    with the config's codebook and the wave's corrections file, written there; gives the frame `codes`."""
    codebook = ctx.config.codebook
    networks = ctx.frame("networks", lambda: read_parquet(
        ctx.processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q",
        columns=["network_id", "response_key", "werkplaats", "name", *codebook.items]))
    result = code(networks=networks, codebook=codebook,
                  corrections=load_corrections(ctx.corrections, codebook=codebook))
    written = write_coded(result, ctx.processed, codebook=codebook)
    manual = int((result.codes["origin"] == "manual").sum())
    ctx.tell(f"code       codebook {codebook.version}: {len(result.codes)} codes in "
             f"{result.codes['network_id'].nunique()} networks ({manual} manual); {len(result.audit)} correction(s)"
             + (f", {result.stale} stale" if result.stale else ""))
    ctx.warn(result.warnings)
    ctx.wrote(written)
    ctx.give(codes=result.codes)

"""Quotes: the sentences the report quotes under each theme, and the researcher's decisions on them.

A quote is a complete sentence of a coded answer (see `is_complete`) that a code of the theme rests on:
a rule code's sentence only when it is positive evidence of the theme by itself (no negation, no clause that
denies the theme), a manual code's (an accepted suggestion, a coder's evidence) as the coder gave it. It is
never cut and quoted under one theme at most. Without decisions the run chooses up to QUOTES per
theme, the shortest first and from different networks where it can, and the report says the quotes
were not reviewed. The wave's quotes file (waves/<name>/quotes.csv, written pre-filled by
`python -m pipeline quotes --wave NAME`) holds the decisions: approve a quote, replace it by another
sentence of the same answer, withhold it, or mark a network's answers as not for publication. Like a
coding correction, a decision names its answer by response key, item and answer hash; one whose answer
has changed is reported as stale and not applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.coding.rules import evidence_sentence_text, match_theme
from pipeline.core.codebook import Codebook, checked_theme
from pipeline.core.errors import ConfigError
from pipeline.core.wave_files import KINDS, NETWORK_DECISIONS, QUOTE_COLUMNS, QUOTE_DECISIONS, answer_sha, \
    empty_quotes_file, read_quotes_file

QUOTES = 3                  # quotes per theme at most
MAX_QUOTE = 200             # characters: a longer sentence is not quoted, since it would have to be cut
MIN_WORDS = 4               # fewer words rarely say something on their own
NOT_PUBLISHED = "[niet voor publicatie]"
QUOTES_SUMMARY = "quotes.json"          # in the processed folder: what render says about the quotes

# Abbreviations whose full stop does not end a sentence ("o.a. De gemeente ..."), compared in lower case.
ABBREVIATIONS = frozenset("""
    a.s. bijv. bv. b.v. ca. d.d. d.m.v. d.w.z. dhr. dr. drs. e.a. e.d. e.e.a. enz. etc. evt. excl. fig. i.c.m.
    i.o.m. i.p.v. i.s.m. i.v.m. incl. ing. ir. jl. jr. m.b.t. m.b.v. m.i.v. m.n. mevr. mr. mw. n.a.v. n.b. nl.
    nr. o.a. o.b.v. o.l.v. o.m. p.m. prof. resp. sr. t.a.v. t.b.v. t.o.v. t/m v.d. vgl. vnl. z.g. z.o.z. zgn.
""".split())
# A sentence that opens with one of these leans on the one before it ("En deelnemers moeten ...").
LEANING_STARTS = frozenset("""
    en maar of want dus ook daarom daardoor hierdoor daarnaast daarbij hierbij daarvoor hiervoor verder
    bovendien tevens zoals omdat doordat waardoor waarbij terwijl die dat dit deze zij hij
""".split())
# A sentence without a final stop that ends in one of these was broken off.
HANGING_ENDS = frozenset("""
    en of maar want dus dat die om te van de het een met voor door aan op in bij als zoals naar over tot
""".split())
_LIST_MARKER = re.compile(r"^\s*(?:[-–—•*·▪●]+|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_BREAK = re.compile(r"[.!?]+[\"'”’)\]]*\s+")
_OPENING = "\"'“‘(«„"


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’-]+", text)


def _ends_in_abbreviation(text: str) -> bool:
    """Whether the stop at the end of `text` belongs to an abbreviation or an initial ("o.a.", "J.")."""
    last = text.rsplit(None, 1)[-1].lstrip(_OPENING).lower() if text.strip() else ""
    return last in ABBREVIATIONS or bool(re.fullmatch(r"(?:[a-z]\.){1,3}", last))


def split_sentences(text: str) -> list[tuple[str, bool, bool]]:
    """The sentences of an answer as (sentence, is a list item, last of its line), whitespace collapsed and
    a list marker taken off. A line break always ends a sentence; a full stop, ? or ! followed by a space
    ends one unless it closes an abbreviation or an initial, or the next word starts in lower case."""
    out = []
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        marker = _LIST_MARKER.match(line)
        listed = bool(marker)
        if marker:
            line = line[marker.end():]
        if not line:
            continue
        pieces, start = [], 0
        for stop in _BREAK.finditer(line):
            before, after = line[start:stop.end()].rstrip(), line[stop.end():]
            if not after or after[0].islower() or (stop.group(0).startswith(".") and _ends_in_abbreviation(before)):
                continue
            pieces.append(before)
            start = stop.end()
        pieces.append(line[start:].rstrip())
        pieces = [p for p in pieces if p]
        out += [(p, listed, i == len(pieces) - 1) for i, p in enumerate(pieces)]
    return out


def is_complete(sentence: str, *, listed: bool = False, last: bool = True) -> bool:
    """Whether a sentence can be quoted on its own: it opens with a capital (or a digit), does not lean on
    the sentence before it (En ..., Maar ..., Dit ...), has MIN_WORDS words and at most MAX_QUOTE
    characters, balanced brackets, and ends with . ! or ? (not with ... or …). Without a final stop it
    counts only as the last sentence of its line, not as a list item, and not ending in a word that
    leaves it hanging ("... en")."""
    text = sentence.strip()
    words = _words(text)
    if len(words) < MIN_WORDS or len(text) > MAX_QUOTE:
        return False
    first = text.lstrip(_OPENING)[:1]
    if not (first.isupper() or first.isdigit()) or words[0].lower() in LEANING_STARTS:
        return False
    if text.count("(") != text.count(")") or text.count("[") != text.count("]") or text.count('"') % 2:
        return False
    core = text.rstrip("\"'”’)]")
    if core.endswith(("...", "…")):
        return False
    if core.endswith((".", "!", "?")):
        return not re.fullmatch(r"[A-Z]\.", core.rsplit(None, 1)[-1])      # cut after an initial ("dhr. J.")
    if listed or not last or core.endswith((",", ";", ":", "-", "–", "(", "/")):
        return False
    return words[-1].lower() not in HANGING_ENDS


def _plain(text: str) -> str:
    return " ".join((text or "").split())


@dataclass(frozen=True)
class Candidate:
    """A complete sentence a rule code of `theme` rests on, in the answer of `item` of a network."""

    theme: str
    item: str
    network_id: str
    response_key: str
    answer_sha: str
    sentence: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.response_key, self.item, self.sentence)


def candidates(*, codes: pd.DataFrame, networks: pd.DataFrame, item: str, codebook: Codebook) -> list[Candidate]:
    """The quotable sentences of `item`, one per code: the complete sentence its evidence is in. A rule code's
    sentence must be positive evidence of its theme on its own (the theme's rules code it, so no negation or
    denying clause governs it); a manual code's sentence (an accepted suggestion, a coder's evidence) is the
    coder's judgement. Takes codes (network_id, item, theme, origin, evidence) and networks (network_id,
    response_key and the item's text)."""
    if item not in networks:
        return []
    by_network = {n: (r, t or "") for n, r, t in zip(networks["network_id"], networks["response_key"],
                                                       networks[item].fillna(""))}
    split: dict[str, list[tuple[str, bool, bool]]] = {}
    # Whether a theme's rules code a sentence depends on the two alone: decided once per theme and sentence.
    evidence_of: dict[tuple[str, str], bool] = {}
    out = []
    coded = codes[codes["item"] == item]
    for network_id, theme, origin, evidence in zip(coded["network_id"], coded["theme"], coded["origin"],
                                                   coded["evidence"]):
        if network_id not in by_network:
            continue
        response_key, text = by_network[network_id]
        if network_id not in split:   # once per answer, not once per code of it
            split[network_id] = split_sentences(text)
        found = evidence_sentence_text(evidence)
        probe = found[:80]
        for sentence, listed, last in split[network_id]:
            if probe and probe in sentence and is_complete(sentence, listed=listed, last=last):
                if origin != "manual" and (theme, sentence) not in evidence_of:
                    evidence_of[theme, sentence] = _evidence_of(codebook, theme, sentence)
                if origin == "manual" or evidence_of[theme, sentence]:
                    out.append(Candidate(theme, item, network_id, response_key, answer_sha(text), sentence))
                break
    return out


def _evidence_of(codebook: Codebook, theme: str, sentence: str) -> bool:
    """Whether the theme's rules code the sentence by itself."""
    try:
        return match_theme(codebook.theme(theme), sentence) is not None
    except KeyError:   # a theme no longer in the codebook
        return False


@dataclass(frozen=True)
class Quote:
    """A quote the report shows: the candidate, its place under its theme and how it was chosen
    (chosen by the run, approved or replaced by the researcher)."""

    candidate: Candidate
    place: int
    chosen_by: str


@dataclass
class Decisions:
    """The decisions of a quotes file that apply to this wave's answers, and what could not be applied."""

    approved: dict[tuple[str, str, str], tuple[str, int]] = field(default_factory=dict)   # key -> theme, place
    withheld: set[tuple[str, str, str]] = field(default_factory=set)
    unpublished: set[str] = field(default_factory=set)          # response keys
    reviewed_networks: set[str] = field(default_factory=set)    # response keys with a network decision
    warnings: list[str] = field(default_factory=list)
    stale: int = 0
    rows: int = 0


def load_decisions(path: Path | None, *, frame: pd.DataFrame | None = None, codebook: Codebook,
                   networks: pd.DataFrame, codes: pd.DataFrame) -> Decisions:
    """The decisions of the quotes file that apply: checked line by line (a wrong decision, theme or
    replacement stops the run with the line), stale or unknown answers reported and left out.
    Takes networks (network_id, response_key and the coded items' text) and codes."""
    frame = read_quotes_file(path) if frame is None else frame
    out = Decisions(rows=len(frame))
    answers = {(r, item): (n, t or "") for item in codebook.items if item in networks
               for n, r, t in zip(networks["network_id"], networks["response_key"], networks[item].fillna(""))}
    keys = set(networks["response_key"])
    coded = set(zip(codes["network_id"], codes["item"], codes["theme"]))
    taken: dict[tuple[str, str, str], int] = {}
    for line, row in enumerate(frame.itertuples(index=False), start=2):
        where = f"{path}, line {line}"
        if row.kind not in KINDS:
            raise ConfigError(f"{where}: kind {row.kind!r} must be quote or network.")
        if row.kind == "network":
            if row.decision not in NETWORK_DECISIONS:
                raise ConfigError(f"{where}: the decision on a network is empty, publish or withhold, not {row.decision!r}.")
            if not row.decision:
                continue
            if row.response_key not in keys:
                out.warnings.append(f"quotes file line {line}: network {row.name or row.network_id!r} is not in this "
                                    "wave (its response is not); the decision is not applied.")
                continue
            out.reviewed_networks.add(row.response_key)
            if row.decision == "withhold":
                out.unpublished.add(row.response_key)
            continue
        if row.decision not in QUOTE_DECISIONS:
            raise ConfigError(f"{where}: decision {row.decision!r} must be empty, approve, replace or withhold.")
        if not row.decision:
            continue
        checked_theme(codebook, row.theme, row.item, where)
        found = answers.get((row.response_key, row.item))
        if found is None:
            out.warnings.append(f"quotes file line {line}: the answer to {row.item} it names is not in this wave; "
                                "the decision is not applied.")
            continue
        network_id, text = found
        if answer_sha(text) != row.answer_sha:
            out.stale += 1
            out.warnings.append(f"quotes file line {line} ({row.item} {row.theme}, network {network_id}) is stale: the "
                                "answer has changed since the decision; not applied. Decide on it again.")
            continue
        sentence = _plain(row.replacement if row.decision == "replace" else row.quote)
        if row.decision == "replace" and not sentence:
            raise ConfigError(f"{where}: replace needs the sentence to quote instead in the replacement column.")
        in_answer = {s for s, _, _ in split_sentences(text)}
        if sentence not in in_answer:
            what = "the replacement" if row.decision == "replace" else "the quote"
            raise ConfigError(f"{where}: {what} is not a sentence of this network's answer to {row.item}; copy a "
                              "whole sentence of the same answer (see the answer in tables.xlsx).")
        key = (row.response_key, row.item, sentence)
        if row.decision == "withhold":
            out.withheld.add(key)
            continue
        if (network_id, row.item, row.theme) not in coded:
            out.warnings.append(f"quotes file line {line}: {row.theme} is no longer coded in the answer of network "
                                f"{network_id}; the quote is not shown.")
            continue
        if key in taken:
            raise ConfigError(f"{where}: this sentence is already quoted on line {taken[key]}; a sentence is quoted "
                              "under one theme at most.")
        taken[key] = line
        place = int(row.place) if str(row.place).isdigit() else QUOTES + line
        out.approved[key] = (row.theme, place)
    hidden = sorted(taken[key] for key in out.approved if key[0] in out.unpublished)
    if hidden:
        out.warnings.append(f"quotes file line(s) {', '.join(map(str, hidden))}: the quote belongs to a network "
                            "whose answers are not for publication; it is not shown.")
    return out


def _same_words(sentence: str) -> str:
    """A sentence as compared with another: its words, case-folded, without punctuation."""
    return " ".join(_words(sentence.casefold()))


def choose(*, codes: pd.DataFrame, networks: pd.DataFrame, codebook: Codebook, item: str,
           decisions: Decisions) -> dict[str, list[Quote]]:
    """Per theme of `item` its quotes: the approved and replacement sentences first, in their places, then
    the run's choice for the places left, the shortest complete sentences first, one network at a time,
    each sentence under one theme at most and the same words only once (two networks may write "Tijd."). Themes
    with the fewest sentences choose first, so a sentence that is the only one of a theme is quoted there.
    Withheld sentences and networks are never quoted."""
    themes = [t.code for t in codebook.themes_for(item)]
    pool = [c for c in candidates(codes=codes, networks=networks, item=item, codebook=codebook)
            if c.key not in decisions.withheld and c.response_key not in decisions.unpublished]
    out: dict[str, list[Quote]] = {t: [] for t in themes}
    used: set[tuple[str, str, str]] = set()
    words_used: set[str] = set()
    fixed = sorted(((theme, place, key) for key, (theme, place) in decisions.approved.items() if key[1] == item),
                   key=lambda d: (d[0], d[1]))
    answer_of = {r: (n, t or "") for n, r, t in zip(networks["network_id"], networks["response_key"],
                                                    networks[item].fillna(""))} if fixed else {}
    for theme, _, key in fixed:
        if theme not in out or key[0] in decisions.unpublished or len(out[theme]) >= QUOTES:
            continue
        network_id, text = answer_of[key[0]]
        out[theme].append(Quote(Candidate(theme, item, network_id, key[0], answer_sha(text), key[2]),
                                len(out[theme]) + 1, "researcher"))
        used.add(key)
        words_used.add(_same_words(key[2]))
    per_theme = {t: [c for c in pool if c.theme == t] for t in themes}
    for theme in sorted(themes, key=lambda t: (len(per_theme[t]), themes.index(t))):
        quoted_networks = {q.candidate.network_id for q in out[theme]}
        left = sorted({c.key: c for c in per_theme[theme] if c.key not in used}.values(),
                      key=lambda c: (len(c.sentence), c.sentence, c.network_id))
        while len(out[theme]) < QUOTES and left:
            pick = next((c for c in left if c.network_id not in quoted_networks), left[0])
            left.remove(pick)
            if pick.key in used or _same_words(pick.sentence) in words_used:
                continue
            out[theme].append(Quote(pick, len(out[theme]) + 1, "run"))
            used.add(pick.key)
            words_used.add(_same_words(pick.sentence))
            quoted_networks.add(pick.network_id)
    return out


def quotes_file(*, chosen: dict[str, dict[str, list[Quote]]], networks: pd.DataFrame, codebook: Codebook,
                existing: pd.DataFrame | None = None) -> pd.DataFrame:
    """The quotes file for the researcher: every row of the existing file that holds a decision, a
    replacement, a reviewer or a note, kept as it is, then a row per quote the run shows that no row decides on yet (decision empty), then a row per
    network that has none (decision empty: published). `chosen` is item -> theme -> quotes."""
    existing = existing if existing is not None else empty_quotes_file()
    typed = existing[["decision", "replacement", "reviewer", "note"]].ne("").any(axis=1) if len(existing) else []
    kept = existing[typed][list(QUOTE_COLUMNS)] if len(existing) else existing[list(QUOTE_COLUMNS)]
    decided = {(r, i, _plain(q)) for k, r, i, q in zip(kept["kind"], kept["response_key"], kept["item"], kept["quote"])
               if k == "quote"} | \
              {(r, i, _plain(q)) for k, r, i, q in zip(kept["kind"], kept["response_key"], kept["item"], kept["replacement"])
               if k == "quote"}
    networks_decided = set(kept.loc[kept["kind"] == "network", "response_key"])
    place = networks.set_index("network_id")
    rows = []
    for item in codebook.items:
        for theme in codebook.themes_for(item):
            for q in chosen.get(item, {}).get(theme.code, []):
                c = q.candidate
                if c.key in decided:
                    continue
                rows.append({"kind": "quote", "item": item, "theme": theme.code, "place": str(q.place), "decision": "",
                             "quote": c.sentence, "replacement": "", "network_id": c.network_id,
                             "werkplaats": place.at[c.network_id, "werkplaats"], "name": place.at[c.network_id, "name"],
                             "response_key": c.response_key, "answer_sha": c.answer_sha, "reviewer": "", "note": ""})
    for n in networks.itertuples(index=False):
        if n.response_key in networks_decided:
            continue
        rows.append({"kind": "network", "item": "", "theme": "", "place": "", "decision": "", "quote": "",
                     "replacement": "", "network_id": n.network_id, "werkplaats": n.werkplaats, "name": n.name,
                     "response_key": n.response_key, "answer_sha": "", "reviewer": "", "note": ""})
    return pd.concat([kept, pd.DataFrame(rows, columns=list(QUOTE_COLUMNS))], ignore_index=True).astype(str)


@dataclass
class Review:
    """What the report says about its quotes: how many it shows, how many a researcher chose or approved,
    how many sentences a researcher withheld, which networks' answers are not published (ids), and what
    could not be applied."""

    shown: int
    reviewed: int
    unpublished: list[str]
    warnings: list[str]
    stale: int
    withheld: int = 0

    def summary(self) -> dict:
        return {"quotes_shown": self.shown, "quotes_reviewed": self.reviewed, "quotes_withheld": self.withheld,
                "unpublished": self.unpublished, "stale": self.stale, "warnings": self.warnings}


def select(*, codes: pd.DataFrame, networks: pd.DataFrame, codebook: Codebook,
           decisions: Decisions) -> tuple[dict[str, dict[str, list[Quote]]], Review]:
    """Every theme item's quotes (item -> theme -> quotes) and the review summary. The working methods
    (codebook.method_items) get none: the report lists them per network, without quotes, and a quote no one
    sees must not be counted in the Methode or wait for a researcher's decision."""
    chosen = {item: choose(codes=codes, networks=networks, codebook=codebook, item=item, decisions=decisions)
              for item in codebook.items if item not in codebook.method_items}
    shown = [q for themes in chosen.values() for quotes in themes.values() for q in quotes]
    unpublished = sorted(networks.loc[networks["response_key"].isin(decisions.unpublished), "network_id"])
    return chosen, Review(shown=len(shown), reviewed=sum(q.chosen_by == "researcher" for q in shown),
                          unpublished=unpublished, warnings=list(decisions.warnings), stale=decisions.stale,
                          withheld=len(decisions.withheld))

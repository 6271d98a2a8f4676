"""Third parties in free text: names of persons, e-mail addresses and phone numbers that respondents type
into their answers, replaced by [naam], [e-mail] and [telefoon] before anything is written.

Names are found by rules on Dutch text, with the Dutch first-name, surname, place and common-word lists
that the `deduce` package ships (its lookup data, read here as plain word lists; deduce's own engine
takes about 13 s to start and 1 ms an answer, and tags "van Amsterdam" in "Hogeschool van Amsterdam" as
a person). A name is
- a title and what follows it: "mevrouw Bakker", "dhr. J. de Vries", "wethouder Jansen" (a function word
  such as wethouder only before a known first name or surname);
- initials and a surname: "J. de Vries", "A.B. Jansen";
- a known first name with a surname after it, "Marieke de Boer", or a known first name on its own
  ("samen met Kees") unless it is also a Dutch word ("Wil je ...", "Roos").
A candidate stays when it is a place, part of the network's own name or werkplaats, followed by a word
that makes it an organisation or street ("Wilhelmina Ziekenhuis", "Jan van Galenstraat"), or listed in
config/not_names.txt (one name or word per line, for the words a researcher finds wrongly replaced).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.errors import ConfigError
from pipeline.language.names import PARTICLES
from pipeline.reading.privacy import replace_addresses

NAME, PHONE = "[naam]", "[telefoon]"
NOT_NAMES = "not_names.txt"
HONORIFICS = frozenset("mevrouw meneer mevr mevr. mw mw. dhr dhr. mr. dr. drs. prof. ir. ing. ds. heer".split())
FUNCTIONS = frozenset("""
    wethouder burgemeester lector lectoren collega collega's directeur bestuurder coördinator coordinator
    projectleider programmaleider docent onderzoeker voorzitter manager teamleider procesbegeleider
    trainer adviseur beleidsmedewerker wijkverpleegkundige huisarts
""".split())
# A capitalised word after a name that makes the whole an organisation, a building or a street.
ORGANISATION_WORDS = frozenset("""
    ziekenhuis ziekenhuizen stichting school scholen college academie instituut centrum huis hof fonds
    fundatie prijs zaal gebouw plein straat laan weg park kliniek groep zorg zorggroep wijk buurt
""".split())
ORGANISATION_ENDINGS = ("straat", "laan", "weg", "plein", "school", "huis", "hof", "kade", "singel", "gracht",
                        "park", "zorg", "stichting", "fonds", "kliniek", "centrum", "college", "instituut")
# First names that are also Dutch words a sentence may start with or hold.
WORD_NAMES = frozenset("""
    ben wil will mark roos hoop storm dag bas kim tom rob ad jet lente zomer winter sterre noor fleur hanna
    daan ivo mees merel vera liefde guus job bo do rik jip sem sam lief lotte
""".split())

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_EDGE = "\"'“”‘’()[]{}<>«»,;:!?…"
_CAPITALISED = re.compile(rf"[{_UPPER}][{_LOWER}'’]+(?:-[{_UPPER}]?[{_LOWER}'’]+)*")
_INITIALS = re.compile(rf"(?:[{_UPPER}]\.){{1,4}}")
_ABBREVIATIONS = frozenset({"N.B.", "P.S.", "O.A.", "E.D.", "B.V.", "N.V.", "V.O.F.", "Z.O.Z.", "A.U.B."})
# A Dutch number: 0 and nine digits (06-12345678, 020 123 45 67, (010) 1234567) or with +31 / 0031
# (+31 6 12345678, +31 (0)20 1234567); other countries' numbers with + and 8 to 13 digits.
PHONE_PATTERN = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)31[ .-]?(?:\(0\)[ .-]?)?[1-9](?:[ .-]{0,2}\d){8}"
    r"|\(0\d{1,3}\)[ .-]?\d(?:[ .-]{0,2}\d){4,7}"
    r"|0[1-9](?:[ .-]{0,3}\d){8}"
    r"|\+(?!31)[1-9]\d{0,2}[ .-]?\(?\d{1,4}\)?(?:[ .-]{0,2}\d){5,10}"
    r")(?![\w])")


@dataclass(frozen=True)
class Lexicon:
    first_names: frozenset[str]       # as written ("Marieke")
    surnames: frozenset[str]          # lower case, particles included ("de vries")
    places: frozenset[str]            # lower case
    words: frozenset[str]             # common Dutch words, lower case


def _lines(package_path: str) -> list[str]:
    # Found without importing deduce, whose import starts its engine (seconds).
    spec = importlib.util.find_spec("deduce")
    try:
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("deduce")
        text = (Path(list(spec.submodule_search_locations)[0]) / package_path).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ConfigError(f"the name lists of the deduce package are missing ({exc.__class__.__name__}: "
                          f"{package_path}); run `make install` to install the project's dependencies.")
    return [line.strip() for line in text.splitlines() if line.strip()]


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The word lists, read once per process from the deduce package's lookup data."""
    base = "data/lookup/src"
    first = set(_lines(f"{base}/names/lst_first_name/items.txt")) - set(_lines(f"{base}/names/lst_first_name/exceptions.txt"))
    surnames = {s.lower() for s in _lines(f"{base}/names/lst_surname/items.txt")}
    places = {p.lower() for part in ("lst_residence", "lst_municipality", "lst_province", "lst_region")
              for p in _lines(f"{base}/locations/lst_placename/{part}/items.txt")}
    words = {w.lower() for part in ("lst_common_word", "lst_stop_word")
             for w in _lines(f"{base}/whitelist/{part}/items.txt")}
    return Lexicon(first_names=frozenset(n for n in first if len(n) >= 2), surnames=frozenset(surnames),
                   places=frozenset(places), words=frozenset(words) | WORD_NAMES)


def load_not_names(config_folder: Path) -> frozenset[str]:
    """config/not_names.txt: words and names never to be replaced (one a line, # starts a comment),
    compared without regard to case. No file means none."""
    path = Path(config_folder) / NOT_NAMES
    if not path.exists():
        return frozenset()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8 (one name or word per line).")
    return frozenset(" ".join(line.split("#", 1)[0].split()).casefold() for line in text.splitlines()
                     if line.split("#", 1)[0].strip())


class _Word(tuple):
    """A word of an answer: start and end (without the punctuation around it), its text, the punctuation
    after and before it. A tuple, since an answer has many and they are made often."""

    __slots__ = ()
    start = property(lambda self: self[0])
    end = property(lambda self: self[1])
    text = property(lambda self: self[2])
    after = property(lambda self: self[3])
    before = property(lambda self: self[4])


_WORD = re.compile(r"([\"'“”‘’()\[\]{}<>«»,;:!?…]*)(\S*?)([\"'“”‘’()\[\]{}<>«»,;:!?…]*)(?:\s+|$)")


def _words(text: str) -> list[_Word]:
    out = []
    for match in _WORD.finditer(text):
        lead, core, tail = match.group(1, 2, 3)
        if core.endswith(".") and not _INITIALS.fullmatch(core) and core.lower() not in HONORIFICS:
            stripped = core.rstrip(".")      # a sentence's full stop, not part of the word
            tail, core = core[len(stripped):] + tail, stripped
        if not core:
            continue
        start = match.start(2)
        out.append(_Word((start, start + len(core), core, tail, lead)))
    return out


def _capitalised(word: _Word) -> bool:
    return bool(_CAPITALISED.fullmatch(word.text.rstrip(".")))


def _surname_from(words: list[_Word], j: int, *, capital_particles: bool) -> int | None:
    """The index of the last word of a surname that starts at j (particles and then a capitalised word),
    or None."""
    k = j
    while k < len(words) and (words[k].text in PARTICLES or capital_particles and words[k].text.lower() in PARTICLES) \
            and not words[k].after.strip(".'’"):
        k += 1
    if k < len(words) and _capitalised(words[k]) and not _organisation(words[k].text):
        return k
    return None


def _organisation(word: str) -> bool:
    lower = word.lower().rstrip(".")
    return lower in ORGANISATION_WORDS or lower.endswith(ORGANISATION_ENDINGS)


def _followed_by_organisation(words: list[_Word], k: int) -> bool:
    return k + 1 < len(words) and not words[k].after and _organisation(words[k + 1].text)


_PLAIN_WORD = re.compile(r"\S+")
WINDOW = 8      # words a rule reads after the word it starts from (title, initials, particles, names)


def name_spans(text: str, *, lexicon: Lexicon, keep: frozenset[str] = frozenset(),
               context: tuple[str, ...] = ()) -> list[tuple[int, int]]:
    """The (start, end) of every name of a person in `text` (see the module's rules). `keep` are the
    researcher's exceptions (case-folded), `context` texts whose words are not names here (the network's
    own name and werkplaats). Only the stretches around a word some rule needs (see _triggers) are read
    word by word: a long answer that names no one costs one split."""
    triggers = _trigger_set()
    plain = [(m.start(), m.end(), m.group(0)) for m in _PLAIN_WORD.finditer(text)]
    hits = [k for k, (_, _, w) in enumerate(plain)
            if w.strip(_EDGE + ".") in triggers or _INITIALS.fullmatch(w.strip(_EDGE))]
    spans, windows = [], []
    for k in hits:
        first, last = max(k - 1, 0), min(k + WINDOW, len(plain) - 1)
        if windows and first <= windows[-1][1] + 1:
            windows[-1][1] = max(windows[-1][1], last)
        else:
            windows.append([first, last])
    for first, last in windows:
        offset = plain[first][0]
        spans += [(offset + a, offset + b) for a, b in
                  _spans_in(_words(text[offset:plain[last][1]]), lexicon=lexicon, keep=keep, context=context,
                            text=text[offset:plain[last][1]])]
    return spans


def _spans_in(words: list[_Word], *, lexicon: Lexicon, keep: frozenset[str], context: tuple[str, ...],
              text: str) -> list[tuple[int, int]]:
    spans = []
    protected = " ".join(context).casefold()
    i = 0
    while i < len(words):
        w = words[i]
        lower = w.text.lower()
        found = None
        if lower in HONORIFICS or (lower == "de" and i + 1 < len(words) and words[i + 1].text == "heer"):
            first = j = i + 2 if lower == "de" else i + 1
            if j < len(words) and _INITIALS.fullmatch(words[j].text):
                j += 1
            last = _surname_from(words, j, capital_particles=True)
            if last is not None:
                if last + 1 < len(words) and words[last].text in lexicon.first_names and not words[last].after:
                    last = _surname_from(words, last + 1, capital_particles=True) or last
                found = (first, last)
        elif lower in FUNCTIONS and i + 1 < len(words) and not w.after:
            last = _surname_from(words, i + 1, capital_particles=True)
            surname = " ".join(x.text for x in words[i + 1:last + 1]).lower() if last is not None else ""
            if last is not None and (words[i + 1].text in lexicon.first_names or surname in lexicon.surnames
                                     or words[last].text.lower() in lexicon.surnames):
                if words[last].text in lexicon.first_names and not words[last].after:
                    last = _surname_from(words, last + 1, capital_particles=False) or last
                found = (i + 1, last)
        elif _INITIALS.fullmatch(w.text) and w.text.upper() not in _ABBREVIATIONS and not w.after:
            last = _surname_from(words, i + 1, capital_particles=True)
            if last is not None and words[last].text.lower() not in lexicon.words:
                found = (i, last)
        elif w.text in lexicon.first_names and _capitalised(w) and lower not in PARTICLES:
            last = _surname_from(words, i + 1, capital_particles=False) if not w.after else None
            k = i + 1
            while k < len(words) and words[k].text in PARTICLES:
                k += 1
            if last is not None:
                surname = " ".join(x.text for x in words[i + 1:last + 1]).lower()
                # a first name that is also a word ("Mark", "De") only before a known surname
                if lower not in lexicon.words or surname in lexicon.surnames or \
                        words[last].text.lower() in lexicon.surnames:
                    found = (i, last)
            elif lower not in lexicon.words and not (k < len(words) and _capitalised(words[k]) and not w.after):
                found = (i, i)
        if found is not None:
            first, last = found
            phrase = text[words[first].start:words[last].end]
            folded = " ".join(phrase.split()).casefold()
            if not (folded in keep or any(x.text.casefold() in keep for x in words[first:last + 1])
                    or folded in lexicon.places or (protected and folded in protected)
                    or _followed_by_organisation(words, last)):
                spans.append((words[first].start, words[last].end))
            i = last + 1       # a phrase kept as a whole is not looked at again word by word
            continue
        i += 1
    return spans


_INITIALS_BEFORE_A_WORD = rf"(?:^|\s)(?:[{_UPPER}]\.){{1,4}}\s+\S"
# Eight digits close together: no phone number without them (a quick test before PHONE_PATTERN).
_PHONE_DIGITS = r"\d(?:[ .()+-]{0,3}\d){7}"


def replace_phones(text: str) -> str:
    return PHONE_PATTERN.sub(PHONE, text)


def replace_names(text: str, *, lexicon: Lexicon, keep: frozenset[str] = frozenset(),
                  context: tuple[str, ...] = ()) -> str:
    spans = name_spans(text, lexicon=lexicon, keep=keep, context=context)
    if not spans:
        return text
    pieces, position = [], 0
    for start, end in spans:
        pieces += [text[position:start], NAME]
        position = end
    return "".join(pieces) + text[position:]


@lru_cache(maxsize=1)
def _triggers():
    """The words without which no rule can find a name: titles and function words, single capitals (an
    initial without its stop), first names that are no Dutch word, and surnames that are none."""
    import pyarrow as pa
    words = lexicon()
    titles = {t.rstrip(".") for t in HONORIFICS | FUNCTIONS}
    found = titles | {t.capitalize() for t in titles} | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    found |= {n for n in words.first_names if n.lower() not in words.words and n.lower() not in PARTICLES}
    found |= {s.capitalize() for s in words.surnames if " " not in s and s not in words.words
              and s not in words.places}
    return pa.array(sorted(found), type=pa.large_string())


@lru_cache(maxsize=1)
def _trigger_set() -> frozenset[str]:
    return frozenset(_triggers().to_pylist())


CHUNK_ROWS = 10_000   # the words of a column are split in pieces of this many cells, so memory stays bounded


def _may_hold(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell, with Arrow's kernels over the column, a piece at a time: may it hold a name, a phone
    number, an @?"""
    parts = [_may_hold_piece(values.iloc[at:at + CHUNK_ROWS]) for at in range(0, len(values), CHUNK_ROWS)]
    if not parts:
        return (np.zeros(0, dtype=bool),) * 3
    return tuple(np.concatenate([part[k] for part in parts]) for k in range(3))


def _may_hold_piece(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import pyarrow as pa
    import pyarrow.compute as pc
    text = pa.array(values.astype(str), type=pa.large_string())
    tokens = pc.utf8_split_whitespace(text)
    words = pc.utf8_trim(pc.list_flatten(tokens), characters=_EDGE + ".")
    hits = pc.is_in(words, value_set=_triggers()).to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(tokens).to_numpy(zero_copy_only=False)
    names = pc.match_substring_regex(text, pattern=_INITIALS_BEFORE_A_WORD).to_numpy(zero_copy_only=False).astype(bool)
    names[parents[hits]] = True
    digits = pc.match_substring_regex(text, pattern=_PHONE_DIGITS).to_numpy(zero_copy_only=False)
    at = pc.match_substring_regex(text, pattern="[@\uff20\ufe6b]").to_numpy(zero_copy_only=False)
    return names, digits.astype(bool), at.astype(bool)


def scrub_third_parties(frame: pd.DataFrame, *, columns: list[str], context_columns: list[str],
                        keep: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The frame with names, phone numbers (and e-mail addresses) of third persons replaced in `columns`.
    `context_columns` (werkplaats, network name) are left as they are, and their words are not names in
    the answers of the same row. Only the cells that hold a word some rule starts from, a digit or an @
    are looked at closely."""
    words = lexicon()
    out = frame.copy(deep=False)
    blank = pd.Series("", index=out.index)
    contexts = list(zip(*(out[c].astype(str) if c in out else blank for c in context_columns))) \
        if context_columns else [()] * len(out)
    for column in (c for c in columns if c in out and c not in context_columns):
        values = out[column].astype(str)
        names, digits, at = _may_hold(values)
        rows = np.flatnonzero(names | digits | at)
        if not len(rows):
            continue
        cells = values.iloc[rows].tolist()
        for k, i in enumerate(rows):
            cell = cells[k]
            if at[i]:
                cell = replace_addresses(cell)
            if digits[i]:
                cell = replace_phones(cell)
            if names[i]:
                cell = replace_names(cell, lexicon=words, keep=keep, context=contexts[i])
            cells[k] = cell
        values = values.copy()
        values.iloc[rows] = cells
        out[column] = values
    return out

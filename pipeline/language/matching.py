"""Dutch-aware term matching: Snowball stems, multi-word terms and terms inside compound words.

Also, each explainable in the audit trail: accents are folded ("casuistiek" finds "casuïstiek"), a Latin
plural in -a finds its term in -um ("symposia" finds "symposium"), " ... " in a term allows a few words
between its pieces ("resultaten ... opgeleverd"), a match in the scope of a negation does not count
(`negated`), and a long word one letter off a term word is read as that word (`Speller`).

A term matches a word when their stems are equal, when the term is the head of a compound
("begeleidingsvaardigheden" ends in "vaardigheden", which stems like "vaardigheden" itself), or when the
term starts a compound ("vrijwilligersorganisatie"). A term written with a leading "=" matches whole
words only ("=tijd" matches "tijd" but not "tijdelijk" or "werktijd").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
MIN_COMPOUND_PART = 4   # shorter stems ("hbo", "swt") only match whole words


@lru_cache(maxsize=1)
def _stemmer():
    return snowballstemmer.stemmer("dutch_porter")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=200_000)
def _compound_heads(word: str) -> frozenset[str]:
    """Stems of every tail of `word` of at least MIN_COMPOUND_PART letters: the possible compound heads."""
    return frozenset(_stem(word[i:]) for i in range(1, len(word) - MIN_COMPOUND_PART + 1))


@dataclass(frozen=True)
class Token:
    word: str
    stem: str


@lru_cache(maxsize=200_000)
def _fold(word: str) -> str:
    """The word without accents ("cliënt" -> "client", "continuïteit" -> "continuiteit")."""
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased and without accents; hyphens, slashes and '&' separate words."""
    folded = (text or "").casefold()
    found = _WORD.findall(folded)
    return found if folded.isascii() else [_fold(w) for w in found]


def tokens(text: str) -> list[Token]:
    """The words of `text` with their stems."""
    return [_token(w) for w in words(text)]


@dataclass(frozen=True)
class Part:
    """One word of a term: its stem, its written form, and patterns for the written form with an inflection
    (whole word, and at the end of a compound)."""

    stem: str
    word: str
    inflected: re.Pattern
    inflected_tail: re.Pattern

    @property
    def keys(self) -> tuple[str, ...]:
        """The part can match a word only if one of these is among the word's word_keys (a Latin noun in
        -um also by its form without -um, which its plural in -a starts with)."""
        return (self.stem, self.word, self.word[:-2]) if _latin(self.word) else (self.stem, self.word)


@dataclass(frozen=True)
class Term:
    text: str
    stems: tuple[str, ...]
    whole_word: bool = False
    parts: tuple[Part, ...] = ()
    segments: tuple[int, ...] = ()   # lengths of the pieces of a term with gaps ("a ... b"), else ()

    @property
    def weight(self) -> int:
        return sum(len(s) for s in self.stems)


GAP = "..."          # in a term: up to MAX_GAP words may stand between the pieces on either side
MAX_GAP = 6


def _latin(word: str) -> bool:
    return len(word) > 5 and word.endswith("um")


def _written(word: str) -> str:
    """The pattern of a term word with its inflections; a Latin noun in -um also in its plural in -a
    ("symposium", "symposia")."""
    if _latin(word):
        return re.escape(word[:-2]) + "(?:um|a)" + _INFLECTION
    return re.escape(word) + _INFLECTION


def term(text: str) -> Term:
    """A term from its written form; a leading "=" asks for whole words only, and " ... " between two
    pieces lets up to MAX_GAP words stand between them (in that order, in one sentence)."""
    pieces = [p for p in text.lstrip("=").split(GAP)]
    parts, segments = [], []
    for piece in pieces:
        found = tokens(piece)
        if not found:
            continue
        segments.append(len(found))
        parts.extend(Part(t.stem, t.word, re.compile(_written(t.word)), re.compile(_written(t.word) + "$"))
                     for t in found)
    return Term(text=text, stems=tuple(p.stem for p in parts), whole_word=text.startswith("="), parts=tuple(parts),
                segments=tuple(segments) if len(segments) > 1 else ())


# The stemmer does not always give singular and plural one stem ("stageplaats" -> "stageplat",
# "stageplaatsen" -> "stageplaats"), so a word that is the term plus an inflection also matches.
_INFLECTION = r"(?:en|s|'s|e|n|er|ers|ere)?"


def _same_word(token: Token, part: Part) -> bool:
    return token.stem == part.stem or part.inflected.fullmatch(token.word) is not None


def _is_head(token: Token, part: Part) -> bool:
    if _same_word(token, part):
        return True
    return len(part.stem) >= MIN_COMPOUND_PART and (
        part.stem in _compound_heads(token.word) or part.inflected_tail.search(token.word) is not None)


def _is_modifier(token: Token, part: Part) -> bool:
    return _same_word(token, part) or (
        len(part.stem) >= MIN_COMPOUND_PART and (token.word.startswith(part.stem) or token.word.startswith(part.word)))


def _segment_at(parts: tuple[Part, ...], window: list[Token], whole_word: bool) -> bool:
    """Whether the words of `window` are the term words `parts`: whole words, or else the first may be the
    tail of a compound and the last its head."""
    n = len(parts)
    if whole_word:
        return all(_same_word(t, p) for t, p in zip(window, parts))
    if n == 1:
        return _is_head(window[0], parts[0]) or _is_modifier(window[0], parts[0])
    return (_is_head(window[0], parts[0]) and _is_modifier(window[-1], parts[-1])
            and all(_same_word(t, p) for t, p in zip(window[1:-1], parts[1:-1])))


def _occurrences(term_: Term, text_tokens: list[Token], starts: list[int] | None = None):
    """(start, end) of every occurrence of the term, end exclusive; `starts` (when known) are the only
    positions where it can start."""
    parts = term_.parts
    if not term_.segments:
        n = len(parts)
        last = len(text_tokens) - n
        for start in (range(last + 1) if starts is None else starts):
            if start <= last and _segment_at(parts, text_tokens[start:start + n], term_.whole_word):
                yield start, start + n
        return
    first = term_.segments[0]
    last = len(text_tokens) - first
    for start in (range(last + 1) if starts is None else starts):
        if start > last:
            continue
        if not _segment_at(parts[:first], text_tokens[start:start + first], term_.whole_word):
            continue
        end, offset, ok = start + first, first, True
        for size in term_.segments[1:]:
            piece = parts[offset:offset + size]
            for at in range(end, min(end + MAX_GAP, len(text_tokens) - size) + 1):
                if _segment_at(piece, text_tokens[at:at + size], term_.whole_word):
                    end = at + size
                    break
            else:
                ok = False
                break
            offset += size
        if ok:
            yield start, end


def find_at(term_: Term, text_tokens: list[Token], negated=None, starts: list[int] | None = None) -> int | None:
    """Index of the first token where the term occurs in the text, or None. Words must follow each other
    (or, across " ... ", stand close after each other); the first may be the tail of a compound and the last
    its head, unless the term is whole-word only. `negated(start, end)` rules an occurrence out."""
    if not term_.parts:
        return None
    for start, end in _occurrences(term_, text_tokens, starts):
        if negated is None or not negated(start, end):
            return start
    return None


# --- the scope of a negation ------------------------------------------------------------------------
# A term found after a negation in the same clause, with fewer than NEGATION_SCOPE words between them that
# are not FILLER, is not a mention of it ("bewust geen intervisie", "zonder een onafhankelijke
# procesbegeleider", "niet zozeer een gebrek aan tijd"; but "gaat niet snel en heeft tijd nodig" is), nor is a term followed
# closely by "geen/niet (een) probleem" ("tijd bleek voor ons geen belemmering"). A clause ends at , ; : ( ) - and at
# a word of contrast ("maar", "wel"). Terms that hold the negation themselves ("geen tijd", "te weinig
# tijd") are written in the codebook so, and match from their first word.
NEGATIONS = frozenset({"geen", "niet", "zonder", "nooit", "nergens", "weinig", "nauwelijks", "amper"})
NEGATION_SCOPE = 3
FILLER = frozenset({"een", "de", "het", "zozeer", "echt", "per", "se", "altijd", "meer", "aan", "van", "zo", "heel",
                    "erg", "veel", "extra", "vaste", "eigen", "goede", "goed", "voldoende", "genoeg"})
NOT_NEGATING_AFTER = frozenset({"alleen", "enkel", "uitsluitend", "slechts", "zonder", "minder", "zomaar"})
NOT_NEGATING_BEFORE = {"zonder": frozenset({"niet", "geen", "nooit"}), "weinig": frozenset({"te", "zo"}),
                       "nauwelijks": frozenset(), "geen": frozenset(), "niet": frozenset()}
CONTRAST = frozenset({"maar", "wel", "echter", "toch", "behalve", "integendeel"})
NO_PROBLEM = frozenset({"probleem", "belemmering", "issue", "knelpunt", "obstakel", "struikelblok", "rol",
                        "punt", "drempel", "factor", "zorg", "doel", "sprake"})
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]–—]|\s-\s")


# One pass over a text finds its words and the clause breaks between them (breaks hold no word character).
_WORD_OR_BREAK = re.compile(f"({_WORD.pattern})|{_CLAUSE_BREAK.pattern}", re.UNICODE)


def clauses(text: str) -> list[int]:
    """For each word of `text` (as `words` gives them), the number of its clause."""
    out, clause, broken = [], 0, False
    for m in _WORD_OR_BREAK.finditer((text or "").casefold()):
        word = m.group(1)
        if word is None:
            broken = True
            continue
        if broken:
            clause += 1
            broken = False
        if _fold(word) in CONTRAST:
            clause += 1
        out.append(clause)
    return out


def _is_negation(i: int, ws: list[str]) -> bool:
    w = ws[i]
    if w not in NEGATIONS:
        return False
    if i + 1 < len(ws) and ws[i + 1] in NOT_NEGATING_AFTER:
        return False
    return not (i > 0 and ws[i - 1] in NOT_NEGATING_BEFORE.get(w, frozenset()))


# A clause can also deny a theme as a whole, by what it says of it, whatever the distance: that it is "geen
# probleem" (or nooit een drempel ...) and what follows "gelukkig geen", for every theme; and, by the sense of the
# theme's category (config/codebook.yaml), that a difficulty went easily or is solved ("ging vanzelf", "is geborgd"),
# that a positive theme went badly ("verloopt stroef", "ontbrak") or that a practice or a precondition was not
# there or not done ("doen we niet", "hadden we niet"). A cue with a negation just before or inside it is no cue
# ("niet geborgd" is the difficulty).
SENSES = ("difficulty", "positive", "practice")
GLAD = frozenset({"gelukkig", "gelukkigerwijs"})
NOT_THE_DIFFICULTY = ("vanzelf", "=makkelijk", "=gemakkelijk", "=eenvoudig", "=soepel", "moeiteloos", "=viel mee",
                      "=vielen mee", "=valt ... mee", "=vallen ... mee", "=viel ... mee", "=vielen ... mee", "dezelfde taal", "is ... geborgd", "zijn ... geborgd",
                      "is ... gewaarborgd", "is ... verzekerd", "is ... rond", "is ... opgenomen", "zijn ... opgenomen",
                      "is ... ingebed", "is ... verankerd", "is ... geregeld", "goed geregeld", "opgelost",
                      "=gaat goed", "=ging goed", "=loopt goed", "=liep goed", "=lukt goed", "=lukte goed",
                      "geen moeite", "geen zorgen", "geen last", "=hoeven we niet", "=hoeft niet", "=is er al",
                      "=zijn er al", "=vanzelfsprekend")
NOT_POSITIVE = ("=stroef", "=stroeve", "moeizaam", "=lastig", "=moeilijk", "ontbreekt", "ontbrak", "ontbreken",
                "ontbraken", "=viel tegen", "=valt tegen", "mislukt", "mislukte", "hapert", "haperde",
                "=stokt", "=stokte", "overwogen", "er niet van", "niet aan toe", "niet ... van de grond",
                "te wensen over", "=zit er ... niet in", "=zat er ... niet in",
                "weinig terecht", "niets terecht", "=niks terecht")
# A verb of having or doing followed by niet or nooit (with "we", "er" ... between) says the practice or the
# precondition was not there: "Een symposium doen we niet", "Een procesbegeleider hadden we niet".
NOT_THERE_VERBS = frozenset("""
    doen doet deden gedaan hebben heeft hadden had gehad gebruiken gebruikt gebruikten organiseren organiseert
    organiseerden houden hielden toepassen passen pasten kennen kenden werken werkt werkten lukt lukte lukten
    gelukt was waren
""".split())
# A challenge not felt: "Druk om snel te scoren ervaren we niet".
NOT_FELT_VERBS = frozenset("ervaren ervoeren merken merkten voelen voelden".split())
NOT_THERE_BETWEEN = frozenset({"we", "wij", "ze", "zij", "er", "het", "dat", "dit", "nog", "ook", "toen", "daar", "hier",
                               "eigenlijk", "helemaal", "echt", "bijna", "helaas"})
NOT_THERE_AFTER = frozenset({"alleen", "enkel", "zonder", "vanzelfsprekend", "weg", "minder", "zomaar", "te"})
_CUES = {"difficulty": NOT_THE_DIFFICULTY, "positive": NOT_POSITIVE, "practice": NOT_POSITIVE}


@lru_cache(maxsize=None)
def _cue_terms(sense: str) -> tuple[Term, ...]:
    return tuple(term(t) for t in _CUES.get(sense, ()))


@lru_cache(maxsize=None)
def _cue_starts(sense: str | None) -> tuple[str, ...]:
    """What a sentence's words must hold (as a word or inside one) for a clause to deny a theme of `sense`
    other than by a negation word: the stems of the cues' first words, and the verbs."""
    first = {p.stem for t in _cue_terms(sense) for p in t.parts[:1]} if sense else set()
    verbs = NOT_FELT_VERBS if sense == "difficulty" else NOT_THERE_VERBS if sense in ("positive", "practice") else set()
    return tuple(sorted(first | {_stem(v) for v in verbs}))


def _may_deny(ws: list[str], sense: str | None) -> bool:
    if not NEGATIONS.isdisjoint(ws):
        return True
    joined = " ".join(ws)
    return any(start in joined for start in _cue_starts(sense))


def _no_problem_at(i: int, ws: list[str]) -> bool:
    after = ws[i + 1:i + 3]
    return bool(after) and (after[0] in NO_PROBLEM or (len(after) > 1 and after[0] in ("een", "het", "enkel", "groot")
                                                       and after[1] in NO_PROBLEM))


def _not_there_at(i: int, ws: list[str], clause_of: list[int], verbs: frozenset[str]) -> bool:
    """Whether ws[i] is one of `verbs` that niet or nooit follows in its clause."""
    if ws[i] not in verbs:
        return False
    for j in range(i + 1, min(i + 5, len(ws))):
        if clause_of[j] != clause_of[i]:
            return False
        if ws[j] in ("niet", "nooit"):
            return j + 1 >= len(ws) or ws[j + 1] not in NOT_THERE_AFTER
        if ws[j] not in NOT_THERE_BETWEEN:
            return False
    return False


def denied_words(text_tokens: list[Token], clause_of: list[int], sense: str | None) -> frozenset[int]:
    """The positions of the words whose terms a clause denies for a theme of `sense` (see above): every word
    of the clause, but for "... hadden we niet" only the words before the verb, back to an "en" ("We doen
    intervisie en hebben nooit een symposium gehad" still does intervision)."""
    ws = [t.word for t in text_tokens]
    clauses_denied, words_denied = set(), set()
    for i, w in enumerate(ws):
        if w in ("geen", "niet", "nooit", "nauwelijks") and _no_problem_at(i, ws):
            clauses_denied.add(clause_of[i])
        elif w in ("geen", "niet") and i > 0 and ws[i - 1] in GLAD:
            clauses_denied.add(clause_of[i])
        elif _not_there_at(i, ws, clause_of, NOT_FELT_VERBS if sense == "difficulty" else NOT_THERE_VERBS
                           if sense in ("positive", "practice") else frozenset()):
            j = i
            while j > 0 and clause_of[j - 1] == clause_of[i] and ws[j - 1] != "en":
                j -= 1
            words_denied.update(range(j, i))
    # Most cues cannot occur in a given sentence: the cheap test of their words first (_could_occur).
    text = Haystack(text_tokens)
    for cue in _cue_terms(sense) if sense else ():
        if not _could_occur(cue, text):
            continue
        for start, end in _occurrences(cue, text_tokens):
            own_negation = not NEGATIONS.isdisjoint(p.word for p in cue.parts)
            if own_negation or NEGATIONS.isdisjoint(ws[max(start - 2, 0):end]):
                clauses_denied.add(clause_of[start])
    return frozenset(words_denied | {i for i, c in enumerate(clause_of[:len(ws)]) if c in clauses_denied})


def negation_scope(text_tokens: list[Token], clause_of: list[int], sense: str | None = None):
    """negated(start, end): whether the words start..end-1 are in the scope of a negation, or in a clause that
    denies a theme of `sense`."""
    ws = [t.word for t in text_tokens]
    negators = [i for i in range(len(ws)) if _is_negation(i, ws)]
    denied = denied_words(text_tokens, clause_of, sense)

    def negated(start: int, end: int) -> bool:
        if start in denied:
            return True
        for i in negators:
            if i < start and clause_of[i] == clause_of[start] and \
                    sum(w not in FILLER for w in ws[i + 1:start]) < NEGATION_SCOPE:
                return True
        return False
    return negated


# --- spelling slips ------------------------------------------------------------------------------------
SPELL_MIN = 8   # only words of this many letters or more are read as a term word one letter off


def _slip(word: str, known: str) -> bool:
    """Whether one edit between the words can be a slip of typing: a letter left out or added, or two
    neighbours swapped. A changed letter is not, because it often makes another real word
    ("veranderen", "verankeren")."""
    if len(word) != len(known):
        return abs(len(word) - len(known)) == 1
    return sorted(word) == sorted(known)


@dataclass
class Speller:
    """Reads a long word that is one slip (a letter added or left out, or two neighbours swapped) from a
    long term word, with the same first letter, as that term word ("procesbegleider" -> "procesbegeleider",
    "bereidhied" -> "bereidheid"). Inflections are left to the stemmer. What it read is said in the evidence."""

    vocabulary: frozenset[str]
    _seen: dict[str, str | None] = field(default_factory=dict)

    def correct(self, word: str) -> str | None:
        if len(word) < SPELL_MIN or word in self.vocabulary:
            return None
        if word in self._seen:
            return self._seen[word]
        from rapidfuzz.distance import OSA
        best = None
        for known in self.vocabulary:
            if known[0] == word[0] and _slip(word, known) and OSA.distance(word, known, score_cutoff=1) <= 1:
                if _stem(known) != _stem(word) and not word.startswith(known) and not known.startswith(word):
                    best = known
                    break
        self._seen[word] = best
        return best


# Substrings longer than this are not keys of a word (no Dutch term is this long).
MAX_PART = 40


def word_keys(word: str) -> frozenset[str]:
    """Every key by which a term part can match `word`: its stem, the stems of its compound heads, and its
    substrings (a part's written form, inflected or inside a compound, or its stem at the start). Not
    cached: a word has hundreds of keys, and callers keep what they learn from them (RuleIndex)."""
    substrings = {word[i:j] for i in range(len(word)) for j in range(i + 1, min(len(word), i + MAX_PART) + 1)}
    return frozenset(substrings | {_stem(word)} | _compound_heads(word))


# A word is a term word plus at most this many letters of inflection (a Latin -um/-a plural included).
MAX_ENDING = 6


def whole_word_keys(word: str) -> frozenset[str]:
    """The keys by which a part matched as a whole word only can match `word`: its stem, and the word less
    an inflection (every prefix that leaves off at most MAX_ENDING letters)."""
    return frozenset({_stem(word)} | {word[:i] for i in range(max(1, len(word) - MAX_ENDING), len(word) + 1)})


@dataclass(frozen=True)
class Haystack:
    """A text prepared for many term look-ups: its tokens and, worked out when first asked for, every stem
    and compound head (`keys`) and its words joined; with `negated`, occurrences in the scope of a negation
    do not count."""

    tokens: list[Token]
    negated: object = None
    starts: dict[int, list[int]] | None = None   # id of a term -> the only positions where it can start

    @cached_property
    def keys(self) -> frozenset[str]:
        return frozenset().union(*(_own_keys(t.word) for t in self.tokens))

    @cached_property
    def joined(self) -> str:
        return " ".join(t.word for t in self.tokens)


def _never(start: int, end: int) -> bool:
    return False


def _lazy_scope(found: list[Token], text: str, ws: list[str], sense: str | None = None):
    """negation_scope, worked out only once a term is found (most sentences match nothing), and not at all
    for a sentence without a negation word or a cue of `sense`."""
    if not _may_deny(ws, sense):
        return _never
    scope = []

    def negated(start: int, end: int) -> bool:
        if not scope:
            scope.append(negation_scope(found, clauses(text), sense))
        return scope[0](start, end)
    return negated


def haystack(text: str, *, negation: bool = False, read_as: dict[str, str] | None = None,
             words_of_text: list[str] | None = None, starts: dict[int, list[int]] | None = None,
             sense: str | None = None) -> Haystack:
    """`read_as` replaces words (spelling slips) before matching; `negation` applies the scope of negations
    and the clauses that deny a theme of `sense` (one of SENSES);
    `words_of_text` are words(text) when the caller has them already; `starts` says where each term can
    start (a term it does not name is then taken to be nowhere)."""
    ws = words(text) if words_of_text is None else words_of_text
    if read_as:
        ws = [read_as.get(w, w) for w in ws]
    found = [_token(w) for w in ws]
    return Haystack(found, _lazy_scope(found, text, ws, sense) if negation else None, starts)


@lru_cache(maxsize=200_000)
def _token(word: str) -> Token:
    return Token(word, _stem(word))


@lru_cache(maxsize=200_000)
def _own_keys(word: str) -> frozenset[str]:
    """The word's stem and the stems of its possible compound heads."""
    return _compound_heads(word) | {_stem(word)}


def _could_occur(term_: Term, text: Haystack) -> bool:
    # Every way a part can match leaves its stem among the keys, or its stem or written form inside a word.
    return all(p.stem in text.keys or p.stem in text.joined or p.word in text.joined
               or (_latin(p.word) and p.word[:-2] in text.joined) for p in term_.parts)


def find(term_: Term, text: list[Token] | Haystack) -> bool:
    if isinstance(text, Haystack):
        if text.starts is not None:
            starts = text.starts.get(id(term_))
            # Knowing where the term can start leaves so few places to look that a pre-check costs more.
            return starts is not None and find_at(term_, text.tokens, text.negated, starts) is not None
        return _could_occur(term_, text) and find_at(term_, text.tokens, text.negated) is not None
    return find_at(term_, text) is not None


def best_match(text: str, vocab: dict[str, list[Term]]) -> tuple[str | None, Term | None]:
    """The key whose longest matching term is longest (ties: the key listed first), and that term."""
    text_tokens = haystack(text)
    best: tuple[str | None, Term | None] = (None, None)
    for key, terms in vocab.items():
        for t in terms:
            if find(t, text_tokens) and (best[1] is None or t.weight > best[1].weight):
                best = (key, t)
    return best


def all_matches(text: str, vocab: dict[str, list[Term]]) -> list[str]:
    """Every key with at least one matching term, in vocabulary order."""
    text_tokens = haystack(text)
    return [key for key, terms in vocab.items() if any(find(t, text_tokens) for t in terms)]


# --- participant categories: matched by what they are ------------------------------------------------
# A Dutch compound is named by its last part (a "jongerenwerker" is a werker) and a phrase by its first noun
# ("onderzoekers universiteit" are researchers, "ouders van kinderen" parents); a modifier decides only where
# no head does. A generic head ("medewerker", "teamleider") says what someone does, not where: its
# modifier or complement names the group ("wijkteammedewerkers", "medewerkers van de gemeente").
PREPOSITIONS = frozenset({"van", "voor", "bij", "uit", "in", "met", "op", "namens", "vanuit", "binnen", "rond",
                          "rondom", "over", "via", "aan", "tussen", "zonder"})

HEAD, COMPLEMENT, MODIFIER, FUZZY, NONE = "head", "complement", "modifier", "fuzzy", "none"
CERTAIN = frozenset({HEAD, COMPLEMENT})


@dataclass(frozen=True)
class GroupMatch:
    """The group a category label belongs to, the term that decided it, and how: by the head of the label
    (HEAD), by what a generic head is of (COMPLEMENT), by a modifier only (MODIFIER), by a term one typing
    slip off (FUZZY), or not at all (NONE, group None)."""

    group: str | None
    term: Term | None
    how: str
    read_as: tuple[tuple[str, str], ...] = ()

    @property
    def certain(self) -> bool:
        return self.how in CERTAIN


def _noun_phrase(ws: list[str]) -> int:
    """The number of words before the first preposition: the noun phrase the label names."""
    for i, w in enumerate(ws):
        if i and w in PREPOSITIONS:
            return i
    return len(ws)


def _loan_plural(token: Token, part: Part) -> bool:
    """Whether the word ends in the term with the plural -es of an English loan ("gezinscoaches")."""
    return len(part.stem) >= MIN_COMPOUND_PART and token.word.endswith(part.word + "es")


def _hyphen_joined(text: str) -> list[bool]:
    """For each word of `text`, whether a hyphen joins it to the next ("docent-onderzoekers"): then it is a
    part of a compound written with a hyphen, and only the compound's last part is its head."""
    spans = [m.span() for m in _WORD.finditer((text or "").casefold())]
    return [i + 1 < len(spans) and text[spans[i][1]:spans[i + 1][0]] == "-" for i in range(len(spans))]


def _candidates(text_tokens: list[Token], vocab: dict[str, list[Term]], generic: frozenset[str],
                joined: list[bool]):
    """(rank, group, term, how) of every occurrence of a term in the label; a lower rank decides."""
    core = _noun_phrase([t.word for t in text_tokens])
    generic_terms = [term(g) for g in sorted(generic)]
    for key, terms in vocab.items():
        for t in terms:
            for start, end in _occurrences(t, text_tokens):
                last = text_tokens[end - 1]
                is_head = (_is_head(last, t.parts[-1]) or _loan_plural(last, t.parts[-1]) or t.whole_word) \
                    and not joined[end - 1]
                is_generic = t.text.lstrip("=") in generic
                if is_head and not is_generic and any(
                        len(g.parts) == 1 and len(g.parts[0].word) > len(t.parts[-1].word) and _is_head(last, g.parts[0])
                        for g in generic_terms):
                    continue   # "medewerkers" ends in "werker", but its head is the generic "medewerker"
                if end - 1 < core and is_head and not is_generic:
                    # The first noun of the phrase names it; a longer term at the same word wins.
                    yield (0, end - 1, -t.weight), key, t, HEAD
                elif end - 1 < core and is_head:
                    yield (2, end - 1, -t.weight), key, t, HEAD
                else:
                    yield (1, start, -t.weight), key, t, MODIFIER


def _generic_head(text_tokens: list[Token], generic_terms: list[Term]) -> bool:
    """Whether the noun phrase of the label is named by a generic head (its first noun ends in one)."""
    core = text_tokens[:_noun_phrase([t.word for t in text_tokens])]
    return any(_is_head(tok, g.parts[-1]) for tok in core for g in generic_terms if len(g.parts) == 1)


def group_match(text: str, vocab: dict[str, list[Term]], *, generic: frozenset[str] = frozenset(),
                speller: Speller | None = None) -> GroupMatch:
    """The participant group of a category label (see GroupMatch). `generic` are the written forms of terms
    that say what someone does but not where ("medewerker"); `speller` reads typing slips."""
    found = tokens(text)
    best = min(_candidates(found, vocab, generic, _hyphen_joined(text)), key=lambda c: c[0], default=None)
    generic_terms = [term(g) for g in generic]
    if best is not None:
        rank, key, t, how = best
        if rank[0] == 0:
            return GroupMatch(key, t, HEAD)
        if rank[0] == 1 and _generic_head(found, generic_terms):
            return GroupMatch(key, t, COMPLEMENT)
        if rank[0] == 2:
            return GroupMatch(key, t, HEAD)
    # No head matched: a typing slip in the head comes before a modifier ("wijkverpleegkundgen").
    if speller is not None:
        read = {w: c for w in {tok.word for tok in found} if (c := speller.correct(w))}
        if read:
            again = group_match(" ".join(read.get(tok.word, tok.word) for tok in found), vocab, generic=generic)
            if again.certain:
                return GroupMatch(again.group, again.term, FUZZY, tuple(sorted(read.items())))
    if best is not None:
        return GroupMatch(best[1], best[2], MODIFIER)
    return GroupMatch(None, None, NONE)

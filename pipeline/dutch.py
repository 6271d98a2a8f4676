"""Dutch-aware term matching: Snowball stems, multi-word terms and terms inside compound words.

A term matches a word when their stems are equal, when the term is the head of a compound
("begeleidingsvaardigheden" ends in "vaardigheden", which stems like "vaardigheden" itself), or when the
term starts a compound ("vrijwilligersorganisatie"). A term written with a leading "=" matches whole
words only ("=tijd" matches "tijd" but not "tijdelijk" or "werktijd").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased; hyphens, slashes and '&' separate words."""
    return _WORD.findall((text or "").casefold())


def tokens(text: str) -> list[Token]:
    """The words of `text` with their stems."""
    return [Token(w, _stem(w)) for w in words(text)]


@dataclass(frozen=True)
class Part:
    """One word of a term: its stem, its written form, and patterns for the written form with an inflection
    (whole word, and at the end of a compound)."""

    stem: str
    word: str
    inflected: re.Pattern
    inflected_tail: re.Pattern

    @property
    def keys(self) -> tuple[str, str]:
        """The part can match a word only if one of these is among the word's word_keys."""
        return self.stem, self.word


@dataclass(frozen=True)
class Term:
    text: str
    stems: tuple[str, ...]
    whole_word: bool = False
    parts: tuple[Part, ...] = ()

    @property
    def weight(self) -> int:
        return sum(len(s) for s in self.stems)


def term(text: str) -> Term:
    """A term from its written form; a leading "=" asks for whole words only."""
    words = tokens(text.lstrip("="))
    parts = tuple(Part(t.stem, t.word, re.compile(re.escape(t.word) + _INFLECTION),
                       re.compile(re.escape(t.word) + _INFLECTION + "$")) for t in words)
    return Term(text=text, stems=tuple(t.stem for t in words), whole_word=text.startswith("="), parts=parts)


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


def find_at(term_: Term, text_tokens: list[Token]) -> int | None:
    """Index of the first token where the term occurs in the text, or None. Words must follow each other;
    the first may be the tail of a compound and the last its head, unless the term is whole-word only."""
    n = len(term_.stems)
    if n == 0:
        return None
    parts = term_.parts
    for start in range(len(text_tokens) - n + 1):
        window = text_tokens[start:start + n]
        if term_.whole_word:
            if all(_same_word(t, p) for t, p in zip(window, parts)):
                return start
            continue
        if n == 1:
            if _is_head(window[0], parts[0]) or _is_modifier(window[0], parts[0]):
                return start
            continue
        if (_is_head(window[0], parts[0]) and _is_modifier(window[-1], parts[-1])
                and all(_same_word(t, p) for t, p in zip(window[1:-1], parts[1:-1]))):
            return start
    return None


# Substrings longer than this are not keys of a word (no Dutch term is this long).
MAX_PART = 40


def word_keys(word: str) -> frozenset[str]:
    """Every key by which a term part can match `word`: its stem, the stems of its compound heads, and its
    substrings (a part's written form, inflected or inside a compound, or its stem at the start). Not
    cached: a word has hundreds of keys, and callers keep what they learn from them (RuleIndex)."""
    substrings = {word[i:j] for i in range(len(word)) for j in range(i + 1, min(len(word), i + MAX_PART) + 1)}
    return frozenset(substrings | {_stem(word)} | _compound_heads(word))


@dataclass(frozen=True)
class Haystack:
    """A text prepared for many term look-ups: its tokens, every stem and compound head, and its words."""

    tokens: list[Token]
    keys: frozenset[str]
    joined: str


def haystack(text: str) -> Haystack:
    found = tokens(text)
    keys = {t.stem for t in found}
    for t in found:
        keys |= _compound_heads(t.word)
    return Haystack(found, frozenset(keys), " ".join(t.word for t in found))


def _could_occur(term_: Term, text: Haystack) -> bool:
    # Every way a part can match leaves its stem among the keys, or its stem or written form inside a word.
    return all(p.stem in text.keys or p.stem in text.joined or p.word in text.joined for p in term_.parts)


def find(term_: Term, text: list[Token] | Haystack) -> bool:
    if isinstance(text, Haystack):
        return _could_occur(term_, text) and find_at(term_, text.tokens) is not None
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

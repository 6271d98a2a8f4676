"""Dutch-aware term matching: Snowball stems, multi-word terms and terms inside compound words."""

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


def stems(text: str) -> list[str]:
    """Stems of the words of `text`, lower-cased; hyphens, slashes and '&' separate words."""
    return _stemmer().stemWords(_WORD.findall(text.casefold()))


@dataclass(frozen=True)
class Term:
    text: str
    stems: tuple[str, ...]

    @property
    def weight(self) -> int:
        return sum(len(s) for s in self.stems)


def term(text: str) -> Term:
    return Term(text=text, stems=tuple(stems(text)))


def _word_matches(word: str, part: str) -> bool:
    if word == part:
        return True
    return len(part) >= MIN_COMPOUND_PART and (word.endswith(part) or word.startswith(part))


def find(term_: Term, text_stems: list[str]) -> bool:
    """Whether the term occurs in the stemmed text: whole words in order, the first and last possibly
    as the tail and head of a compound ("wijkverpleegkundigen" holds "verpleegkundige")."""
    n = len(term_.stems)
    if n == 0:
        return False
    for start in range(len(text_stems) - n + 1):
        window = text_stems[start:start + n]
        if n == 1:
            if _word_matches(window[0], term_.stems[0]):
                return True
            continue
        first_ok = window[0] == term_.stems[0] or (len(term_.stems[0]) >= MIN_COMPOUND_PART
                                                   and window[0].endswith(term_.stems[0]))
        last_ok = window[-1] == term_.stems[-1] or (len(term_.stems[-1]) >= MIN_COMPOUND_PART
                                                    and window[-1].startswith(term_.stems[-1]))
        if first_ok and last_ok and list(window[1:-1]) == list(term_.stems[1:-1]):
            return True
    return False


def best_match(text: str, vocab: dict[str, list[Term]]) -> tuple[str | None, Term | None]:
    """The key whose longest matching term is longest (ties: the key listed first), and that term."""
    text_stems = stems(text)
    best: tuple[str | None, Term | None] = (None, None)
    for key, terms in vocab.items():
        for t in terms:
            if find(t, text_stems) and (best[1] is None or t.weight > best[1].weight):
                best = (key, t)
    return best


def all_matches(text: str, vocab: dict[str, list[Term]]) -> list[str]:
    """Every key with at least one matching term, in vocabulary order."""
    text_stems = stems(text)
    return [key for key, terms in vocab.items() if any(find(t, text_stems) for t in terms)]

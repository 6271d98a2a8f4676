"""Dutch hyphenation, done once per distinct word: where a word may break at a line end, written as soft
hyphens (U+00AD) that a layout engine (WeasyPrint, a browser, Word) breaks at and otherwise does not show.

One rule for every edition of the report (`may_hyphenate`): a proper name never breaks ("Leiden", not
"Lei-den"), so no word with a capital letter is hyphenated, nor a word the caller names as a name (the
words of the networks' and werkplaatsen's names, the taxonomies' terms), nor a word of fewer than five
letters; and a name joined by hyphens does not break at them either (`joined_names`: "Zuid-Holland"). The break points are pyphen's Dutch dictionary with the limits WeasyPrint uses for
`hyphens: auto` (at least two letters before and after a break), so an allowed word breaks where it
broke before.
"""

from __future__ import annotations

import re
from functools import lru_cache

SOFT_HYPHEN = "\u00ad"
MIN_LETTERS = 5    # WeasyPrint's hyphenate-limit-chars: a shorter word is never hyphenated
MIN_BEFORE = 2     # letters left before a break ...
MIN_AFTER = 2      # ... and carried to the next line

# A word is a run of letters; a run of other characters that holds "@", "://" or "www." is an address,
# and one with a letter or digit before a dot or a slash and a letter after it is a file name or a path
# ("manifest.json", "export_2018.csv", "data/processed"): both are left whole so that a reader can copy them.
_WORD = re.compile(r"[^\W\d_]+")
_ADDRESS = re.compile(r"\S*(?:@|://|www\.|[^\W_][./][^\W\d_])\S*", re.IGNORECASE)


_JOINED = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")


def joined_names(text: str) -> list[tuple[int, int]]:
    """Where `text` holds a name of parts joined by hyphens, each part after the first with a capital
    ("Zuid-Holland", "Noord-Brabant", not "WSD-netwerken"): (start, end) of each, which an edition keeps
    from breaking at its hyphens as a name is kept from hyphenating."""
    return [joined.span() for joined in _JOINED.finditer(text)
            if all(part[:1].isupper() for part in joined.group().split("-")[1:])]


@lru_cache(maxsize=1)
def _dictionary():
    import pyphen
    return pyphen.Pyphen(lang="nl_NL", left=MIN_BEFORE, right=MIN_AFTER)


def name_words(texts) -> frozenset[str]:
    """The words (case-folded) of names and terms, for `may_hyphenate`'s `names`: "Leernetwerk
    wijkverpleegkundigen" gives leernetwerk and wijkverpleegkundigen."""
    return frozenset(word.casefold() for text in texts if text for word in _WORD.findall(str(text)))


def may_hyphenate(word: str, *, names: frozenset[str] = frozenset()) -> bool:
    """Whether `word` (letters only) may break at a line end: not a name (no capital letter, not in
    `names`, case-folded) and at least MIN_LETTERS letters."""
    return len(word) >= MIN_LETTERS and word.islower() and word.casefold() not in names


@lru_cache(maxsize=None)
def _with_soft_hyphens(word: str) -> str:
    return _dictionary().inserted(word, hyphen=SOFT_HYPHEN)


def hyphenated_word(word: str, *, names: frozenset[str] = frozenset()) -> str:
    """`word` with a soft hyphen at each point it may break, or as it is when it may not."""
    return _with_soft_hyphens(word) if may_hyphenate(word, names=names) else word


def hyphenated(text: str, *, names: frozenset[str] = frozenset()) -> str:
    """Plain `text` with soft hyphens in the words that may break (see `may_hyphenate`); addresses (e-mail,
    web), file names and paths stay whole. Removing every U+00AD gives `text` back."""
    return words_marked(text, lambda word: hyphenated_word(word, names=names))


def words_marked(text: str, mark) -> str:
    """`text` with each word of MIN_LETTERS letters or more outside an address (e-mail, web), a file name
    or a path replaced by `mark(word)`, the rest as it was."""
    out, last = [], 0
    for address in _ADDRESS.finditer(text):
        out.append(_each_word(text[last:address.start()], mark))
        out.append(address.group())
        last = address.end()
    out.append(_each_word(text[last:], mark))
    return "".join(out)


def _each_word(text: str, mark) -> str:
    return _WORD.sub(lambda m: mark(m.group()) if len(m.group()) >= MIN_LETTERS else m.group(), text)

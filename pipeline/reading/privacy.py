"""The respondent's own personal data out of a response: the response id salted and hashed, the own name
and e-mail address (in any spelling, case or width) and every e-mail or IP address replaced in the typed
answers, the personal columns dropped. The names of third persons are pipeline.reading.deidentify's,
which uses replace_addresses from here."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

import numpy as np
import pandas as pd

from pipeline.language.names import FIRST_NAME_PARTICLES, PARTICLES


PERSONAL_METADATA = ("ip_address", "recipient_last_name", "recipient_first_name", "recipient_email",
                     "external_reference", "location_latitude", "location_longitude", "location_accuracy",
                     "legacy_name")


def hash_response_id(response_id: str, *, salt: str) -> str:
    return hashlib.sha256(f"{salt}\x00{response_id}".encode()).hexdigest()[:16]


# Names and addresses are matched on a folded form of both the metadata and the answer: compatibility
# decomposition (NFKD, so full-width letters and non-breaking spaces become plain ones), accents and
# invisible characters (zero-width spaces, soft hyphens) removed, lower case, every run of spaces one space.
# Matches are found in the folded answer and replaced in the answer as typed.
_DROPPED = frozenset(("Mn", "Me", "Cf"))
_EXTRA_SPACE = "\x0b\x1c\x1d\x1e\x1f\x85"
MAX_NAME_WORDS = 6          # a longer "name" is matched whole only, not by its parts or in another order
NEVER_ALONE = PARTICLES | FIRST_NAME_PARTICLES    # parts of a name never scrubbed by themselves
NOT_A_NAME = frozenset({"anonymous", "anoniem", "nan", "none", "geen", "n.v.t.", "nvt", "-"})


@lru_cache(maxsize=65536)
def _fold_character(character: str) -> str:
    folded = []
    for part in unicodedata.normalize("NFKD", character):
        category = unicodedata.category(part)
        if category in _DROPPED:
            continue
        folded.append(" " if part.isspace() or category.startswith("Z") or part in _EXTRA_SPACE else part)
    return "".join(folded).lower().replace("ß", "ss")


_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[list(b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")] = True
_ASCII_SPACES = re.compile(r"[ \t\n\r\x0b\x0c\x1c-\x1f]+")


def fold(text: str) -> tuple[str, np.ndarray]:
    """(folded text, for each of its characters the index in `text` it comes from); linear in the text."""
    if text.isascii():
        codes = np.frombuffer(text.lower().encode("ascii"), dtype=np.uint8)
        space = _ASCII_SPACE[codes]   # a table look-up: np.isin sorts, ten times slower on short texts
        keep = ~(space & np.concatenate(([False], space[:-1])))
        return np.where(space, 32, codes)[keep].tobytes().decode("ascii"), np.flatnonzero(keep)
    pieces, origins, after_space = [], [], False
    for at, character in enumerate(text):
        folded = _fold_character(character)
        for part in folded:
            if part == " ":
                if after_space:
                    continue
                after_space = True
            else:
                after_space = False
            pieces.append(part)
            origins.append(at)
    return "".join(pieces), np.asarray(origins, dtype=np.int64)


def fold_text(text: str) -> str:
    """The folded form alone, without leading or trailing spaces and punctuation."""
    # ASCII needs no origins: lower case and one space for each run of spaces is what fold gives.
    folded = _ASCII_SPACES.sub(" ", text.lower()) if text.isascii() else fold(text)[0]
    return folded.strip(" .,;:!?\"'()[]{}<>")


def _folded_column(values: pd.Series):
    """fold_text for a whole column at once (Arrow's kernels), for the quick test of which rows need a look."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values.astype(str), type=pa.large_string())
    text = pc.utf8_normalize(text, form="NFKD")
    text = pc.replace_substring_regex(text, pattern=r"[\p{Mn}\p{Me}\p{Cf}]", replacement="")
    text = pc.replace_substring(pc.utf8_lower(text), pattern="ß", replacement="ss")
    return pc.replace_substring_regex(text, pattern=r"[\s\x0b\x1c-\x1f\x85\p{Z}]+", replacement=" ")


def _needles(names, emails) -> tuple[tuple[str, str], ...]:
    """A respondent's (folded form, marker) pairs, longest first: each name whole, in the other order
    ("Voorbeeld, Anna", "de Vries Anna"), its capitalised parts, and the own e-mail address."""
    found: dict[str, str] = {}
    for value in names:
        value = value.strip()
        whole = fold_text(value)
        if not whole or whole in NOT_A_NAME:
            continue
        found[whole] = "[naam]"
        typed, words = value.split(), whole.split()
        if len(words) > MAX_NAME_WORDS or len(typed) != len(words):
            continue
        for k in range(1, len(words)):
            first, rest = " ".join(words[:k]), " ".join(words[k:])
            found.setdefault(f"{rest}, {first}", "[naam]")
            found.setdefault(f"{rest} {first}", "[naam]")
            found.setdefault(f"{rest},{first}", "[naam]")
        for original, word in zip(typed, words):
            word = word.strip(".,;:()")
            if len(word) >= 3 and original[:1].isupper() and word not in NEVER_ALONE:
                found.setdefault(word, "[naam]")
    for value in emails:
        address = fold_text(value).replace(" ", "")
        if "@" in address:
            found[address] = "[e-mail]"
    return tuple(sorted(found.items(), key=lambda pair: len(pair[0]), reverse=True))


def _is_word_character(character: str) -> bool:
    return character.isalnum() or character == "_"   # what \w matches in a str pattern


_NEXT_WORD_START = re.compile(r"[^\w](?=\w)")


def _spans(folded: str, needle: str) -> list[tuple[int, int]]:
    """Where `needle` occurs in `folded` as whole words. After a hit inside a word the search goes on at the
    next word, so a long needle in a long repetitive text is still one pass."""
    spans, at = [], folded.find(needle)
    while at >= 0:
        end = at + len(needle)
        if (at == 0 or not _is_word_character(folded[at - 1])) and \
                (end == len(folded) or not _is_word_character(folded[end])):
            spans.append((at, end))
            at = folded.find(needle, end)
            continue
        word = _NEXT_WORD_START.search(folded, at)
        at = folded.find(needle, word.end()) if word else -1
    return spans


def _replace_own(text: str, needles: tuple[tuple[str, str], ...]) -> str:
    """Every whole-word occurrence of a needle (longest first) in the folded text replaced in `text` by its
    marker; what folding dropped at the end of a hit (a combining accent) goes with it."""
    folded, origins = fold(text)
    taken: list[tuple[int, int, str]] = []
    for needle, marker in needles:
        for start, end in _spans(folded, needle):
            taken.append((int(origins[start]), int(origins[end - 1]) + 1, marker))
    if not taken:
        return text
    taken.sort(key=lambda span: (span[0], -span[1]))
    pieces, position = [], 0
    for start, end, marker in taken:
        if start < position:
            continue        # inside a longer hit already replaced
        while end < len(text) and unicodedata.category(text[end]) in _DROPPED:
            end += 1
        pieces += [text[position:start], marker]
        position = end
    return "".join(pieces) + text[position:]


# An address: at most 64 characters before the @ and a domain of labels (RFC 5321), so a scan is bounded.
_AT = re.compile("[@\uff20\ufe6b]")
_INVISIBLE = "\u00ad\u200b-\u200f\u2060\ufeff"     # may sit inside an address typed or pasted
_LOCAL = re.compile(rf"[\w.+{_INVISIBLE}-]{{1,64}}\s{{0,3}}\Z")
_DOMAIN = re.compile(rf"\s{{0,3}}[\w{_INVISIBLE}-]{{1,63}}(?:\.[\w{_INVISIBLE}-]{{1,63}}){{1,8}}")
_MAILTO = re.compile(r"mailto:\s?\Z", re.IGNORECASE)
IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")


def replace_addresses(text: str) -> str:
    """E-mail addresses (also with a full-width @, spaces around it or mailto:) and IPv4 addresses replaced by
    [e-mail] and [ip-adres]. Each @ is looked at once, with a bounded look either side of it."""
    pieces, position = [], 0
    for at in _AT.finditer(text):
        if at.start() < position:
            continue
        left = _LOCAL.search(text, max(position, at.start() - 70), at.start())
        right = _DOMAIN.match(text, at.end())
        if not left or not right:
            continue
        start = left.start()
        mailto = _MAILTO.search(text, max(position, start - 8), start)
        start = mailto.start() if mailto else start
        pieces += [text[position:start], "[e-mail]"]
        position = right.end()
    text = "".join(pieces) + text[position:]
    return IPV4.sub("[ip-adres]", text) if "." in text else text


def _mentions_own(answers: pd.DataFrame, needles: list[tuple[tuple[str, str], ...]]) -> np.ndarray:
    """Per row: may an answer hold one of that respondent's needles? The answers of a row are joined and
    folded as one column, so there is one substring test per needle and respondent, not per cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = np.zeros(len(answers), dtype=bool)
    if answers.empty or not any(needles):
        return found
    text = pa.large_string()
    step = 10_000   # a slice of rows at a time, so the joined and folded texts stay small in memory
    for begin in range(0, len(answers), step):
        piece = answers.iloc[begin:begin + step]
        joined = pc.binary_join_element_wise(*(pa.array(piece[c].astype(str)).cast(text) for c in piece.columns),
                                             pa.scalar("\n", text))
        texts = _folded_column(pd.Series(joined.to_pandas(), dtype=object)).to_pylist()
        found[begin:begin + len(texts)] = [bool(own) and any(n in t for n, _ in own)
                                           for t, own in zip(texts, needles[begin:begin + step])]
    return found


def remove_personal_data(*, responses: pd.DataFrame, personal_fields: list[str], typed_fields: list[str],
                         salt: str) -> pd.DataFrame:
    """Replace response ids by salted hashes, scrub names and addresses from typed answers, drop personal columns.

    Takes the kept responses with response_id, q1 and any personal metadata; `typed_fields` are the
    columns respondents type into (choice columns hold the questionnaire's labels and are left alone).
    Gives response_key in place of response_id and none of PERSONAL_METADATA or the personal items.
    """
    out = responses.copy(deep=False)
    out.insert(0, "response_key", [hash_response_id(r, salt=salt) if r else f"row-{row}"
                                   for r, row in zip(out["response_id"], out["row"])])
    text_columns = [c for c in typed_fields if c in out and c not in personal_fields]
    blank = pd.Series("", index=out.index)
    recipient = (out.get("recipient_first_name", blank).astype(str).str.strip() + " "
                 + out.get("recipient_last_name", blank).astype(str).str.strip())
    name_columns = [out[c].astype(str) for c in (*personal_fields, "recipient_first_name", "recipient_last_name",
                                                  "legacy_name") if c in out] + [recipient]
    emails = out.get("recipient_email", blank).astype(str)
    # Each respondent's own names and address; only the cells that may hold one are looked at closely.
    needles = [_needles(names, (email,)) for *names, email in zip(*name_columns, emails)]
    mentions = _mentions_own(out[text_columns], needles)
    for column in text_columns:
        values = out[column].astype(str)
        address = (values.str.contains("[@\uff20\ufe6b]", regex=True).to_numpy(dtype=bool, na_value=False)
                   | values.str.contains(r"[0-9]\.[0-9]", regex=True).to_numpy(dtype=bool, na_value=False))
        rows = np.flatnonzero(address | mentions)
        if len(rows):
            scrubbed = values.iloc[rows].tolist()
            for k, i in enumerate(rows):
                if address[i]:
                    scrubbed[k] = replace_addresses(scrubbed[k])
                if mentions[i]:
                    scrubbed[k] = _replace_own(scrubbed[k], needles[i])
            values = values.copy()
            values.iloc[rows] = scrubbed
            out[column] = values
    drop = [c for c in (*PERSONAL_METADATA, *personal_fields, "response_id") if c in out]
    return out.drop(columns=drop)

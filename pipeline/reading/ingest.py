"""Ingest: from any Qualtrics export of the WSD questionnaire to one clean row per response.

Maps the export's columns to the instrument's items (by export tag, then label text, then ImportId),
drops previews, tests, spam, unfinished responses and earlier duplicate submissions with the reason
logged, and removes personal data before anything is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from pipeline.core.config import Config, Instrument, Item, Settings
from pipeline.reading.deidentify import load_not_names, scrub_third_parties
from pipeline.core.errors import ExportError
from pipeline.reading.qualtrics import (RECOGNISED_MAGIC, SAV_MAGIC, ZIP_MAGIC, RawExport, read_export, read_input,
                                strip_html)
from pipeline.core.schemas import DROPS, RESPONSES, check, write_atomic, write_parquet

DROP_REASONS = ("preview", "test", "spam", "unfinished", "duplicate")

# Canonical metadata name -> keys (lower case, letters and digits only) of its ImportId, tag or
# legacy label. Insights exports prefix recipient ids with "panel-".
METADATA_KEYS = {
    "start_date": {"startdate"},
    "end_date": {"enddate"},
    "status": {"status"},
    "ip_address": {"ipaddress"},
    "progress": {"progress"},
    "duration": {"duration", "durationinseconds"},
    "finished": {"finished"},
    "recorded_date": {"recordeddate"},
    "response_id": {"recordid", "responseid"},
    "response_set": {"responseset", "responsesetid"},
    "recipient_last_name": {"recipientlastname"},
    "recipient_first_name": {"recipientfirstname"},
    "recipient_email": {"recipientemail", "emailaddress"},
    "external_reference": {"externalreference", "externaldatareference"},
    "location_latitude": {"locationlatitude"},
    "location_longitude": {"locationlongitude"},
    "location_accuracy": {"locationaccuracy"},
    "distribution_channel": {"distributionchannel"},
    "user_language": {"userlanguage"},
    "legacy_name": {"name"},
}
PERSONAL_METADATA = ("ip_address", "recipient_last_name", "recipient_first_name", "recipient_email",
                     "external_reference", "location_latitude", "location_longitude", "location_accuracy",
                     "legacy_name")
DATE_COLUMNS = ("start_date", "end_date", "recorded_date")

STATUS_TEXT = {"0": "IP Address", "1": "Survey Preview", "2": "Survey Test", "4": "Imported", "8": "Spam",
               "9": "Survey Preview Spam", "12": "Imported Spam", "16": "Offline",
               "17": "Offline Survey Preview", "32": "EX", "40": "EX Spam", "48": "EX Offline"}


# A choice value, level or head count longer than this is no answer of the questionnaire; later stages keep
# numbers as 64-bit integers (and floats overflow past ~308 digits).
MAX_NUMBER_DIGITS = 15
_WHOLE_NUMBER = re.compile(r"\s*-?\d+(?:\.0)?\s*")
_HEAD_COUNT = re.compile(r"\s*\((\d+)\)\s*$")   # as normalise reads "Docenten (3)"

LABEL_MATCH_MIN = 90      # fuzzy ratio for a label to count as an item's wording
LABEL_CONTRADICTS = 50    # below this, a tag or ImportId match is taken for another question


@dataclass(frozen=True)
class ColumnMapping:
    """Where one export column went: an item field, a metadata field, or nowhere."""

    position: int
    tag: str
    target: str | None      # field (q6_text), metadata name (recorded_date) or None
    kind: str               # item, metadata, unmapped
    matched_by: str | None  # export_tag, label, import_id


@dataclass
class IngestResult:
    """Everything ingest learned; `responses` and `drops` hold no personal data."""

    export: RawExport
    mapping: list[ColumnMapping]
    values: str                   # choice_text or numeric
    responses: pd.DataFrame
    drops: pd.DataFrame
    items_mapped: list[str]
    items_missing: list[str]
    warnings: list[str] = field(default_factory=list)
    supplement_path: Path | None = None
    rows_in_file: int = 0

    @property
    def unmapped_columns(self) -> list[str]:
        return [m.tag or f"column {m.position + 1}" for m in self.mapping if m.kind == "unmapped"]

    def dropped_counts(self) -> dict[str, int]:
        counts = self.drops["reason"].value_counts() if len(self.drops) else {}
        return {reason: int(counts.get(reason, 0)) for reason in DROP_REASONS}

    def summary(self) -> dict:
        """The `inspect --json` object of the output contract, plus a few descriptive keys."""
        survey = self.responses[self.responses["source"] == "survey"]
        return {
            "format": self.export.format,
            "layout": self.export.layout,
            "encoding": self.export.encoding,
            "values": self.values,
            "time_zone": self.export.time_zone,
            "responses": self.rows_in_file,
            "kept": int(len(survey)),
            "dropped": self.dropped_counts(),
            "items_mapped": len(self.items_mapped),
            "items_missing": self.items_missing,
            "unmapped_columns": self.unmapped_columns,
            "warnings": self.warnings,
        }


# ------------------------------------------------------------------------------------------ mapping

def _key(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", (text or "").lower())


def normalise_label(text: str) -> str:
    """Label text compared case-, space- and markup-blind."""
    return re.sub(r"\s+", " ", strip_html(text).replace("**", "")).strip().casefold()


def _metadata_target(column, layout: str) -> str | None:
    candidates = [_key(column.import_id).removeprefix("panel")] if column.import_id else []
    if column.import_id is None or layout in ("legacy", "sav"):
        candidates.append(_key(column.tag))
        if re.fullmatch(r"V\d+", column.tag):
            candidates.append(_key(column.label))
    for name, keys in METADATA_KEYS.items():
        if any(c in keys for c in candidates if c):
            return name
    return None


_SUFFIX = re.compile(r"^(?P<stem>.+?)(?:_(?P<num>-?\d+))?(?P<text>_TEXT)?$", re.IGNORECASE)
_QID = re.compile(r"^QID(?P<qid>\d+)(?:[_-](?P<num>-?\d+))?(?:[_-](?P<text>TEXT))?$", re.IGNORECASE)


def _split_tag(tag: str) -> tuple[str, int | None, bool]:
    match = _SUFFIX.match(tag.strip())
    if not match:
        return tag, None, False
    num = match.group("num")
    return match.group("stem"), (int(num) if num is not None else None), bool(match.group("text"))


def _split_qid(import_id: str | None) -> tuple[str | None, int | None, bool]:
    match = _QID.match((import_id or "").strip())
    if not match:
        return None, None, False
    num = match.group("num")
    return f"QID{match.group('qid')}", (int(num) if num is not None else None), bool(match.group("text"))


def _label_item(label_norm: str, wordings: dict[str, str]) -> tuple[str | None, str, int]:
    """(item id, rest of the label after the wording, similarity 0-100) for the best-matching item."""
    best: tuple[str | None, str, int] = (None, "", 0)
    for item_id, wording in wordings.items():
        if label_norm.startswith(wording):
            if best[2] < 100 or len(wording) > len(wordings[best[0]]):
                best = (item_id, label_norm[len(wording):], 100)
            continue
        if "..." in label_norm:  # legacy exports cut long labels to ~100 characters
            prefix = label_norm.split("...")[0].rstrip()
            if len(prefix) >= 20 and wording.startswith(prefix) and best[2] < 100:
                best = (item_id, label_norm.split("...", 1)[1], 99)
                continue
        head = label_norm.split(" - ")[0]
        score = int(fuzz.ratio(head, wording))
        if score > best[2]:
            best = (item_id, label_norm[len(head):], score)
    return best


def _label_rest(item: Item, rest: str) -> tuple[int | None, bool]:
    """Row or choice number and text-entry flag from what follows the wording in a label."""
    rest = rest.strip(" -")
    is_text = bool(re.search(r"(?:^|-)\s*(?:text|tekst)$", rest))
    rest = re.sub(r"\s*-?\s*(?:text|tekst)$", "", rest).strip(" -")
    for option in item.rows or item.choices:
        if rest == normalise_label(option.label):
            return option.value, is_text
    return None, is_text


def _field(item: Item, num: int | None, is_text: bool) -> str | None:
    """The response field an item column holds, or None when the column is something else (_DO...)."""
    if item.type == "text":
        return item.id if num is None else None
    if item.type == "choice":
        if num is None and not is_text:
            return item.id
        entries = [c.value for c in item.choices if c.text_entry]
        return f"{item.id}_text" if is_text and (num is None or num in entries) and entries else None
    rows = {r.value for r in item.rows}
    if num not in rows:
        return None
    return f"{item.id}_{num}_text" if is_text else f"{item.id}_{num}"


def _candidate(column, *, wordings, by_tag, by_qid, items) -> tuple[str | None, str | None, bool]:
    """(field, how it matched, whether the label confirms it) for one question column."""
    label_norm = normalise_label(column.label) if column.label.strip() != column.tag else ""
    label_item, label_rest, label_score = _label_item(label_norm, wordings) if label_norm else (None, "", 0)
    stem, tag_num, tag_text = _split_tag(column.tag)
    qid, qid_num, qid_text = _split_qid(column.import_id)

    def confirmed(item: Item) -> bool:
        if not label_norm:
            return True
        if label_item == item.id and label_score >= LABEL_MATCH_MIN:
            return True
        return fuzz.ratio(label_norm.split(" - ")[0], wordings[item.id]) >= LABEL_CONTRADICTS

    item = by_tag.get(stem.casefold())
    if item:
        target = _field(item, tag_num, tag_text or qid_text)
        if target:
            return target, "export_tag", confirmed(item)
    if label_item and label_score >= LABEL_MATCH_MIN:
        item = items[label_item]
        rest_num, rest_text = _label_rest(item, label_rest)
        num = rest_num if rest_num is not None else tag_num if tag_num is not None else qid_num
        target = _field(item, num, tag_text or qid_text or rest_text)
        if target:
            return target, "label", True
    item = by_qid.get(qid.casefold()) if qid else None
    if item:
        target = _field(item, qid_num, qid_text)
        if target:
            return target, "import_id", confirmed(item)
    return None, None, False


def map_columns(*, export: RawExport, instrument: Instrument, min_confirmed: int) -> tuple[list[ColumnMapping], list[str]]:
    """Map every export column to a metadata field or an item field; returns mappings and warnings.

    Export tags (Q1..Q24) and ImportIds (QID..) recur in every survey, so a match by either counts
    only where the label row agrees with the item, unless labels confirm at least `min_confirmed`
    items: then the export is the WSD survey and reworded labels are accepted.
    """
    lookups = {"wordings": {it.id: normalise_label(it.wording) for it in instrument.items},
               "by_tag": {it.export_tag.casefold(): it for it in instrument.items},
               "by_qid": {it.import_id.casefold(): it for it in instrument.items},
               "items": {it.id: it for it in instrument.items}}
    found: list[tuple[object, str | None, str | None, bool]] = []
    metadata_taken: set[str] = set()
    for column in export.columns:
        meta = _metadata_target(column, export.layout)
        if meta and meta not in metadata_taken:
            metadata_taken.add(meta)
            found.append((column, meta, "metadata", True))
        elif meta:
            found.append((column, None, None, False))
        else:
            found.append((column, *_candidate(column, **lookups)))
    confirmed_items = {_item_of(t) for _, t, how, ok in found if how not in (None, "metadata") and ok}
    trust_unconfirmed = len(confirmed_items) >= min_confirmed

    mapping: list[ColumnMapping] = []
    taken: dict[str, int] = {}
    warnings: list[str] = []
    for column, target, how, ok in found:
        if target is not None and how != "metadata" and not (ok or trust_unconfirmed):
            target = None
        if target is not None and target in taken:
            warnings.append(f"column {column.position + 1} ({column.tag}) holds {target} as column "
                            f"{taken[target] + 1} does; the first is used.")
            target = None
        if target is None:
            mapping.append(ColumnMapping(column.position, column.tag, None, "unmapped", None))
            continue
        taken[target] = column.position
        kind = "metadata" if how == "metadata" else "item"
        mapping.append(ColumnMapping(column.position, column.tag, target, kind, None if kind == "metadata" else how))
    return mapping, warnings


def _item_of(field_name: str) -> str:
    return field_name.split("_")[0]


# ----------------------------------------------------------------------------------------- filtering

def _status_reason(value: str) -> str | None:
    text = STATUS_TEXT.get(value.strip(), value).casefold()
    if "spam" in text:
        return "spam"
    if "preview" in text:
        return "preview"
    if "test" in text:
        return "test"
    return None


def _is_unfinished(value: str) -> bool:
    return value.strip().casefold() in ("false", "0", "onwaar", "nee")


MAX_DATE_CHARS = 40            # a longer cell is no date; dateutil would take long to say so
DATE_YEARS = (1900, 2200)      # a date outside these years is taken as unreadable, not as a response time
_UTC_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)


def _coerce_dates(text: pd.Series, **options) -> pd.Series:
    """pandas' date parser on untrusted text: NaT for what it cannot read, whatever it raises on."""
    try:
        return pd.to_datetime(text, errors="coerce", **options)
    except (ValueError, TypeError, OverflowError, NotImplementedError, pd.errors.OutOfBoundsDatetime):
        pass
    values = []
    for one in text:   # one date the vectorised parser could not take (mixed zones, odd forms): alone
        try:
            values.append(pd.Timestamp(pd.to_datetime(one, **options)))
        except (ValueError, TypeError, OverflowError, NotImplementedError, pd.errors.OutOfBoundsDatetime):
            values.append(pd.NaT)
    return pd.Series(values, index=text.index, dtype=object)


def _as_local(parsed: pd.Series, zone: str, index) -> pd.Series:
    """Timestamps (naive: wall time in `zone`; aware: converted to it) as one column in `zone`, in ns."""
    out = pd.Series(pd.NaT, index=index, dtype=f"datetime64[ns, {zone}]")
    if pd.api.types.is_datetime64_any_dtype(parsed.dtype):   # the vectorised parser's answer: one step
        try:
            inside = parsed.where(parsed.dt.year.between(*DATE_YEARS))
            local = inside.dt.tz_convert(zone) if parsed.dt.tz is not None else inside.dt.tz_localize(
                zone, ambiguous="NaT", nonexistent="shift_forward")
            return local.astype(out.dtype).set_axis(index)
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
            parsed = parsed.astype(object)
    for at, value in parsed.items():
        if value is pd.NaT or pd.isna(value):
            continue
        try:
            stamp = pd.Timestamp(value)
            if not DATE_YEARS[0] <= stamp.year <= DATE_YEARS[1]:
                continue
            stamp = stamp.tz_convert(zone) if stamp.tzinfo else stamp.tz_localize(
                zone, ambiguous="NaT", nonexistent="shift_forward")
            out[at] = stamp
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
            continue
    return out


def parse_dates(values: pd.Series, *, zone: str, day_first: bool) -> pd.Series:
    """Qualtrics date text (or an Excel rewrite of it, or ISO with Z or an offset) to timestamps in `zone`;
    unreadable, impossible or out-of-range dates -> NaT."""
    text = values.astype(str).str.strip()
    text = text.where(text.str.len().le(MAX_DATE_CHARS), "\x00")
    parsed = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    in_range = parsed.dt.year.between(*DATE_YEARS)
    local = parsed.where(in_range).dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    local = local.astype(f"datetime64[ns, {zone}]")
    rest = parsed.isna() & text.ne("")
    if rest.any():
        # Odd forms are rare and few: each part of the parser gets only its own kind of text.
        offset = rest & text.str.contains(_UTC_OFFSET)
        other = rest & ~offset
        if offset.any():
            local[offset] = _as_local(_coerce_dates(text[offset], format="ISO8601", utc=True), zone, text.index[offset])
        if other.any():
            local[other] = _as_local(_coerce_dates(text[other], format="mixed", dayfirst=day_first), zone,
                                     text.index[other])
    return local


def _respondent(frame: pd.DataFrame) -> pd.Series:
    """Who answered: the name in q1, else the recipient e-mail; empty when neither is known."""
    who = pd.Series("", index=frame.index)
    for column in ("recipient_email", "q1"):
        if column in frame:
            value = frame[column].astype(str).str.casefold().str.split().str.join(" ")
            who = who.where(value.eq(""), value)
    return who


def _network(frame: pd.DataFrame) -> pd.Series:
    parts = [frame[c].astype(str).str.casefold().str.split().str.join(" ") if c in frame else "" for c in ("q2", "q3")]
    return parts[0] + " | " + parts[1]


def filter_responses(*, responses: pd.DataFrame, keep_unfinished: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop previews, tests, spam, unfinished and earlier duplicates.

    Takes columns row, status, finished, recorded_date, response_id, q1, q2, q3 (recipient_email when
    present); gives the kept rows and a drop log with row, response_id, reason and detail.
    """
    reason = responses["status"].map(_status_reason) if "status" in responses else pd.Series(None, index=responses.index)
    if not keep_unfinished and "finished" in responses:
        reason = reason.where(reason.notna() | ~responses["finished"].map(_is_unfinished), "unfinished")
    dropped = responses[reason.notna()]
    blank = pd.Series("", index=dropped.index)
    detail = ("Status = " + dropped.get("status", blank).astype(str)).where(
        reason[dropped.index].ne("unfinished"),
        "Finished = " + dropped.get("finished", blank).astype(str) + ", progress "
        + dropped.get("progress", blank).astype(str).replace("", "?") + "%")
    logs = [pd.DataFrame({"row": dropped["row"], "response_id": dropped["response_id"],
                          "reason": reason[dropped.index], "detail": detail})]

    kept = responses[reason.isna()]
    ordered = kept.sort_values(["recorded_date", "row"], na_position="first")
    # The same response id more than once: the latest is kept.
    rid = ordered["response_id"].astype(str)
    same_id = rid.ne("") & rid.duplicated(keep="last")
    latest = ordered.groupby(rid, sort=False)["row"].transform("last")
    logs.append(pd.DataFrame({"row": ordered["row"], "response_id": rid, "reason": "duplicate",
                              "detail": "same response id as data row " + latest.astype(str)})[same_id])
    # The same respondent about the same network more than once: the latest submission is kept.
    who, network = _respondent(ordered), _network(ordered)
    known = ~same_id & who.ne("") & ~network.str.startswith(" |") & ~network.str.endswith("| ")
    pair = (who + "\x00" + network)[known]
    earlier = pair.duplicated(keep="last")
    latest = ordered.loc[known, "row"].groupby(pair, sort=False).transform("last")
    logs.append(pd.DataFrame({
        "row": ordered.loc[known, "row"], "response_id": rid[known], "reason": "duplicate",
        "detail": "earlier submission about the same network by the same respondent; data row "
                  + latest.astype(str) + " is later and kept"})[earlier])

    kept = kept.drop(index=same_id.index[same_id].union(earlier.index[earlier]))
    log = pd.concat(logs).sort_values("row", kind="stable").reset_index(drop=True)
    log["row"] = log["row"].astype("int64")   # an empty log would otherwise have no integer row column
    return kept, log


# ------------------------------------------------------------------------------------------- privacy

def hash_response_id(response_id: str, *, salt: str) -> str:
    return hashlib.sha256(f"{salt}\x00{response_id}".encode()).hexdigest()[:16]


# Names and addresses are matched on a folded form of both the metadata and the answer: compatibility
# decomposition (NFKD, so full-width letters and non-breaking spaces become plain ones), accents and
# invisible characters (zero-width spaces, soft hyphens) removed, lower case, every run of spaces one space.
# Matches are found in the folded answer and replaced in the answer as typed.
_DROPPED = frozenset(("Mn", "Me", "Cf"))
_EXTRA_SPACE = "\x0b\x1c\x1d\x1e\x1f\x85"
MAX_NAME_WORDS = 6          # a longer "name" is matched whole only, not by its parts or in another order
# Dutch name particles: never a name on their own ("van" must not vanish from every answer).
PARTICLES = frozenset({"van", "de", "der", "den", "het", "ten", "ter", "te", "op", "in", "uit", "von", "zu",
                       "la", "le", "du", "di", "da", "del", "des", "dos", "el", "al", "bin", "ben", "vander",
                       "vanden", "vd", "v.d."})
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
            if len(word) >= 3 and original[:1].isupper() and word not in PARTICLES:
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


# ------------------------------------------------------------------------------------------- numbers

def limit_numbers(frame: pd.DataFrame, *, instrument: Instrument) -> list[str]:
    """Empty the choice answers and drop the head counts that have more than MAX_NUMBER_DIGITS digits, in
    place; gives a warning per column naming the rows."""
    warnings = []
    typed = set(instrument.typed_fields)
    for column in (f for f in instrument.response_fields if f in frame):
        values = frame[column].astype(str)
        if column in typed:
            if not re.fullmatch(r"q12_\d+_text", column):
                continue
            counts = values.str.extract(_HEAD_COUNT, expand=False).fillna("")
            too_long = counts.str.len().gt(MAX_NUMBER_DIGITS)
            if too_long.any():
                frame.loc[too_long, column] = values[too_long].str.replace(_HEAD_COUNT, "", regex=True)
                what = "a head count in brackets with more digits"
        else:
            numbers = values.str.fullmatch(_WHOLE_NUMBER)
            too_long = numbers & values.str.count(r"\d").gt(MAX_NUMBER_DIGITS)
            if too_long.any():
                frame.loc[too_long, column] = ""
                what = "a number with more digits"
        if too_long.any():
            where = [f"{source} row {row}" if source != "survey" else f"data row {row}" for source, row in
                     zip(frame.loc[too_long, "source"], frame.loc[too_long, "row"])]
            warnings.append(f"{column}: {what} than the limit of {MAX_NUMBER_DIGITS} (MAX_NUMBER_DIGITS) in "
                            f"{', '.join(where[:5])}{' and more' if len(where) > 5 else ''}; it is no answer of "
                            "the questionnaire and was left out.")
    return warnings


# ------------------------------------------------------------------------------------------- ingest

def _values_kind(frame: pd.DataFrame) -> str:
    finished = frame.get("finished", pd.Series(dtype=object)).astype(str).str.strip()
    status = frame.get("status", pd.Series(dtype=object)).astype(str).str.strip()
    sample = pd.concat([finished[finished.ne("")], status[status.ne("")]])
    if len(sample) and sample.str.fullmatch(r"-?\d+(?:\.0)?").all():
        return "numeric"
    return "choice_text"


def build_responses(*, export: RawExport, mapping: list[ColumnMapping], instrument: Instrument,
                    settings: Settings) -> tuple[pd.DataFrame, list[str]]:
    """One row per data row with metadata and item fields named as the instrument names them."""
    warnings: list[str] = []
    # Data rows are numbered as in the file, also when rows that repeat the header were skipped.
    frame = pd.DataFrame({"row": np.asarray(export.cells.index, dtype="int64") + 1}, index=export.cells.index)
    for m in mapping:
        if m.target:
            frame[m.target] = export.cells[m.position].astype(str)
    for name in ("status", "finished", "response_id", "progress", "duration", "distribution_channel",
                 "user_language", *instrument.response_fields):
        if name not in frame:
            frame[name] = ""
    if "recorded_date" not in frame and "end_date" in frame:  # legacy exports have no RecordedDate
        frame["recorded_date"] = frame["end_date"]
    zone = export.time_zone or settings.default_time_zone
    if export.time_zone is None and any(c in frame for c in DATE_COLUMNS):
        warnings.append(f"the export names no time zone for its dates; they are read as {zone} "
                        "(setting default_time_zone).")
    for column in DATE_COLUMNS:
        if column not in frame:
            frame[column] = pd.Series(pd.NaT, index=frame.index, dtype=f"datetime64[ns, {zone}]")
            continue
        parsed = parse_dates(frame[column], zone=zone, day_first=export.excel_resaved)
        bad = parsed.isna() & frame[column].str.strip().ne("")
        if bad.any():
            rows = ", ".join(str(r) for r in frame.loc[bad, "row"].head(5))
            warnings.append(f"{column}: {int(bad.sum())} date(s) could not be read (data rows {rows}); "
                            "they are left empty.")
        frame[column] = parsed
    return frame, warnings


MAX_SUPPLEMENT_BYTES = 64 << 20     # a supplement lists a few networks; more is not one


def read_supplement(path: str | Path, *, instrument: Instrument) -> pd.DataFrame:
    """The networks described outside the survey: a CSV whose header names instrument fields (q2, q3, ...)."""
    path = Path(path)
    fix = "Give the CSV of networks described outside the survey, or leave SUPPLEMENT empty to run without one."
    if str(path) in ("", "."):
        raise ExportError(f"{path}: the supplement path is empty or the current folder; leave --supplement out "
                          "(or SUPPLEMENT empty) to run without one, or give the supplement's CSV file.")
    raw = read_input(path, what="the supplement", fix=fix, limit=MAX_SUPPLEMENT_BYTES)
    for magic, kind in RECOGNISED_MAGIC.items():
        if raw.startswith(magic):
            raise ExportError(f"{path}: the supplement is {kind}, not a CSV file. {fix}")
    if raw.startswith((ZIP_MAGIC, *SAV_MAGIC)):
        raise ExportError(f"{path}: the supplement is an Excel or SPSS file; save it as CSV (UTF-8). {fix}")
    if b"\x00" in raw:
        raise ExportError(f"{path}: the supplement holds binary data, not text; save it as CSV (UTF-8). {fix}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows, line = [], 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for row in reader:
            rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as exc:
        if "end of data" in str(exc) or "EOF" in str(exc):
            raise ExportError(f"{path}: the supplement is cut off inside a quoted cell that starts in line {line}; "
                              "a closing quote is missing. Save the file again from the program that made it.")
        raise ExportError(f"{path}: the supplement cannot be split into cells in line {line} ({exc}). {fix}")
    if not rows:
        raise ExportError(f"{path}: the supplement is empty; give a header row of fields (q2, q3, ...).")
    header = [h.strip() for h in rows[0][1]]
    allowed = [f for f in instrument.response_fields if not instrument.item(_item_of(f)).personal]
    unknown = [h for h in header if h not in allowed]
    if unknown:
        shown = ", ".join(repr(h[:40]) if not h.isprintable() or not h else h[:40] for h in unknown[:10])
        raise ExportError(f"{path}: unknown column(s) {shown}; the header may use the fields "
                          f"{', '.join(allowed)}.")
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise ExportError(f"{path}: the supplement's header names {', '.join(twice)} more than once; keep one "
                          "column per field.")
    for required in ("q2", "q3"):
        if required not in header:
            raise ExportError(f"{path}: the supplement needs a column {required} (werkplaats and network name).")
    body = []
    for number, row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            raise ExportError(f"{path}: line {number} of the supplement has {len(row)} cells where the header "
                              f"has {len(header)}; a cell may hold an unquoted {delimiter!r}. Put quotes around "
                              "such cells, or add the missing column to the header.")
        body.append((number, (row + [""] * len(header))[:len(header)]))
    frame = pd.DataFrame([r for _, r in body], columns=header, dtype=object)
    for number, name in zip((n for n, _ in body), frame["q3"] if len(frame) else []):
        if not name.strip():
            raise ExportError(f"{path}: line {number} has no network name in column q3.")
    return frame


def ingest(*, export_path: str | Path, instrument: Instrument, settings: Settings,
           supplement_path: str | Path | None = None, require_instrument: bool = True,
           not_names: frozenset[str] = frozenset()) -> IngestResult:
    """Read, map, filter and de-identify an export (and supplement) into the responses table. Third
    persons' names, e-mail addresses and phone numbers in typed answers become markers (pipeline.reading.deidentify;
    `not_names` are the researcher's exceptions, case-folded).

    Gives responses with response_key, source (survey or supplement), row, the dates, progress, duration,
    distribution_channel, user_language and every non-personal item field, all as text.
    """
    export = read_export(export_path)
    mapping, warnings = map_columns(export=export, instrument=instrument, min_confirmed=settings.min_items_mapped)
    warnings = export.warnings + warnings
    mapped_fields = {m.target for m in mapping if m.kind == "item"}
    items_mapped = [it.id for it in instrument.items if any(f in mapped_fields for f in it.fields)]
    items_missing = [it.id for it in instrument.items if it.id not in items_mapped]
    if require_instrument and len(items_mapped) < settings.min_items_mapped:
        raise ExportError(
            f"{export.path}: only {len(items_mapped)} of {len(instrument.items)} items of the WSD questionnaire "
            f"were found in this export (missing: {', '.join(items_missing)}). It looks like an export of "
            "another survey. Export the WSD survey, or adapt config/instrument.yaml if its questions were renamed.")
    if items_missing:
        warnings.append(f"item(s) {', '.join(items_missing)} not found in the export; their answers are left empty.")
    categories = [f for f in instrument.item("q12").fields if f.endswith("_text")]
    if categories and not any(f in mapped_fields for f in categories):
        lacking = (f"{export.path}: the export has none of the text columns of q12 ({', '.join(categories)}, "
                   "tags Q12_1_TEXT..): the participant categories that the involvement tables are made of")
        if require_instrument:
            raise ExportError(f"{lacking}. Export again with every column (keep the text entries of q12), or "
                              "run `python -m pipeline inspect` on it to see which columns were found.")
        warnings.append(lacking + "; a run will refuse this export.")

    frame, date_warnings = build_responses(export=export, mapping=mapping, instrument=instrument,
                                           settings=settings)
    # The responses now hold every cell that is used; the raw cells are the largest object in memory.
    rows_in_file, export = len(export.cells), replace(export, cells=export.cells.iloc[:0])
    warnings += date_warnings
    unknown_status = sorted({s for s in frame["status"] if s.strip() and s.strip() not in STATUS_TEXT
                             and s.strip() not in STATUS_TEXT.values()})
    if unknown_status:
        warnings.append(f"unknown Status value(s) {', '.join(unknown_status)}: those responses are kept.")
    kept, drops = filter_responses(responses=frame, keep_unfinished=settings.keep_unfinished)
    personal = [f for it in instrument.items if it.personal for f in it.fields]
    clean = remove_personal_data(responses=kept, personal_fields=personal, typed_fields=list(instrument.typed_fields),
                                 salt=settings.response_id_salt)
    drops["response_key"] = pd.Series([hash_response_id(r, salt=settings.response_id_salt) if r else f"row-{row}"
                                       for r, row in zip(drops["response_id"], drops["row"])],
                                      index=drops.index, dtype=str)
    drops = drops.drop(columns="response_id")[["row", "response_key", "reason", "detail"]]
    clean.insert(1, "source", "survey")

    if supplement_path is not None:
        extra = read_supplement(supplement_path, instrument=instrument)
        extra.insert(0, "response_key", [f"supplement-{i}" for i in range(1, len(extra) + 1)])
        extra.insert(1, "source", "supplement")
        extra.insert(2, "row", range(1, len(extra) + 1))
        clean = pd.concat([clean, extra], ignore_index=True)

    # Third persons, in the survey's answers and the supplement's alike; the werkplaats and network name
    # stay as typed and their words are no names in the same response.
    context = [f for it in instrument.with_role("werkplaats", "network_name") for f in it.fields]
    clean = scrub_third_parties(clean, columns=[f for f in instrument.typed_fields if f not in personal],
                                context_columns=context, keep=not_names)
    fields = [f for f in instrument.response_fields if f not in personal]
    columns = ["response_key", "source", "row", *DATE_COLUMNS, "progress", "duration", "distribution_channel",
               "user_language", *fields]
    for column in columns:
        if column not in clean:
            clean[column] = ""
    clean = clean[columns]
    text_columns = [c for c in columns if c not in DATE_COLUMNS and c != "row"]
    clean[text_columns] = clean[text_columns].fillna("").astype(str)
    warnings += limit_numbers(clean, instrument=instrument)
    clean["row"] = clean["row"].astype("int64")
    return IngestResult(export=export, mapping=mapping, values=_values_kind(frame), responses=clean,
                        drops=drops, items_mapped=items_mapped, items_missing=items_missing, warnings=warnings,
                        supplement_path=Path(supplement_path) if supplement_path is not None else None,
                        rows_in_file=rows_in_file)


def file_record(path: str | Path) -> dict:
    """Name, size and SHA-256 of an input file, for the colophon and the manifest."""
    with Path(path).open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
    return {"name": Path(path).name, "bytes": Path(path).stat().st_size, "sha256": digest.hexdigest()}


def write_ingest(result: IngestResult, processed_dir: str | Path, *, settings: Settings | None = None) -> list[Path]:
    """Write responses.parquet, drops.csv, column_mapping.csv and ingest.json (with the settings the
    reading used, for the manifest); returns their paths."""
    processed = Path(processed_dir)
    responses = processed / "responses.parquet"
    write_parquet(result.responses, responses, schema=RESPONSES, extra_text_prefix="q")
    drops = processed / "drops.csv"
    check(result.drops, schema=DROPS, name=str(drops))
    write_atomic(drops, result.drops.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    mapping = processed / "column_mapping.csv"
    frame = pd.DataFrame([{"column": m.position + 1, "export_tag": m.tag, "target": m.target or "",
                           "kind": m.kind, "matched_by": m.matched_by or ""} for m in result.mapping])
    write_atomic(mapping, frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    summary = processed / "ingest.json"
    recorded = result.responses.loc[result.responses["source"] == "survey", "recorded_date"].dropna()
    record = {
        **result.summary(),
        "export_file": file_record(result.export.path),
        "supplement_file": file_record(result.supplement_path) if result.supplement_path else None,
        "supplement_networks": int((result.responses["source"] == "supplement").sum()),
        "first_response": recorded.min().isoformat() if len(recorded) else None,
        "last_response": recorded.max().isoformat() if len(recorded) else None,
        "drops": result.drops[["row", "reason", "detail"]].to_dict(orient="records"),
        "settings": settings.record() if settings else None,
    }
    write_atomic(summary, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return [responses, drops, mapping, summary]


def run(config: Config, *, export: Path, supplement: Path | None, processed: Path) -> tuple[IngestResult, list[Path]]:
    """The stage: the export (and supplement) read, filtered and de-identified into `processed`."""
    result = ingest(export_path=export, supplement_path=supplement, instrument=config.instrument,
                    settings=config.settings, not_names=load_not_names(config.folder))
    return result, write_ingest(result, processed, settings=config.settings)

"""Which export column is which item: by export tag, then by the label's wording, then by ImportId.

Takes a RawExport and the instrument, gives one ColumnMapping per column (an item field, a metadata field
or nothing) and the items the export does not have. Knows Qualtrics' column naming, nothing about rows."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from pipeline.core.config import Instrument, Item
from pipeline.reading.qualtrics import RawExport, strip_html


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
    confirmed_items = {item_of(t) for _, t, how, ok in found if how not in (None, "metadata") and ok}
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


def item_of(field_name: str) -> str:
    return field_name.split("_")[0]

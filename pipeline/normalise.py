"""Normalise: from responses to the networks and involvement tables.

Decodes choice answers from text or numeric exports alike, parses start years, sorts initiators and
participant categories into the taxonomies of config/taxonomies.yaml, and cleans free text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rapidfuzz import fuzz

from pipeline.config import Choice, Instrument, Taxonomies
from pipeline.dutch import all_matches, best_match
from pipeline.schemas import INVOLVEMENT, NETWORKS, write_atomic, write_parquet

YES_NO_ITEMS = ("q13", "q14", "q15", "q16", "q18", "q20", "q21", "q22", "q24")
FREE_TEXT_ITEMS = ("q7", "q8", "q9", "q10", "q11", "q17", "q19", "q23")
MONTHS = ("jan", "feb", "mrt", "maa", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
          "voorjaar", "zomer", "najaar", "winter", "begin", "eind")
APPROXIMATE = re.compile(r"\b(?:ca\.?|circa|ongeveer|rond|omstreeks|±|~)", re.IGNORECASE)
YEAR = re.compile(r"\b(19[89]\d|20\d\d)\b")
HEAD_COUNT = re.compile(r"\s*\((\d+)\)\s*$")
BULLET = re.compile(r"^\s*(?:[-–•*·▪]|\d+[.)])\s+", re.MULTILINE)


@dataclass
class Normalised:
    networks: pd.DataFrame
    involvement: pd.DataFrame
    unmatched_groups: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def clean_text(value: str, *, empty_answers: tuple[str, ...]) -> str:
    """Whitespace collapsed, bullets as "- " and numbering as "1. "; answers meaning nothing become ""."""
    text = unicodedata.normalize("NFC", value or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    lines = [line for line in lines if line]

    def bullet(line: str) -> str:
        numbered = re.match(r"^(\d+)[.)]\s+(.*)$", line)
        if numbered:
            return f"{numbered.group(1)}. {numbered.group(2)}"
        return BULLET.sub("- ", line)

    cleaned = "\n".join(bullet(line) for line in lines)
    return "" if cleaned.casefold().strip(" .") in {a.strip(" .") for a in empty_answers} else cleaned


def decode_choice(value: str, choices: tuple[Choice, ...]) -> int | None:
    """A choice answer as its recode value, from a numeric export ("2") or choice text ("Ja, namelijk:")."""
    text = (value or "").strip()
    if not text:
        return None
    if re.fullmatch(r"-?\d+(?:\.0)?", text):
        number = int(float(text))
        return number if any(c.value == number for c in choices) else None
    folded = re.sub(r"\s+", " ", text).casefold().rstrip(" :")
    for choice in choices:
        if folded == choice.label.casefold().rstrip(" :"):
            return choice.value
    scored = [(fuzz.ratio(folded, c.label.casefold().rstrip(" :")), c.value) for c in choices]
    score, best = max(scored)
    return best if score >= 85 else None


def parse_start(text: str) -> tuple[int | None, str]:
    """(start year, precision) of a q5 answer; precision is year, month, approximate or unknown."""
    years = YEAR.findall(text or "")
    if not years:
        return None, "unknown"
    year = int(years[0])
    if APPROXIMATE.search(text):
        return year, "approximate"
    if any(re.search(rf"\b{m}", text.casefold()) for m in MONTHS):
        return year, "month"
    return year, "year"


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.casefold()).strip("-")[:60] or "netwerk"


def _network_ids(werkplaats: pd.Series, names: pd.Series) -> list[str]:
    ids, seen = [], {}
    for w, n in zip(werkplaats, names):
        base = slug(f"{w} {n}")
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def normalise(*, responses: pd.DataFrame, instrument: Instrument, taxonomies: Taxonomies) -> Normalised:
    """Networks and involvement from the responses table.

    Takes response_key, source and the item fields q2..q24 (text); gives
    networks: network_id, werkplaats, name, initiator, initiator_types, start_year, start_text,
    start_precision, status, stop_reason, source, the cleaned free text of q7-q11, q17, q19 and q23, and
    per yes/no item <q> (ja, nee or "") and <q>_text;
    involvement: network_id, row, category_label, category_text, head_count, participant_group, level;
    unmatched_groups: category_label and the networks naming it, for labels no group matched.
    """
    warnings: list[str] = []
    empty = taxonomies.empty_answers
    cleaned: dict[str, str] = {}

    def clean(value: str) -> str:
        if value not in cleaned:
            cleaned[value] = clean_text(value, empty_answers=empty)
        return cleaned[value]

    text = {c: responses[c].map(clean) for c in responses.columns if re.fullmatch(r"q\d+(?:_\d+)?(?:_text)?", c)}
    network_ids = _network_ids(text["q2"], text["q3"])
    initiator_vocab = taxonomies.vocab(taxonomies.initiator_types)

    networks = pd.DataFrame({
        "network_id": network_ids,
        "werkplaats": text["q2"],
        "name": text["q3"].where(text["q3"].ne(""), responses["q3"].str.strip()),
        "initiator": text["q4"],
    })
    networks["initiator_types"] = [";".join(all_matches(v, initiator_vocab) or (["overig"] if v else []))
                                   for v in text["q4"]]
    starts = [parse_start(v) for v in responses["q5"]]
    networks["start_year"] = pd.array([y for y, _ in starts], dtype="Int64")
    networks["start_text"] = responses["q5"].str.strip()
    networks["start_precision"] = [p for _, p in starts]
    q6 = instrument.item("q6")
    codes = [decode_choice(v, q6.choices) for v in responses["q6"]]
    networks["status"] = ["loopt" if c == 1 else "gestopt" if c == 2 else "onbekend" for c in codes]
    networks["stop_reason"] = text["q6_text"].where(networks["status"].eq("gestopt"), "")
    unknown = sorted({v for v, c in zip(responses["q6"], codes) if v.strip() and c is None})
    if unknown:
        warnings.append(f"q6: unknown answer(s) {', '.join(map(repr, unknown))}; status left 'onbekend'.")
    networks["source"] = responses["source"].to_numpy()
    for item_id in FREE_TEXT_ITEMS:
        networks[item_id] = text[item_id].to_numpy() if item_id in text else ""
    for item_id in YES_NO_ITEMS:
        item = instrument.item(item_id)
        decoded = [decode_choice(v, item.choices) for v in responses[item_id]]
        networks[item_id] = ["ja" if c == 2 else "nee" if c == 1 else "" for c in decoded]
        if f"{item_id}_text" in text:
            networks[f"{item_id}_text"] = text[f"{item_id}_text"].to_numpy()
        bad = sorted({v for v, c in zip(responses[item_id], decoded) if v.strip() and c is None})
        if bad:
            warnings.append(f"{item_id}: unknown answer(s) {', '.join(map(repr, bad))}; left empty.")

    involvement, level_warnings = _involvement(responses=responses, text=text, network_ids=network_ids,
                                               instrument=instrument, taxonomies=taxonomies)
    warnings += level_warnings
    unmatched = (involvement[involvement["participant_group"] == "overig"]
                 .groupby("category_label", sort=True)["network_id"].agg(lambda s: ";".join(sorted(set(s))))
                 .reset_index().rename(columns={"network_id": "networks"}))
    return Normalised(networks=networks.reset_index(drop=True), involvement=involvement,
                      unmatched_groups=unmatched, warnings=warnings)


def _involvement(*, responses, text, network_ids, instrument, taxonomies) -> tuple[pd.DataFrame, list[str]]:
    q12 = instrument.item("q12")
    scale = q12.scale
    group_vocab = taxonomies.vocab(taxonomies.participant_groups)
    records, unknown_levels = [], set()
    # Labels and levels repeat across networks ("Docenten", "Hoge betrokkenheid"): decide each once.
    groups: dict[str, str | None] = {}
    levels: dict[str, int | None] = {}
    columns = {row.value: (text[f"q12_{row.value}_text"].tolist(), responses[f"q12_{row.value}"].tolist())
               for row in q12.rows}
    for position, network_id in enumerate(network_ids):
        for row in q12.rows:
            label_text = columns[row.value][0][position]
            raw_level = columns[row.value][1][position]
            if not label_text:
                continue
            match = HEAD_COUNT.search(label_text)
            label = HEAD_COUNT.sub("", label_text).strip()
            if raw_level not in levels:
                levels[raw_level] = decode_choice(raw_level, scale)
            level = levels[raw_level]
            if raw_level.strip() and level is None:
                unknown_levels.add(raw_level.strip())
            if label not in groups:
                groups[label] = best_match(label, group_vocab)[0]
            group = groups[label]
            records.append({"network_id": network_id, "row": row.value, "category_label": label,
                            "category_text": label_text, "head_count": int(match.group(1)) if match else None,
                            "participant_group": group or "overig", "level": level})
    frame = pd.DataFrame(records, columns=["network_id", "row", "category_label", "category_text", "head_count",
                                           "participant_group", "level"])
    frame["head_count"] = frame["head_count"].astype("Int64")
    frame["level"] = frame["level"].astype("Int64")
    warnings = [f"q12: involvement label {v!r} is not on the scale; its level is left empty."
                for v in sorted(unknown_levels)]
    return frame, warnings


def write_normalised(result: Normalised, processed_dir: str | Path) -> list[Path]:
    """Write networks.parquet, involvement.parquet, unmatched_groups.csv and normalise.json; returns their paths."""
    processed = Path(processed_dir)
    networks, involvement = processed / "networks.parquet", processed / "involvement.parquet"
    write_parquet(result.networks, networks, schema=NETWORKS, extra_text_prefix="q")
    write_parquet(result.involvement, involvement, schema=INVOLVEMENT)
    unmatched = processed / "unmatched_groups.csv"
    write_atomic(unmatched, result.unmatched_groups.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    summary = processed / "normalise.json"
    record = {"networks": len(result.networks), "categories": len(result.involvement),
              "unmatched_labels": len(result.unmatched_groups), "warnings": result.warnings}
    write_atomic(summary, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return [networks, involvement, unmatched, summary]

"""Normalise: from responses to the networks and involvement tables.

Decodes choice answers from text or numeric exports alike and reads them by what they mean (ja/nee,
loopt/gestopt, as config/instrument.yaml declares), parses start years, sorts initiators and participant
categories into the taxonomies of config/taxonomies.yaml, and cleans free text. Which item is which comes
from the instrument's roles.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rapidfuzz import fuzz

from pipeline.core.config import Choice, Instrument, Taxonomies
from pipeline.language.matching import CERTAIN, FUZZY, MODIFIER, NONE, Speller, all_matches, group_match, SPELL_MIN
from pipeline.core.stage import Context
from pipeline.core.schemas import INVOLVEMENT, NETWORKS, RESPONSES, read_parquet, write_atomic, write_parquet
from pipeline.core.wave_files import group_label_key, load_group_decisions

ID_LENGTH = 60
MONTHS = ("jan", "feb", "mrt", "maa", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
          "voorjaar", "zomer", "najaar", "winter", "begin", "eind")
APPROXIMATE = re.compile(r"\b(?:ca\.?|circa|ongeveer|rond|omstreeks|±|~)", re.IGNORECASE)
YEAR = re.compile(r"\b(19[89]\d|20\d\d)\b")
HEAD_COUNT = re.compile(r"\s*\((\d+)\)\s*$")


@dataclass
class Normalised:
    networks: pd.DataFrame
    involvement: pd.DataFrame
    group_review: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    decided_labels: int = 0     # labels placed by the wave's group decisions


def clean_texts(values: pd.Series, *, empty_answers: tuple[str, ...]) -> pd.Series:
    """Whitespace collapsed, bullets as "- " and numbering as "1. "; answers meaning nothing become "".
    Whole columns at a time (Arrow's string kernels), so a wave of any size is cleaned in seconds."""
    text = values.fillna("").astype(str).str.normalize("NFC")
    text = text.str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False)
    text = text.str.replace("[ \t\u00a0]+", " ", regex=True)               # spaces within lines
    text = text.str.replace(" ?\n[ \n]*", "\n", regex=True).str.strip(" \n")  # empty lines and line ends
    text = text.str.replace("(?m)^([0-9]+)[.)] ", "\\1. ", regex=True)      # "1) " and "1. " -> "1. "
    text = text.str.replace("(?m)^[-–•*·▪] ", "- ", regex=True)             # bullets -> "- "
    meaningless = text.str.casefold().str.strip(" .").isin({a.strip(" .") for a in empty_answers})
    return text.where(~meaningless.to_numpy(dtype=bool), "")


def clean_text(value: str, *, empty_answers: tuple[str, ...]) -> str:
    """clean_texts for one answer."""
    return clean_texts(pd.Series([value], dtype=str), empty_answers=empty_answers).iloc[0]


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
    """Lower-case ASCII words joined by hyphens: "Zuid-Holland Zuid" -> "zuid-holland-zuid"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.casefold()).strip("-") or "netwerk"


def _words_within(words: list[str], length: int) -> int:
    """How many of the first words fit in `length` characters joined by hyphens (at least one)."""
    n, used = 0, -1
    while n < len(words) and used + 1 + len(words[n]) <= length:
        used += 1 + len(words[n])
        n += 1
    return max(1, n)


def _network_ids(werkplaats: pd.Series, names: pd.Series) -> list[str]:
    """Readable, stable ids from werkplaats and name: whole words up to ID_LENGTH characters; where two
    different names would shorten to the same id, each keeps words until it differs from the others.
    Only networks of the same werkplaats and name get -2, -3."""
    full = [slug(f"{w} {n}") for w, n in zip(werkplaats, names)]
    words = {f: f.split("-") for f in dict.fromkeys(full)}
    keep = {f: _words_within(parts, ID_LENGTH) for f, parts in words.items()}
    by_base: dict[str, list[str]] = {}
    for f, parts in words.items():
        by_base.setdefault("-".join(parts[:keep[f]]), []).append(f)
    for group in (g for g in by_base.values() if len(g) > 1):
        for f in group:
            others = [words[g] for g in group if g != f]
            while keep[f] < len(words[f]) and any(o[:keep[f]] == words[f][:keep[f]] for o in others):
                keep[f] += 1
    ids, seen = [], {}
    for f in full:
        base = "-".join(words[f][:keep[f]])
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


DECIDED = "decided"     # how a label was placed when the wave's group_decisions.csv names it
GROUP_REVIEW_COLUMNS = ["category_label", "participant_group", "how", "term", "networks"]


def assign_groups(labels: pd.Series, *, taxonomies: Taxonomies, decisions: dict[str, str] | None = None) -> pd.DataFrame:
    """The participant group of each distinct category label: category_label, participant_group, how (head,
    complement, modifier, fuzzy, none or decided) and term (what decided it: the term, the words read, or
    empty). A decision of the wave (group_label_key -> group) wins over the match."""
    decisions = decisions or {}
    vocab = taxonomies.vocab(taxonomies.participant_groups)
    speller = Speller(frozenset(p.word for terms in vocab.values() for t in terms for p in t.parts
                                if len(p.word) >= SPELL_MIN))
    rows = []
    for label in pd.unique(labels):
        decided = decisions.get(group_label_key(label))
        if decided is not None:
            rows.append((label, decided, DECIDED, ""))
            continue
        found = group_match(label, vocab, generic=taxonomies.generic_heads, speller=speller)
        why = (", ".join(f"{w} as {c}" for w, c in found.read_as) if found.how == FUZZY
               else found.term.text if found.term is not None else "")
        rows.append((label, found.group or "overig", found.how, why))
    return pd.DataFrame(rows, columns=["category_label", "participant_group", "how", "term"], dtype=object)


def groups_to_review(*, involvement: pd.DataFrame, placed: pd.DataFrame) -> pd.DataFrame:
    """The labels of `placed` (assign_groups) the researcher should check, GROUP_REVIEW_COLUMNS, with the
    networks (network_id of involvement, joined by ";") that name them."""
    # Overig is listed even when a term of it matched: no label is counted there without the researcher seeing it.
    uncertain = placed[placed["how"].ne(DECIDED) & (~placed["how"].isin(CERTAIN) | placed["participant_group"].eq("overig"))]
    named_by = involvement.groupby("category_label", sort=False)["network_id"].agg(lambda s: ";".join(sorted(set(s))))
    return (uncertain.assign(networks=uncertain["category_label"].map(named_by))
            .sort_values("category_label", kind="stable").reset_index(drop=True)[GROUP_REVIEW_COLUMNS])


def group_warnings(review: pd.DataFrame, *, item: str) -> list[str]:
    """One line per label of the review table (GROUP_REVIEW_COLUMNS) that says how it was placed."""
    out = []
    for r in review.itertuples(index=False):
        if r.how == MODIFIER:
            how = f"placed in {r.participant_group} by its modifier {r.term!r} only"
        elif r.how == FUZZY:
            how = f"placed in {r.participant_group} reading {r.term} (a typing slip?)"
        else:
            how = "matches no participant group: counted as overig"
        out.append(f"{item}: category label {r.category_label!r} ({r.networks}) {how}.")
    return out


def normalise(*, responses: pd.DataFrame, instrument: Instrument, taxonomies: Taxonomies,
              group_decisions: dict[str, str] | None = None) -> Normalised:
    """Networks and involvement from the responses table.

    Takes response_key, source and the item fields (text); which item is which comes from the roles of
    the instrument. Gives
    networks: network_id, response_key, werkplaats, name, initiator, initiator_types, start_year, start_text,
    start_precision, status, stop_reason, source, the cleaned text of every text and coded item, and
    per yes/no item <q> (ja, nee or "") and <q>_text;
    involvement: network_id, row, category_label, category_text, head_count, participant_group, level;
    group_review: GROUP_REVIEW_COLUMNS, for the labels placed by a modifier or a typing slip only or in
    overig, which the researcher should check (a label in `group_decisions`, group_label_key -> group, is
    placed there and not listed).
    """
    warnings: list[str] = []
    empty = taxonomies.empty_answers
    text = {c: clean_texts(responses[c], empty_answers=empty)
            for c in responses.columns if re.fullmatch(r"q\d+(?:_\d+)?(?:_text)?", c)}
    werkplaats, name, initiator, start, status = (instrument.the(role).id for role in
                                                  ("werkplaats", "network_name", "initiator", "start", "status"))
    network_ids = _network_ids(text[werkplaats], text[name])
    initiator_vocab = taxonomies.vocab(taxonomies.initiator_types)

    networks = pd.DataFrame({
        "network_id": network_ids,
        "response_key": responses["response_key"].array,
        "werkplaats": text[werkplaats],
        "name": text[name].where(text[name].ne(""), responses[name].str.strip()),
        "initiator": text[initiator],
    })
    networks["initiator_types"] = _each_distinct(
        text[initiator], lambda v: ";".join(all_matches(v, initiator_vocab) or (["overig"] if v else [])))
    starts = _each_distinct(responses[start], parse_start)
    networks["start_year"] = pd.array([y for y, _ in starts], dtype="Int64")
    networks["start_text"] = responses[start].str.strip()
    networks["start_precision"] = [p for _, p in starts]
    status_item = instrument.item(status)
    meanings = _each_distinct(responses[status], lambda v: status_item.value_meaning(decode_choice(v, status_item.choices)))
    networks["status"] = meanings.fillna("onbekend").astype(str)
    stop_text = text.get(f"{status}_text", pd.Series([""] * len(networks), index=responses.index))
    networks["stop_reason"] = stop_text.where(networks["status"].eq("gestopt"), "")
    unknown = sorted(set(responses[status][meanings.isna() & responses[status].str.strip().ne("")]))
    if unknown:
        warnings.append(f"{status}: unknown answer(s) {', '.join(map(repr, unknown))}; status left 'onbekend'.")
    networks["source"] = responses["source"].array
    for item in instrument.with_role("text", "coded"):
        networks[item.id] = text[item.id].array if item.id in text else ""
    for item in instrument.with_role("yes_no"):
        decoded = _each_distinct(responses[item.id], lambda v: item.value_meaning(decode_choice(v, item.choices)))
        networks[item.id] = decoded.fillna("").astype(str)
        if f"{item.id}_text" in text:
            networks[f"{item.id}_text"] = text[f"{item.id}_text"].array
        bad = sorted(set(responses[item.id][decoded.isna() & responses[item.id].str.strip().ne("")]))
        if bad:
            warnings.append(f"{item.id}: unknown answer(s) {', '.join(map(repr, bad))}; left empty.")

    involvement, placed, level_warnings = _involvement(responses=responses, text=text, network_ids=network_ids,
                                                       instrument=instrument, taxonomies=taxonomies,
                                                       decisions=group_decisions)
    warnings += level_warnings
    review = groups_to_review(involvement=involvement, placed=placed)
    warnings += group_warnings(review, item=instrument.the("involvement").id)
    return Normalised(networks=networks.reset_index(drop=True), involvement=involvement,
                      group_review=review, warnings=warnings,
                      decided_labels=int((placed["how"] == DECIDED).sum()))


def _each_distinct(values: pd.Series, decide) -> pd.Series:
    """`decide` applied once per distinct value: labels, levels, choices and short answers repeat across
    networks. Gives a Series on the index of `values`."""
    distinct = pd.unique(values)
    decided = pd.Series([decide(v) for v in distinct], index=distinct, dtype=object)
    return pd.Series(decided.reindex(values).to_numpy(), index=values.index, dtype=object)


def _split_label(label_text: str) -> tuple[str, int | None]:
    """("Docenten", 3) from "Docenten (3)"."""
    match = HEAD_COUNT.search(label_text)
    return HEAD_COUNT.sub("", label_text).strip(), int(match.group(1)) if match else None


def _involvement(*, responses, text, network_ids, instrument, taxonomies, decisions):
    q12 = instrument.the("involvement")
    parts = []
    for row in q12.rows:
        part = pd.DataFrame({"network_id": network_ids, "position": range(len(network_ids)), "row": row.value,
                             "category_text": text[f"{q12.id}_{row.value}_text"].to_numpy(),
                             "raw_level": responses[f"{q12.id}_{row.value}"].to_numpy()})
        parts.append(part[part["category_text"].ne("")])
    frame = pd.concat(parts).sort_values(["position", "row"], kind="stable").reset_index(drop=True)
    labels = _each_distinct(frame["category_text"], _split_label)
    frame["category_label"] = pd.Series([label for label, _ in labels], index=frame.index, dtype=object)
    frame["head_count"] = pd.array([count for _, count in labels], dtype="Int64")
    placed = assign_groups(frame["category_label"], taxonomies=taxonomies, decisions=decisions)
    frame["participant_group"] = frame["category_label"].map(
        dict(zip(placed["category_label"], placed["participant_group"]))).astype(object)
    # No network named a category (an export whose q12 boxes are all empty): the table is empty, with
    # its columns still text.
    for column in ("category_label", "category_text", "participant_group", "network_id"):
        frame[column] = frame[column].astype(str) if len(frame) else pd.Series([], dtype=object)
    frame["level"] = pd.array(_each_distinct(frame["raw_level"], lambda v: decode_choice(v, q12.scale)),
                              dtype="Int64")
    raw_level = frame["raw_level"].astype(str).str.strip()
    warnings = [f"{q12.id}: involvement label {v!r} is not on the scale; its level is left empty."
                for v in sorted(set(raw_level[frame["level"].isna() & raw_level.ne("")]))]
    columns = ["network_id", "row", "category_label", "category_text", "head_count", "participant_group", "level"]
    return frame[columns], placed, warnings


def write_normalised(result: Normalised, processed_dir: str | Path, *, personal: frozenset[str] = frozenset()) -> list[Path]:
    """Write networks.parquet, involvement.parquet, group_review.csv and normalise.json; returns their paths."""
    processed = Path(processed_dir)
    networks, involvement = processed / "networks.parquet", processed / "involvement.parquet"
    write_parquet(result.networks, networks, schema=NETWORKS, extra_text_prefix="q", personal=personal)
    write_parquet(result.involvement, involvement, schema=INVOLVEMENT)
    review = processed / "group_review.csv"
    write_atomic(review, result.group_review.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    summary = processed / "normalise.json"
    record = {"networks": len(result.networks), "categories": len(result.involvement),
              "unmatched_labels": int((result.group_review["how"] == NONE).sum()),
              "uncertain_labels": len(result.group_review),
              "decided_labels": result.decided_labels,
              "warnings": result.warnings}
    write_atomic(summary, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return [networks, involvement, review, summary]


def run(ctx: Context) -> None:
    """The stage: the responses (of ingest, or read from the processed folder) normalised and written there,
    with the wave's group decisions (group_decisions.csv) applied; gives the frames `networks` and
    `involvement`."""
    responses = ctx.frame("responses", lambda: read_parquet(ctx.processed / "responses.parquet", schema=RESPONSES,
                                                            extra_text_prefix="q"))
    taxonomies = ctx.config.taxonomies
    decisions_file = ctx.wave.group_decisions if ctx.wave is not None else None
    decisions = load_group_decisions(decisions_file, groups=tuple(c.code for c in taxonomies.participant_groups))
    result = normalise(responses=responses, instrument=ctx.config.instrument, taxonomies=taxonomies,
                       group_decisions=decisions)
    written = write_normalised(result, ctx.processed, personal=ctx.config.instrument.personal_fields)
    uncertain = len(result.group_review)
    decide = (f"decide them in {decisions_file} (`python -m pipeline groups --wave {ctx.wave.name}` writes them "
              "with the group proposed)" if ctx.wave is not None else "see group_review.csv")
    ctx.tell(f"normalise  {len(result.networks)} networks, {len(result.involvement)} participant categories"
             + (f"; {uncertain} category label(s) placed uncertainly or in overig: {decide}" if uncertain else ""))
    ctx.warn(result.warnings)
    ctx.wrote(written)
    ctx.give(networks=result.networks, involvement=result.involvement)

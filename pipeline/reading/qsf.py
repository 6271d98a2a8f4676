"""The survey definition (Qualtrics' .qsf export) against config/instrument.yaml: which items were
added, removed or reworded, and which choices or scale labels changed, before a wave is run.

A .qsf is JSON: its SurveyElements of Element "SQ" are the questions, each with a DataExportTag, a
QuestionID (the ImportId stem), its text (HTML), its choices and, for a matrix, its answers (the scale).
Questions in the trash block are left out.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from pipeline.core.config import Instrument
from pipeline.core.errors import PipelineError

MAX_QSF_BYTES = 50 * 1024 * 1024
REWORDED = 90          # wording similarity (0-100) below which an item counts as reworded


@dataclass(frozen=True)
class QsfQuestion:
    qid: str
    tag: str
    text: str                               # plain text, tags and entities removed
    kind: str                               # QuestionType: MC, TE, Matrix, ...
    choices: tuple[tuple[int | str, str], ...]
    answers: tuple[tuple[int | str, str], ...]


def _plain(markup: str) -> str:
    text = re.sub(r"<[^>]+>", " ", markup or "")
    return " ".join(html.unescape(text).split())


def _options(payload: dict, key: str, recodes: dict | None) -> tuple[tuple[int | str, str], ...]:
    options = payload.get(key) or {}
    if not isinstance(options, dict):
        return ()
    order = payload.get("ChoiceOrder") if key == "Choices" and isinstance(payload.get("ChoiceOrder"), list) else None
    ids = [str(i) for i in order] if order else list(options)
    out = []
    for choice_id in ids:
        entry = options.get(choice_id)
        if not isinstance(entry, dict):
            continue
        value = (recodes or {}).get(choice_id, choice_id)
        try:
            value = int(value)
        except (TypeError, ValueError):
            pass
        out.append((value, _plain(str(entry.get("Display", "")))))
    return tuple(out)


def read_qsf(path: Path) -> list[QsfQuestion]:
    """The questions of a .qsf, in the order of its blocks; a file that is not one is one clear error."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: not found (or not a file); export the survey from Qualtrics with "
                            "Tools > Import/Export > Export Survey (a .qsf file).")
    if path.stat().st_size > MAX_QSF_BYTES:
        raise PipelineError(f"{path}: larger than {MAX_QSF_BYTES // (1024 * 1024)} MB, which no survey "
                            "definition is; give the .qsf of the survey.")
    try:
        survey = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PipelineError(f"{path}: not a Qualtrics survey definition ({exc.__class__.__name__}); give the .qsf "
                            "that Qualtrics exports.")
    elements = survey.get("SurveyElements") if isinstance(survey, dict) else None
    if not isinstance(elements, list):
        raise PipelineError(f"{path}: has no SurveyElements; give the .qsf that Qualtrics exports.")
    trashed, order = set(), []
    for element in elements:
        if isinstance(element, dict) and element.get("Element") == "BL":
            blocks = element.get("Payload")
            blocks = blocks.values() if isinstance(blocks, dict) else blocks or []
            for block in blocks:
                if not isinstance(block, dict):
                    continue
                ids = [e.get("QuestionID") for e in block.get("BlockElements") or [] if isinstance(e, dict)]
                (trashed.update if block.get("Type") == "Trash" else order.extend)(ids)
    questions = {}
    for element in elements:
        if not isinstance(element, dict) or element.get("Element") != "SQ":
            continue
        payload = element.get("Payload") or {}
        if not isinstance(payload, dict):
            continue
        qid = str(payload.get("QuestionID") or element.get("PrimaryAttribute") or "")
        if not qid or qid in trashed:
            continue
        recodes = payload.get("RecodeValues") if isinstance(payload.get("RecodeValues"), dict) else None
        questions[qid] = QsfQuestion(qid=qid, tag=str(payload.get("DataExportTag") or ""),
                                     text=_plain(str(payload.get("QuestionText") or "")),
                                     kind=str(payload.get("QuestionType") or ""),
                                     choices=_options(payload, "Choices", recodes),
                                     answers=_options(payload, "Answers", None))
    ranked = {qid: i for i, qid in enumerate(order)}
    return sorted(questions.values(), key=lambda q: (ranked.get(q.qid, len(ranked)), q.qid))


def _folded(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.replace("**", "").casefold()).split())


def differences(questions: list[QsfQuestion], instrument: Instrument) -> list[str]:
    """What differs between the survey definition and the instrument, one line each with what to edit."""
    by_tag = {q.tag.casefold(): q for q in questions if q.tag}
    by_qid = {q.qid.casefold(): q for q in questions}
    used, lines, alike = set(), [], 0
    for item in instrument.items:
        question = by_tag.get(item.export_tag.casefold()) or by_qid.get(item.import_id.casefold())
        if question is None:
            candidates = [(fuzz.ratio(_folded(item.plain_wording), _folded(q.text)), q) for q in questions
                          if q.qid not in used]
            score, best = max(candidates, key=lambda c: c[0], default=(0, None))
            question = best if score >= REWORDED else None
        if question is None:
            lines.append(f"{item.id} ({item.export_tag}) is not in the survey: removed, or renamed beyond recognition. "
                         f"If it was removed, remove {item.id} from config/instrument.yaml (or leave it: its answers "
                         "will be empty).")
            continue
        used.add(question.qid)
        if question.tag and question.tag != item.export_tag:
            lines.append(f"{item.id}: its export tag is {question.tag} in the survey, {item.export_tag} in "
                         "config/instrument.yaml; set export_tag there.")
        similarity = fuzz.ratio(_folded(item.plain_wording), _folded(question.text))
        alike += similarity >= REWORDED
        if similarity < REWORDED:
            lines.append(f"{item.id} is reworded ({similarity:.0f}% alike): the survey asks {question.text!r}; "
                         "update its wording in config/instrument.yaml, and check the report's use of it.")
        expected = [(c.value, c.label) for c in (item.rows if item.type == "matrix" else item.choices)]
        given = [(v, label) for v, label in question.choices]
        if expected and given and [_folded(l) for _, l in expected] != [_folded(l) for _, l in given]:
            lines.append(f"{item.id}: its choices are {', '.join(l for _, l in given)!s} in the survey; "
                         f"config/instrument.yaml has {', '.join(l for _, l in expected)}. Update the choices "
                         "(and their meaning) there.")
        elif expected and given and [v for v, _ in expected] != [v for v, _ in given]:
            lines.append(f"{item.id}: its recode values are {', '.join(str(v) for v, _ in given)} in the survey, "
                         f"{', '.join(str(v) for v, _ in expected)} in config/instrument.yaml; set the values there.")
        if item.type == "matrix" and question.answers:
            scale = [_folded(c.label) for c in item.scale]
            if scale != [_folded(label) for _, label in question.answers]:
                lines.append(f"{item.id}: its scale is {', '.join(l for _, l in question.answers)} in the survey; "
                             "update the scale in config/instrument.yaml.")
    for question in questions:
        if question.qid not in used and question.kind not in ("DB",):    # DB: text shown, nothing asked
            lines.append(f"{question.tag or question.qid} is new in the survey ({question.text[:80]!r}): declare it "
                         "in config/instrument.yaml (role and report) to use its answers; until then it is "
                         "reported as an unmapped column.")
    if alike < len(instrument.items) / 2:
        lines.insert(0, f"only {alike} of the {len(instrument.items)} items of config/instrument.yaml are asked in "
                        "these words: this looks like the definition of another survey.")
    return lines

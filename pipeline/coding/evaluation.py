"""How well the codebook's rules find the themes: precision, recall and F1 per theme and overall.

Measured twice: on the codebook's own examples (what the rules are written from) and on a validation
set of answers coded by hand from the theme definitions, which the rules never saw (what they are judged
on). Answers are coded as the pipeline codes them: all rules of the item's themes on the whole answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.coding.rules import apply_rules
from pipeline.core.codebook import Codebook
from pipeline.core.files import PROJECT_ROOT, read_yaml
from pipeline.core.errors import ConfigError
from pipeline.coding.suggest import fit, suggest

VALIDATION = PROJECT_ROOT / "tests" / "data" / "coding_validation.yaml"


@dataclass(frozen=True)
class Answer:
    id: str
    item: str
    text: str
    themes: frozenset[str]
    judged: frozenset[str] | None = None    # the themes the labels speak for; None: every theme of the item


def examples(codebook: Codebook) -> list[Answer]:
    """Each example sentence of the codebook as an answer. It speaks only for the themes it is an example
    of: a positive example must carry its theme, a negative one must not; about other themes it says
    nothing ("Een learning community." is a negative example of community of practice, not of
    leergemeenschap)."""
    positives: dict[tuple[str, str], set[str]] = {}
    judged: dict[tuple[str, str], set[str]] = {}
    for theme in codebook.themes:
        for text in (*theme.positive, *theme.negative):
            judged.setdefault((theme.item, text), set()).add(theme.code)
            positives.setdefault((theme.item, text), set())
        for text in theme.positive:
            positives[(theme.item, text)].add(theme.code)
    return [Answer(id=f"e{i}", item=item, text=text, themes=frozenset(positives[(item, text)]),
                   judged=frozenset(judged[(item, text)]))
            for i, (item, text) in enumerate(positives, start=1)]


def load_validation(path: Path, codebook: Codebook) -> list[Answer]:
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("answers"), list):
        raise ConfigError(f"{path}: expected a mapping with a list of answers (id, item, text, themes).")
    out = []
    for entry in raw["answers"]:
        item = str(entry.get("item", ""))
        known = {t.code for t in codebook.themes_for(item)}
        themes = set(entry.get("themes") or [])
        if not known or themes - known:
            raise ConfigError(f"{path}: answer {entry.get('id')}: item {item!r} or theme(s) "
                              f"{', '.join(sorted(themes - known))} not in the codebook.")
        out.append(Answer(id=str(entry["id"]), item=item, text=str(entry.get("text") or ""), themes=frozenset(themes)))
    return out


def _f1(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float | None]:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return precision, recall, f1


def evaluate(answers: list[Answer], codebook: Codebook) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per theme (item, theme, label, answers, tp, fp, fn, precision, recall, f1) and overall (for the
    themes and for the methods, micro-averaged over every answer and theme of their items)."""
    frame = pd.DataFrame({"network_id": [a.id for a in answers], "werkplaats": "", "name": ""})
    for item in codebook.items:
        frame[item] = [a.text if a.item == item else "" for a in answers]
    found = apply_rules(networks=frame, codebook=codebook)
    coded = set(zip(found["network_id"], found["theme"]))
    rows = []
    for theme in codebook.themes:
        these = [a for a in answers if a.item == theme.item and (a.judged is None or theme.code in a.judged)]
        tp = sum((a.id, theme.code) in coded and theme.code in a.themes for a in these)
        fp = sum((a.id, theme.code) in coded and theme.code not in a.themes for a in these)
        fn = sum((a.id, theme.code) not in coded and theme.code in a.themes for a in these)
        rows.append({"item": theme.item, "theme": theme.code, "label": theme.label,
                     "answers": sum(theme.code in a.themes for a in these), "tp": tp, "fp": fp, "fn": fn,
                     **dict(zip(("precision", "recall", "f1"), _f1(tp, fp, fn)))})
    per_theme = pd.DataFrame(rows)
    overall = []
    methods = per_theme["item"].isin(codebook.method_items)
    for name, mask in (("themes", ~methods), ("methods", methods)):
        part = per_theme[mask]
        tp, fp, fn = int(part["tp"].sum()), int(part["fp"].sum()), int(part["fn"].sum())
        overall.append({"set": name, "items": ", ".join(sorted(set(part["item"]))), "tp": tp, "fp": fp, "fn": fn,
                        **dict(zip(("precision", "recall", "f1"), _f1(tp, fp, fn)))})
    return per_theme, pd.DataFrame(overall)


def evaluate_suggestions(answers: list[Answer], codebook: Codebook, *,
                         thresholds: tuple[float, ...], rules: bool = True) -> pd.DataFrame:
    """How well the coder's suggestions (pipeline.coding.suggest, fitted on the codebook's examples only) find
    what the rules missed, per threshold: suggestions made, right (tp) and wrong (fp), themes the rules
    missed that no suggestion offers (fn), precision, recall (of what the rules missed), and the recall of
    rules and right suggestions together. Gives threshold, group (themes, methods) and those counts.

    With `rules` False the model is judged alone, as if no rule had coded anything: on a set the rules
    were written from (the development set), they leave too little for the suggestions to be judged on."""
    frame = pd.DataFrame({"network_id": [a.id for a in answers], "response_key": [a.id for a in answers],
                          "werkplaats": "", "name": ""})
    for item in codebook.items:
        frame[item] = [a.text if a.item == item else "" for a in answers]
    found = apply_rules(networks=frame, codebook=codebook)
    if not rules:
        found = found.iloc[0:0]
    by_rule = set(zip(found["network_id"], found["theme"]))
    gold = {(a.id, t) for a in answers for t in a.themes}
    item_of = {a.id: a.item for a in answers}
    model = fit(codebook=codebook)
    lowest = suggest(networks=frame, codes=found, codebook=codebook, model=model, threshold=min(thresholds))
    rows = []
    for threshold in thresholds:
        offered = lowest[lowest["score"] >= threshold]
        pairs = set(zip(offered["network_id"], offered["theme"]))
        for group, is_method in (("themes", False), ("methods", True)):
            def ours(pair):
                return (item_of[pair[0]] in codebook.method_items) == is_method
            mine = {p for p in pairs if ours(p)}
            missed = {p for p in gold - by_rule if ours(p)}
            tp, fp = len(mine & gold), len(mine - gold)
            fn = len(missed - mine)
            precision, recall, _ = _f1(tp, fp, fn)
            total = {p for p in gold if ours(p)}
            rows.append({"threshold": threshold, "group": group, "suggestions": len(mine), "tp": tp, "fp": fp,
                         "fn": fn, "precision": precision, "recall": recall,
                         "recall_with_rules": (len(total & by_rule) + tp) / len(total) if total else None})
    return pd.DataFrame(rows)

"""The coding workbook: a human coder checks the automatic codes; the edits come back as the wave's
corrections, and the rows reviewed as its reviews.

One sheet per coded item, one row per network that answered it: the answer, the automatic codes, the
suggestions of the model (pipeline.coding.suggest), one column per theme of the item (a mark means "this answer
names the theme"), the coder's initials and a reason. A suggested theme's cell is coloured but left empty:
the suggestion counts only when the coder marks it, and then becomes a reviewed code with the suggested
sentence as its evidence. Answers with a suggestion, where the rules and the model disagree, come first.
Hidden sheets keep the rule codes and the suggestions at the time of writing, so agreement and the
import need only the file.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline.coding.rules import apply_rules, sentences
from pipeline.core.wave_files import CORRECTION_COLUMNS, REVIEW_COLUMNS, answer_sha
from pipeline.core.codebook import Codebook
from pipeline.core.errors import PipelineError
from pipeline.core.excel import add_sheet, new_workbook, put, save
from pipeline.coding.rules import answers
from pipeline.coding.suggest import SUGGESTION_COLUMNS

FIXED_COLUMNS = ("network_id", "response_key", "werkplaats", "netwerk", "antwoord", "automatische codes", "suggesties")
SUGGESTIONS_SHEET = "_suggesties"
SUGGESTED_FILL = PatternFill("solid", fgColor="FFF2CC")
ACCEPTED = "suggestie aanvaard"
CODER_COLUMNS = ("codeur", "toelichting")
RULES_SHEET = "_regelcodes"
UNSEEN = ("automatische codes", "suggesties")   # left off a blind sheet
MARK = "x"
YES = {"x", "1", "ja", "j", "yes", "y", "v", "✓"}
NO = {"", "0", "nee", "n", "no", "-"}


def _theme_header(theme) -> str:
    return f"{theme.label} ({theme.code})"


def _score(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def write_coding_sheet(*, networks: pd.DataFrame, codes: pd.DataFrame, codebook: Codebook, path: Path,
                       blind: bool = False, timestamp: datetime, suggestions: pd.DataFrame | None = None,
                       wave: str | None = None) -> int:
    """Write the workbook; returns the number of rows to code.

    Takes networks (network_id, response_key, werkplaats, name and the coded items), codes (network_id,
    item, theme, origin) and suggestions (pipeline.coding.suggest.SUGGESTION_COLUMNS; none on a blind sheet).
    Marks are prefilled with the current codes unless `blind`, for coding without seeing the rules."""
    if blind or suggestions is None:
        suggestions = pd.DataFrame(columns=list(SUGGESTION_COLUMNS))
    suggested: dict[tuple[str, str], list] = {}
    for r in suggestions.itertuples(index=False):
        suggested.setdefault((r.network_id, r.item), []).append(r)
    wb = new_workbook()
    guide = wb.create_sheet("uitleg")
    lines = [
        "Codeerblad leernetwerken: controle van de automatische codering",
        "",
        "Per tabblad een open vraag, per rij het antwoord van één netwerk.",
        "Zet een x in de kolom van elk thema dat het antwoord noemt; maak de cel leeg als het thema er niet in staat.",
        "Vul bij elke rij die je hebt beoordeeld je initialen in onder 'codeur'; rijen zonder codeur tellen niet mee.",
        "Licht een wijziging desgewenst toe onder 'toelichting'.",
        "",
        "Suggesties: zinnen die geen regel codeerde, maar die volgens een model lijken op een thema (kolom "
        "'suggesties': het thema, een score van 0 tot 1 en de zin). De cel van een voorgesteld thema is geel en leeg.",
        "Neem je een suggestie over, zet dan een x in die gele cel: de code komt erbij met de voorgestelde zin als "
        "onderbouwing. Laat je de gele cel leeg, dan verandert er niets.",
        "Antwoorden met suggesties (waar regels en model het oneens zijn) staan bovenaan, de hoogste score eerst.",
        f"Lees het blad daarna in met: python -m pipeline coding-import --wave {wave or '<meting>'} {shlex.quote(path.name)}",
        f"Overeenstemming met de regels (Cohen's kappa): python -m pipeline agreement {shlex.quote(path.name)}",
        "(Typ de opdracht in de map van het project; staat het blad elders, zet dan het pad ervoor.)",
        "",
        f"Codeboek versie {codebook.version}. " + ("Blind: de automatische codes en suggesties staan niet op dit blad."
                                                    if blind else "De kruisjes zijn vooraf ingevuld met de huidige codes."),
        "",
        "Thema's:",
    ]
    for item in codebook.items:
        for theme in codebook.themes_for(item):
            lines.append(f"{item}  {theme.code}: {theme.label}. {theme.definition}")
    for i, line in enumerate(lines, start=1):
        put(guide, i, 1, line)
    guide["A1"].font = Font(bold=True, size=13)
    guide.column_dimensions["A"].width = 140

    current = {(r.network_id, r.item, r.theme) for r in codes.itertuples(index=False)}
    rows = 0
    for item in codebook.items:
        themes = codebook.themes_for(item)
        answered = networks[networks[item].fillna("").ne("")] if item in networks.columns else networks.iloc[0:0]
        records, order, marked = [], [], []
        labels = {t.code: t.label for t in themes}
        for position, n in enumerate(answered.itertuples(index=False)):
            nid, text = n.network_id, getattr(n, item)
            named = [t for t in themes if (nid, item, t.code) in current]
            offered = suggested.get((nid, item), [])
            record = {"network_id": nid, "response_key": n.response_key, "werkplaats": n.werkplaats,
                      "netwerk": n.name, "antwoord": text,
                      "automatische codes": "\n".join(t.label for t in named),
                      "suggesties": "\n".join(f"{labels[r.theme]} ({_score(r.score)}): {r.sentence}" for r in offered)}
            for t in themes:
                record[_theme_header(t)] = "" if blind or t not in named else MARK
            record.update({c: "" for c in CODER_COLUMNS})
            records.append(record)
            marked.append({r.theme for r in offered})
            order.append((-max((r.score for r in offered), default=-1.0), position))
        # Answers where the model offers what the rules did not code first, the surest suggestion first.
        ranked = [i for _, i in sorted(order)]
        records, marked = [records[i] for i in ranked], [marked[i] for i in ranked]
        columns = [c for c in FIXED_COLUMNS if not (blind and c in UNSEEN)]
        columns += [_theme_header(t) for t in themes] + list(CODER_COLUMNS)
        frame = pd.DataFrame(records, columns=columns)
        widths = {"antwoord": 70, "automatische codes": 28, "suggesties": 50, "network_id": 24, "netwerk": 28,
                  "toelichting": 30}
        widths.update({_theme_header(t): 14 for t in themes})
        ws = add_sheet(wb, item, frame, wrap=("antwoord", "automatische codes", "suggesties", "netwerk"),
                       widths=widths)
        ws.freeze_panes = "F2" if blind else "H2"
        ws.column_dimensions["B"].hidden = True   # response_key: names the answer for the import
        ws.row_dimensions[1].height = 60
        first = len(columns) - len(themes) - len(CODER_COLUMNS) + 1
        for r, offered in enumerate(marked, start=2):
            for c, t in enumerate(themes, start=first):
                if t.code in offered:
                    ws.cell(row=r, column=c).fill = SUGGESTED_FILL
        if records:
            marks = DataValidation(type="list", formula1=f'"{MARK}"', allow_blank=True,
                                   error="Zet een x of laat de cel leeg.", showErrorMessage=True)
            ws.add_data_validation(marks)
            marks.add(f"{get_column_letter(first)}2:{get_column_letter(first + len(themes) - 1)}{len(records) + 1}")
            for r in range(2, len(records) + 2):
                for c in range(first, first + len(themes)):
                    ws.cell(row=r, column=c).alignment = Alignment(horizontal="center", vertical="top")
        rows += len(records)

    rule_codes = codes[codes["origin"] != "manual"][["network_id", "item", "theme", "origin"]]
    hidden = add_sheet(wb, RULES_SHEET, rule_codes.reset_index(drop=True))
    hidden.sheet_state = "hidden"
    offered = add_sheet(wb, SUGGESTIONS_SHEET, suggestions[["network_id", "item", "theme", "score", "sentence"]]
                        .reset_index(drop=True))
    offered.sheet_state = "hidden"
    save(wb, path, timestamp=timestamp)
    return rows


@dataclass
class CodedRow:
    network_id: str
    response_key: str
    item: str
    text: str
    coder: str
    reason: str
    themes: frozenset[str]
    suggested: dict[str, tuple[float, str]] = field(default_factory=dict)   # theme -> (score, sentence)


def read_coding_sheet(path: Path, *, codebook: Codebook,
                      default_coder: str | None = None) -> tuple[list[CodedRow], pd.DataFrame]:
    """The rows a coder reviewed (those with initials under 'codeur', or every row given a default coder)
    and the rule codes at the time the sheet was written."""
    if not path.exists():
        raise PipelineError(f"{path}: not found; write one with `python -m pipeline coding-sheet --out {path}`.")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise PipelineError(f"{path}: not an Excel workbook ({exc.__class__.__name__}); "
                            "give the .xlsx that coding-sheet wrote.")
    if RULES_SHEET not in wb.sheetnames:
        raise PipelineError(f"{path}: the hidden sheet {RULES_SHEET} is missing; this is not a coding sheet "
                            "written by `python -m pipeline coding-sheet`.")
    rules = list(wb[RULES_SHEET].iter_rows(values_only=True))
    rule_codes = pd.DataFrame(rules[1:], columns=rules[0]).fillna("").astype(str)
    offered: dict[tuple[str, str], dict[str, tuple[float, str]]] = {}
    if SUGGESTIONS_SHEET in wb.sheetnames:
        table = list(wb[SUGGESTIONS_SHEET].iter_rows(values_only=True))
        for values in table[1:]:
            r = dict(zip(table[0], values))
            try:
                offered.setdefault((str(r["network_id"]), str(r["item"])), {})[str(r["theme"])] = (
                    float(r["score"]), str(r["sentence"] or ""))
            except (KeyError, TypeError, ValueError):
                raise PipelineError(f"{path}: the hidden sheet {SUGGESTIONS_SHEET} was changed; write the sheet "
                                    "again with `python -m pipeline coding-sheet`.")
    reviewed: list[CodedRow] = []
    for item in codebook.items:
        if item not in wb.sheetnames:
            continue
        table = list(wb[item].iter_rows(values_only=True))
        if not table:
            continue
        header = [str(h or "") for h in table[0]]
        for needed in ("network_id", "response_key", "antwoord", *CODER_COLUMNS):
            if needed not in header:
                raise PipelineError(f"{path}, sheet {item}: column {needed!r} is missing; do not rename headers.")
        theme_columns = {}
        for i, h in enumerate(header):
            if h.endswith(")") and "(" in h:
                code = h.rsplit("(", 1)[1].rstrip(")")
                if code in {t.code for t in codebook.themes_for(item)}:
                    theme_columns[code] = i
        for line, values in enumerate(table[1:], start=2):
            cell = dict(zip(header, ["" if v is None else str(v).strip() for v in values]))
            coder = cell.get("codeur") or (default_coder or "").strip()
            if not cell.get("network_id") or not coder:
                continue
            marks = set()
            for code, i in theme_columns.items():
                value = ("" if values[i] is None else str(values[i])).strip().casefold()
                if value in YES:
                    marks.add(code)
                elif value not in NO:
                    raise PipelineError(f"{path}, sheet {item}, row {line}: {values[i]!r} under {header[i]!r}; "
                                        "put an x or leave the cell empty.")
            reviewed.append(CodedRow(network_id=cell["network_id"], response_key=cell["response_key"], item=item,
                                     text=cell["antwoord"],
                                     coder=coder, reason=cell["toelichting"], themes=frozenset(marks),
                                     suggested=offered.get((cell["network_id"], item), {})))
    return reviewed, rule_codes


def was_blind(path: Path, *, codebook: Codebook) -> bool:
    """Whether the sheet hid the rules' codes (written with --blind): no 'automatische codes' column."""
    wb = load_workbook(path, read_only=True)
    for item in codebook.items:
        if item in wb.sheetnames:
            header = next(wb[item].iter_rows(max_row=1, values_only=True), ())
            return "automatische codes" not in [str(h or "") for h in header]
    return False


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def corrections_from_sheet(*, reviewed: list[CodedRow], networks: pd.DataFrame, codebook: Codebook,
                           existing: pd.DataFrame, reviews: pd.DataFrame,
                           sheet_name: str) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], list[str]]:
    """The wave's corrections and reviews after a coder's review in a workbook (see corrections_after_review);
    a row's 'toelichting' is its reason and note, else the reason names the sheet."""
    return corrections_after_review(reviewed=reviewed, networks=networks, codebook=codebook, existing=existing,
                                    reviews=reviews, source=sheet_name, default_reason=f"codeerblad {sheet_name}")


def rule_themes(*, networks: pd.DataFrame, codebook: Codebook) -> set[tuple[str, str, str]]:
    """(network_id, item, theme) of every code the rules give, corrections left out: what a review is compared
    with."""
    rules = apply_rules(networks=networks, codebook=codebook)
    return set(zip(rules["network_id"], rules["item"], rules["theme"]))


def corrections_after_review(*, reviewed: list[CodedRow], networks: pd.DataFrame, codebook: Codebook,
                             existing: pd.DataFrame, reviews: pd.DataFrame, source: str, default_reason: str,
                             rule_set: set[tuple[str, str, str]] | None = None,
                             ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], list[str]]:
    """The wave's corrections and reviews after a coder's review (a workbook's rows or the browser's decisions):
    for each reviewed answer that is unchanged, the differences between the coder and the current rules
    replace that answer's earlier corrections, and the answer is recorded as reviewed, with the coder's reason
    as its note. A marked theme that was suggested is an accepted suggestion: its reason says so and its
    evidence is the suggested sentence. `source` names the review in warnings and accepted suggestions;
    `rule_set` (from rule_themes) saves running the rules again. Takes networks (network_id, response_key and
    the coded items), existing (CORRECTION_COLUMNS) and reviews (REVIEW_COLUMNS). Returns (corrections,
    reviews, counts, warnings)."""
    if rule_set is None:
        rule_set = rule_themes(networks=networks, codebook=codebook)
    texts = {(k, item): (n, t) for item in codebook.items if item in networks.columns
             for k, n, t in zip(networks["response_key"], networks["network_id"], networks[item].fillna(""))}
    warnings, new, done, seen = [], [], set(), []
    counts = {"rows": 0, "add": 0, "remove": 0, "accepted": 0, "skipped": 0}
    for row in reviewed:
        network_id, current = texts.get((row.response_key, row.item), (row.network_id, None))
        if current is None or not _same_text(current, row.text):
            counts["skipped"] += 1
            why = "is not in this wave's data" if current is None else "has a different answer now"
            warnings.append(f"{source}: {row.item} of {row.network_id} {why}; row skipped.")
            continue
        counts["rows"] += 1
        sha = answer_sha(current)
        done.add((row.response_key, row.item))
        seen.append({"response_key": row.response_key, "item": row.item, "answer_sha": sha, "coder": row.coder,
                     "network_id": network_id, "note": row.reason})
        for theme in codebook.themes_for(row.item):
            by_rule = (network_id, row.item, theme.code) in rule_set
            if (theme.code in row.themes) != by_rule:
                action = "add" if theme.code in row.themes else "remove"
                counts[action] += 1
                reason, evidence = row.reason or default_reason, ""
                if action == "add" and theme.code in row.suggested:
                    score, sentence = row.suggested[theme.code]
                    if sentence in sentences(current):
                        counts["accepted"] += 1
                        reason = f"{ACCEPTED} (score {_score(score)}, {source})" + \
                                 (f": {row.reason}" if row.reason else "")
                        evidence = sentence
                    else:
                        warnings.append(f"{source}: the suggested sentence for {theme.code} in {row.item} of "
                                        f"{network_id} is not in the answer; added as the coder's own code.")
                new.append({"response_key": row.response_key, "item": row.item, "answer_sha": sha,
                            "theme": theme.code, "action": action, "coder": row.coder,
                            "reason": reason, "network_id": network_id, "evidence": evidence})

    def replaced(frame, columns, rows):
        keep = frame[[(k, i) not in done for k, i in zip(frame["response_key"], frame["item"])]]
        return pd.concat([keep, pd.DataFrame(rows, columns=list(columns))], ignore_index=True).astype(str)
    return (replaced(existing, CORRECTION_COLUMNS, new), replaced(reviews, REVIEW_COLUMNS, seen), counts, warnings)


def reviewed_share(*, networks: pd.DataFrame, codebook: Codebook, reviews: pd.DataFrame) -> tuple[int, int]:
    """(answers reviewed by a person, coded answers in all): a review counts while its answer is unchanged."""
    coded = answers(networks, codebook.items)
    done = set(zip(reviews["response_key"], reviews["item"], reviews["answer_sha"]))
    hits = sum((k, i, s) in done for k, i, s in zip(coded["response_key"], coded["item"], coded["answer_sha"]))
    return hits, len(coded)


def cohen_kappa(a: int, b: int, c: int, d: int) -> float | None:
    """Kappa from a 2x2 table: a both yes, b only the rules, c only the coder, d both no.
    None when chance agreement is 1 (both always said the same single answer)."""
    n = a + b + c + d
    if n == 0:
        return None
    observed = (a + d) / n
    expected = ((a + b) * (a + c) + (c + d) * (b + d)) / (n * n)
    return None if expected == 1 else (observed - expected) / (1 - expected)


MIN_AGREEMENT_ROWS = 30     # below this, a coefficient is shown with a warning: it says little
# Below this many answers with the theme in either coding, no coefficient is given. Kappa and AC1 then
# describe one to four answers, not the rules: with four, moving one answer to the other side moves kappa by
# a sixth or more, and a bootstrap resamples the same few answers, so its interval collapses (0.00 to 0.00).
MIN_THEME_ANSWERS = 5
TOO_FEW = "te weinig antwoorden"
BOOTSTRAP_SAMPLES = 1000


def gwet_ac1(a: int, b: int, c: int, d: int) -> float | None:
    """Gwet's AC1 from a 2x2 table (a both yes, b only the rules, c only the coder, d both no): like kappa,
    but its chance agreement does not collapse when a theme is rare, where kappa misleads."""
    n = a + b + c + d
    if n == 0:
        return None
    observed = (a + d) / n
    share_yes = ((a + b) / n + (a + c) / n) / 2
    expected = 2 * share_yes * (1 - share_yes)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def kappa_interval(pairs: list[tuple[bool, bool]], *, samples: int = BOOTSTRAP_SAMPLES,
                   seed: int = 20181031) -> tuple[float | None, float | None]:
    """A 95% bootstrap (percentile) interval of Cohen's kappa over the (rules, coder) pairs of one theme;
    a fixed seed, so the same sheet gives the same interval."""
    import random
    if not pairs:
        return None, None
    rng = random.Random(seed)
    values = []
    for _ in range(samples):
        drawn = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        k = cohen_kappa(sum(r and c for r, c in drawn), sum(r and not c for r, c in drawn),
                        sum(c and not r for r, c in drawn), sum(not r and not c for r, c in drawn))
        if k is not None:
            values.append(k)
    if len(values) < samples / 2:      # mostly undefined: the theme is (nearly) constant in the sample
        return None, None
    values.sort()
    low, high = values[int(0.025 * len(values))], values[min(len(values) - 1, int(0.975 * len(values)))]
    # Every resample giving one value means the sample cannot show the uncertainty, not that there is none.
    return (None, None) if round(high - low, 2) == 0 else (low, high)


def agreement(*, reviewed: list[CodedRow], rule_codes: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Per theme, between the rules (as the sheet recorded them) and the coder: item, theme, rows, both,
    rules_only, coder_only, neither, present (answers with the theme in either coding), agreement (share),
    Cohen's kappa with a 95% bootstrap interval (kappa_low, kappa_high), Gwet's AC1, too_few (present below
    MIN_THEME_ANSWERS: no kappa, interval or AC1, only the counts) and few (fewer than MIN_AGREEMENT_ROWS
    rows)."""
    rule_set = {(r.network_id, r.item, r.theme) for r in rule_codes.itertuples(index=False)}
    records = []
    for item in codebook.items:
        rows = [r for r in reviewed if r.item == item]
        for theme in codebook.themes_for(item):
            pairs = [((r.network_id, item, theme.code) in rule_set, theme.code in r.themes) for r in rows]
            a = sum(by_rule and by_coder for by_rule, by_coder in pairs)
            b = sum(by_rule and not by_coder for by_rule, by_coder in pairs)
            c = sum(by_coder and not by_rule for by_rule, by_coder in pairs)
            d = len(pairs) - a - b - c
            too_few = a + b + c < MIN_THEME_ANSWERS
            kappa, ac1 = (None, None) if too_few else (cohen_kappa(a, b, c, d), gwet_ac1(a, b, c, d))
            low, high = (None, None) if too_few or kappa is None else kappa_interval(pairs)
            records.append({"item": item, "theme": theme.code, "rows": len(rows), "both": a, "rules_only": b,
                            "coder_only": c, "neither": d, "present": a + b + c,
                            "agreement": round((a + d) / len(rows), 3) if rows else None,
                            "kappa": None if kappa is None else round(kappa, 3),
                            "kappa_low": None if low is None else round(low, 3),
                            "kappa_high": None if high is None else round(high, 3),
                            "ac1": None if ac1 is None else round(ac1, 3),
                            "too_few": too_few, "few": len(rows) < MIN_AGREEMENT_ROWS})
    return pd.DataFrame(records)


AGREEMENT_HEADERS = {   # agreement()'s columns as the researcher's files name them
    "item": "Vraag", "theme": "Thema", "label": "Label", "rows": "Antwoorden", "both": "Beide",
    "rules_only": "Alleen regels", "coder_only": "Alleen codeur", "neither": "Geen van beide",
    "present": "Met thema", "agreement": "Overeenstemming (%)", "kappa": "Kappa",
    "kappa_low": "Kappa 95%-interval van", "kappa_high": "Kappa 95%-interval tot", "ac1": "AC1",
    "remark": "Opmerking"}


def agreement_table(table: pd.DataFrame, *, codebook: Codebook, english: bool = False) -> pd.DataFrame:
    """agreement()'s table as a file for the researcher: the theme's Dutch label beside its code, and a
    remark "te weinig antwoorden" where no coefficient is given; Dutch headers and agreement as a
    percentage (0-100, one decimal) unless `english` (then agreement()'s columns and shares)."""
    shown = table.drop(columns=["too_few", "few"]).copy()
    shown.insert(2, "label", [codebook.theme(t).label for t in table["theme"]])
    if english:
        shown["remark"] = ["too few answers" if f else "" for f in table["too_few"]]
        return shown
    shown["remark"] = [TOO_FEW if f else "" for f in table["too_few"]]
    shown["agreement"] = [None if v is None or v != v else round(100 * v, 1) for v in shown["agreement"]]
    return shown.rename(columns=AGREEMENT_HEADERS)

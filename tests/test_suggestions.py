"""Suggestions for the coder: offered in the coding workbook, applied only when a coder accepts them."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import make_wave, networks_frame
from pipeline.app.cli import main
from pipeline.coding.evaluation import Answer, evaluate_suggestions
from pipeline.coding.rules import code
from pipeline.core.wave_files import answer_sha
from pipeline.core.codebook import load_codebook
from pipeline.coding.sheet import SUGGESTED_FILL, read_coding_sheet, write_coding_sheet
from pipeline.coding.suggest import fit, reviewed_sentences, suggest

CODEBOOK = load_codebook()
STAMP = datetime(2018, 10, 31, tzinfo=timezone.utc)
# No rule codes "commitment" here; the model, fitted on the codebook's examples, finds it like them.
PARAPHRASE = "Partners die zich voor jaren binden."
THEME = "commitment"




@pytest.fixture(scope="module")
def model():
    return fit(codebook=CODEBOOK)


def _sheet(tmp_path, networks, model, name="s.xlsx", **kwargs):
    codes = code(networks=networks, codebook=CODEBOOK).codes
    offered = suggest(networks=networks, codes=codes, codebook=CODEBOOK, model=model, **kwargs)
    path = tmp_path / name
    write_coding_sheet(networks=networks, codes=codes, codebook=CODEBOOK, path=path, timestamp=STAMP,
                       suggestions=offered)
    return path, codes, offered


def _rows(path, sheet):
    table = list(load_workbook(path)[sheet].iter_rows(values_only=True))
    return [dict(zip(table[0], values)) for values in table[1:]]


def test_a_paraphrase_no_rule_codes_is_suggested_with_its_sentence_and_score(model):
    networks = networks_frame(a={"q23": f"Een vaste ruimte. {PARAPHRASE}"})
    codes = code(networks=networks, codebook=CODEBOOK).codes
    assert THEME not in set(codes["theme"])
    offered = suggest(networks=networks, codes=codes, codebook=CODEBOOK, model=model)
    hit = offered.set_index("theme").loc[THEME]
    assert hit["sentence"] == PARAPHRASE and 0.35 <= hit["score"] <= 1
    # A theme the answer is coded with already is never suggested.
    coded = networks_frame(a={"q23": f"Tijd. {PARAPHRASE}"})
    again = suggest(networks=coded, codes=code(networks=coded, codebook=CODEBOOK).codes, codebook=CODEBOOK,
                    model=model, threshold=0.0)
    assert "tijd" not in set(again["theme"]) and len(again)


def test_suggestions_are_in_the_workbook_and_not_applied_until_accepted(tmp_path, model):
    networks = networks_frame(a={"q23": "Tijd en een procesbegeleider."}, b={"q23": f"Een vaste ruimte. {PARAPHRASE}"})
    path, _, offered = _sheet(tmp_path, networks, model)
    rows = _rows(path, "q23")
    b = next(r for r in rows if r["network_id"] == "b")
    assert f"{CODEBOOK.theme(THEME).label} (0," in b["suggesties"] and PARAPHRASE in b["suggesties"]
    column = next(h for h in b if h and h.endswith(f"({THEME})"))
    assert b[column] is None, "a suggestion must not be marked for the coder"
    ws = load_workbook(path)["q23"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "b")
    assert row[header.index(column)].fill.fgColor.rgb.endswith(SUGGESTED_FILL.fgColor.rgb[-6:])
    guide = " ".join(str(c.value) for c in load_workbook(path)["uitleg"]["A"] if c.value)
    assert "zet dan een x in die gele cel" in guide
    # Read back as it stands (the coder reviewed every row and changed nothing): nothing is added.
    reviewed, _ = read_coding_sheet(path, codebook=CODEBOOK, default_coder="JV")
    assert all(THEME not in r.themes for r in reviewed)
    assert next(r for r in reviewed if r.network_id == "b").suggested[THEME][1] == PARAPHRASE


def test_answers_where_rules_and_model_disagree_come_first(tmp_path, model):
    networks = networks_frame(a={"q23": "Tijd en een procesbegeleider."}, b={"q23": "Goede koffie."},
                         c={"q23": f"Een vaste ruimte. {PARAPHRASE}"})
    path, _, offered = _sheet(tmp_path, networks, model)
    order = [r["network_id"] for r in _rows(path, "q23")]
    with_suggestion = set(offered.loc[offered["item"] == "q23", "network_id"])
    assert "c" in with_suggestion and order[:len(with_suggestion)] == sorted(
        with_suggestion, key=lambda n: -offered[offered["network_id"] == n]["score"].max())
    assert set(order[len(with_suggestion):]) == {"a", "b"} - with_suggestion


def test_the_same_answers_give_the_same_workbook_bytes(tmp_path):
    networks = networks_frame(a={"q23": f"Een vaste ruimte. {PARAPHRASE}"}, b={"q17": "Studenten leren van de wijk."},
                         c={"q19": "We komen maandelijks samen om casussen te bespreken."})
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()       # the same name: the workbook's instructions name the file
    first, _, offered = _sheet(tmp_path / "one", networks, fit(codebook=CODEBOOK))
    second, _, _ = _sheet(tmp_path / "two", networks, fit(codebook=CODEBOOK))
    assert len(offered) and first.read_bytes() == second.read_bytes()


def test_a_blind_sheet_shows_no_suggestions(tmp_path, model):
    networks = networks_frame(b={"q23": f"Een vaste ruimte. {PARAPHRASE}"})
    codes = code(networks=networks, codebook=CODEBOOK).codes
    path = tmp_path / "blind.xlsx"
    write_coding_sheet(networks=networks, codes=codes, codebook=CODEBOOK, path=path, timestamp=STAMP, blind=True,
                       suggestions=suggest(networks=networks, codes=codes, codebook=CODEBOOK, model=model))
    assert "suggesties" not in _rows(path, "q23")[0]
    assert list(load_workbook(path)["_suggesties"].iter_rows(min_row=2, values_only=True)) == []


def test_reviewed_codes_teach_the_model(model):
    """A coder's review is training data: a sentence the coder coded with a theme, and the themes the coder
    left out of a reviewed answer, move the scores of sentences like them."""
    text = "Buurtbewoners schuiven aan bij de teamoverleggen."
    networks = networks_frame(a={"q23": text})
    codes = pd.DataFrame({"network_id": ["a"], "item": ["q23"], "theme": ["diversiteit"], "origin": ["manual"],
                          "evidence": [text]})
    reviews = pd.DataFrame({"response_key": ["rk-a"], "item": ["q23"], "network_id": ["a"], "coder": ["JV"],
                            "answer_sha": [answer_sha(text)]})
    labelled = reviewed_sentences(networks=networks, codes=codes, reviews=reviews, codebook=CODEBOOK)
    assert [(s.text, set(s.positive)) for s in labelled] == [(text, {"diversiteit"})]
    assert "tijd" in labelled[0].judged
    taught = fit(codebook=CODEBOOK, reviewed=labelled)
    like_it = ["Buurtbewoners schuiven ook aan bij het teamoverleg."]
    themes, before = model.scores("q23", like_it)
    _, after = taught.scores("q23", like_it)
    at = themes.index("diversiteit")
    assert after[0, at] > before[0, at] + 0.1 and taught.from_reviews == 1
    # An answer that is not reviewed (or changed since) teaches nothing.
    assert reviewed_sentences(networks=networks_frame(a={"q23": text + " Meer."}), codes=codes, reviews=reviews,
                              codebook=CODEBOOK) == []


def test_suggestion_figures_follow_their_definition():
    answers = [Answer("a", "q23", PARAPHRASE, frozenset({THEME})),            # the rules miss it
               Answer("b", "q23", "Tijd.", frozenset({"tijd"})),                # the rules find it
               Answer("c", "q23", "Goede koffie.", frozenset({"openstaan"}))]  # missed by both
    table = evaluate_suggestions(answers, CODEBOOK, thresholds=(0.99, 0.0)).set_index(["threshold", "group"])
    strict = table.loc[(0.99, "themes")]
    assert (strict["tp"], strict["fp"], strict["fn"]) == (0, 0, 2) and strict["recall_with_rules"] == 1 / 3
    loose = table.loc[(0.0, "themes")]
    # At 0 every theme is suggested for every answer not coded with it (b has tijd): right for a and c.
    uncoded = 3 * len(CODEBOOK.themes_for("q23")) - 1
    assert (loose["tp"], loose["fn"], loose["suggestions"]) == (2, 0, uncoded) and loose["recall_with_rules"] == 1


@pytest.fixture
def wave(embedded_report, tmp_path):
    waves = make_wave(tmp_path / "waves", "t")
    shutil.copytree(embedded_report / "processed", waves / "t" / "processed")
    return waves


def test_an_accepted_suggestion_becomes_a_reviewed_code_with_its_sentence(wave, tmp_path):
    folder = wave / "t"
    sheet = tmp_path / "codeerblad.xlsx"
    assert main(["--waves", str(wave), "coding-sheet", "--wave", "t", "--out", str(sheet)]) == 0
    offered = pd.DataFrame(list(load_workbook(sheet)["_suggesties"].iter_rows(values_only=True))[1:],
                           columns=["network_id", "item", "theme", "score", "sentence"])
    assert offered[["network_id", "item"]].drop_duplicates().shape[0] >= 3, "the embedded wave gives a few"
    accept, reject, ignore = (r for _, r in offered.drop_duplicates(["network_id", "item"]).head(3).iterrows())
    wb = load_workbook(sheet)
    for choice, value, coder in ((accept, "x", "JV"), (reject, None, "JV"), (ignore, None, None)):
        ws = wb[choice["item"]]
        header = [c.value for c in ws[1]]
        row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == choice["network_id"])
        row[next(i for i, h in enumerate(header) if h and h.endswith(f"({choice['theme']})"))].value = value
        row[header.index("codeur")].value = coder
    wb.save(sheet)
    codes_before = pd.read_parquet(folder / "processed" / "codes.parquet")

    assert main(["--waves", str(wave), "coding-import", "--wave", "t", str(sheet)]) == 0
    corrections = pd.read_csv(folder / "coding_corrections.csv", dtype=str, keep_default_na=False)
    assert corrections[["network_id", "item", "theme", "action", "coder", "evidence"]].values.tolist() == [
        [accept["network_id"], accept["item"], accept["theme"], "add", "JV", accept["sentence"]]]
    assert corrections.loc[0, "reason"].startswith("suggestie aanvaard (score ")

    assert main(["--waves", str(wave), "code", "--wave", "t", "--quiet"]) == 0
    codes = pd.read_parquet(folder / "processed" / "codes.parquet")
    added = codes.merge(codes_before, how="left", indicator=True).query("_merge == 'left_only'")
    assert added[["network_id", "theme", "origin", "evidence"]].values.tolist() == [
        [accept["network_id"], accept["theme"], "manual", accept["sentence"]]]
    assert len(codes) == len(codes_before) + 1          # the rejected and the ignored changed nothing
    audit = pd.read_csv(folder / "processed" / "code_audit.csv", dtype=str, keep_default_na=False)
    assert audit[["coder", "effect"]].values.tolist() == [["JV", "added"]]
    assert audit.loc[0, "reason"].startswith("suggestie aanvaard")

    # The next sheet learns from the review and no longer suggests for the reviewed answers.
    again = tmp_path / "tweede.xlsx"
    assert main(["--waves", str(wave), "coding-sheet", "--wave", "t", "--out", str(again)]) == 0
    later = {(r[0], r[1]) for r in load_workbook(again)["_suggesties"].iter_rows(min_row=2, values_only=True)}
    assert not later & {(accept["network_id"], accept["item"]), (reject["network_id"], reject["item"])}
    assert (ignore["network_id"], ignore["item"]) in later


def test_codebook_eval_judges_the_suggestions_on_a_set(capsys):
    import json
    from pipeline.core.files import PROJECT_ROOT
    development = PROJECT_ROOT / "tests" / "data" / "coding_development.yaml"
    assert main(["codebook-eval", "--suggestions", "--json", "--validation", str(development),
                 "--thresholds", "0.3", "0.5"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "suggestions" not in result["examples"]
    offered = result["validation"]["suggestions"]
    assert set(offered) == {"after rules", "alone"}
    alone = {(r["threshold"], r["group"]): r for r in offered["alone"]}
    # A higher threshold offers fewer suggestions, and the model alone finds some themes of the set.
    assert alone[(0.5, "themes")]["suggestions"] <= alone[(0.3, "themes")]["suggestions"]
    assert alone[(0.3, "themes")]["tp"] > 0


def test_a_rerun_of_coding_sheet_gives_the_same_bytes(embedded_report, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1546300800")
    processed = embedded_report / "processed"
    for run in ("een", "twee"):      # the same name: the workbook's instructions name the file
        (tmp_path / run).mkdir()
        assert main(["coding-sheet", "--processed", str(processed), "--out", str(tmp_path / run / "blad.xlsx")]) == 0
    assert (tmp_path / "een" / "blad.xlsx").read_bytes() == (tmp_path / "twee" / "blad.xlsx").read_bytes()
    book = load_workbook(tmp_path / "een" / "blad.xlsx")
    assert book.properties.created.replace(tzinfo=None) == datetime(2019, 1, 1)
    assert len(list(book["_suggesties"].iter_rows(min_row=2))) > 0

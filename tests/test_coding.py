"""Coding: codebook examples, Dutch-aware rules, a wave's corrections, the report's counts and the workbook round trip."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import make_wave, networks_frame
from test_ingest import ANSWERS
from pipeline.app.cli import main
from pipeline.coding.rules import apply_rules, code, match_theme, sentences
from pipeline.core.wave_files import answer_sha, empty_corrections, load_corrections
from pipeline.core.codebook import load_codebook
from pipeline.coding.sheet import agreement, cohen_kappa, corrections_from_sheet, read_coding_sheet, write_coding_sheet
from pipeline.core.wave_files import empty_reviews
from pipeline.core.errors import ConfigError

CODEBOOK = load_codebook()
EXAMPLES = [(t.code, text, True) for t in CODEBOOK.themes for text in t.positive] + \
           [(t.code, text, False) for t in CODEBOOK.themes for text in t.negative]
STAMP = datetime(2018, 10, 31, tzinfo=timezone.utc)

# Sections 3.3 and 3.4 of the 2019 report: in how many networks' answers each theme occurs.
REPORT_COUNTS = {
    "q23": {"tijd": 5, "bereidheid": 4, "procesbegeleiding": 3, "openstaan": 1, "commitment": 1, "draagvlak": 1,
            "bottom_up": 3, "praktisch_doen": 6, "diversiteit": 4, "onderwijs_continuiteit": 3, "competenties": 7},
    "q17": {"kennis_innovatie": 8, "verbinding": 5, "continuiteit": 3, "tijd_ruimte": 4, "client_centraal": 1,
            "lerende_houding": 1, "prestatiedruk": 1, "taal": 1},
    "q19": {"actieleren": 4, "learning_community": 3, "intervisie": 3, "actieonderzoek": 2, "ontwikkelwerkplaats": 2,
            "symposium": 1, "best_practice_unit": 1, "practice_development": 1, "design_thinking": 1, "leergang": 1,
            "presentie": 1},
}


def test_codebook_holds_every_theme_of_the_design():
    design = {"bottom_up", "praktisch_doen", "diversiteit", "onderwijs_continuiteit", "competenties", "tijd",
              "bereidheid", "procesbegeleiding", "openstaan", "commitment", "draagvlak", "kennis_innovatie",
              "verbinding", "continuiteit", "tijd_ruimte", "client_centraal", "lerende_houding", "prestatiedruk",
              "taal", "actieleren", "actieonderzoek", "design_thinking", "practice_development", "intervisie",
              "leergang", "learning_community", "ontwikkelwerkplaats", "symposium", "best_practice_unit",
              "presentie", "kwaliteitskompas", "living_lab", "community_of_practice", "doorbraak"}
    assert {t.code for t in CODEBOOK.themes} == design
    for theme in CODEBOOK.themes:
        assert theme.label and theme.definition and theme.rules and theme.positive and theme.negative, theme.code


@pytest.mark.parametrize("theme, text, expected", EXAMPLES, ids=[f"{c}-{'pos' if e else 'neg'}-{i}"
                                                                  for i, (c, _, e) in enumerate(EXAMPLES)])
def test_codebook_example(theme, text, expected):
    assert (match_theme(CODEBOOK.theme(theme), text) is not None) is expected


@pytest.mark.parametrize("theme, text", [
    ("procesbegeleiding", "Twee procesbegeleiders hielden het overzicht."),        # plural
    ("competenties", "Het vraagt coachingsvaardigheden van docenten."),             # compound head
    ("kennis_innovatie", "De kennisdeling tussen de partners groeide."),            # compound modifier
    ("verbinding", "Studenten kregen een stageplaats."),                              # singular of the term
    ("learning_community", "De Leergemeenschappen kwamen maandelijks samen."),      # capitals, plural
])
def test_matching_follows_dutch_inflection_and_compounds(theme, text):
    assert match_theme(CODEBOOK.theme(theme), text) is not None


def test_whole_word_terms_do_not_match_inside_other_words():
    assert match_theme(CODEBOOK.theme("tijd"), "Een tijdelijke regeling, tijdens de zomer.") is None
    assert match_theme(CODEBOOK.theme("tijd"), "Dat kost veel tijd.") is not None


def test_sentences_split_answers_and_lists():
    assert sentences("Eerst doen. Dan praten!\n- punt een\n- punt twee") == [
        "Eerst doen.", "Dan praten!", "- punt een", "- punt twee"]


def test_a_with_rule_needs_both_in_one_sentence():
    theme = CODEBOOK.theme("onderwijs_continuiteit")
    assert match_theme(theme, "De hogeschool is partner. De gemeente is verantwoordelijk.") is None
    rule, evidence = match_theme(theme, "De hogeschool is verantwoordelijk voor de doorontwikkeling.")
    assert rule == "onderwijs_continuiteit.trekker" and evidence.startswith("De hogeschool")




def test_codes_carry_origin_and_evidence():
    networks = networks_frame(a={"q23": "Dat kost tijd. Een procesbegeleider is nodig."})
    codes = code(networks=networks, codebook=CODEBOOK).codes
    assert codes.set_index("theme").loc["procesbegeleiding", ["origin", "evidence"]].tolist() == [
        "procesbegeleiding.termen", "Een procesbegeleider is nodig."]
    assert list(codes.columns) == ["network_id", "item", "theme", "origin", "evidence"]


HEADER = "response_key,item,answer_sha,theme,action,coder,reason,network_id\n"


def _corrections(tmp_path, text):
    path = tmp_path / "coding_corrections.csv"
    path.write_text(HEADER + text, encoding="utf-8")
    return load_corrections(path, codebook=CODEBOOK)


def test_corrections_win_over_rules_and_apply_only_to_the_answer_they_were_made_for(tmp_path):
    networks = networks_frame(a={"q23": "Dat kost tijd."}, b={"q23": "Niets bijzonders."}, c={"q23": "Tijd en draagvlak."})
    sha = {n: answer_sha(t) for n, t in zip(networks["network_id"], networks["q23"])}
    corrections = _corrections(tmp_path, f"rk-a,q23,{sha['a']},tijd,remove,JV,gaat over de planning,a\n"
                                         f"rk-b,q23,{sha['b']},draagvlak,add,JV,staat in de toelichting,b\n"
                                         f"rk-c,q23,{answer_sha('Een ouder antwoord.')},tijd,remove,JV,oud,c\n"
                                         f"rk-zz,q23,{sha['a']},tijd,add,JV,andere meting,zz\n")
    coded = code(networks=networks, codebook=CODEBOOK, corrections=corrections)
    assert set(zip(coded.codes["network_id"], coded.codes["theme"], coded.codes["origin"])) == {
        ("b", "draagvlak", "manual"), ("c", "tijd", "tijd.termen"), ("c", "draagvlak", "draagvlak.termen")}
    assert coded.codes.loc[coded.codes["origin"] == "manual", "evidence"].tolist() == ["staat in de toelichting (JV)"]
    assert coded.audit["effect"].tolist() == ["removed", "added", "stale: the answer changed since it was corrected",
                                              "skipped: no such answer in this wave"]
    assert coded.stale == 1 and any("stale" in w for w in coded.warnings)


@pytest.mark.parametrize("line, message", [
    ("rk,q23,abc,onbekend,add,JV,x,a\n", "not in the codebook"),
    ("rk,q17,abc,tijd,add,JV,x,a\n", "codes q23"),
    ("rk,q23,abc,tijd,toevoegen,JV,x,a\n", "add or remove"),
    ("rk,q23,abc,tijd,add,,x,a\n", "coder"),
    ("rk,q23,,tijd,add,JV,x,a\n", "answer_sha"),
])
def test_bad_corrections_are_refused_with_their_line(tmp_path, line, message):
    with pytest.raises(ConfigError, match=message) as info:
        _corrections(tmp_path, line)
    assert "line 2" in str(info.value)


def test_corrections_keyed_by_network_id_only_are_refused_with_the_way_out(tmp_path):
    path = tmp_path / "coding_overrides.csv"
    path.write_text("network_id,item,theme,action,coder,reason\na,q23,tijd,add,JV,x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="another wave's answer of the same name"):
        load_corrections(path, codebook=CODEBOOK)
    path.write_text("network_id,item,theme,action,coder,reason\n", encoding="utf-8")
    assert load_corrections(path, codebook=CODEBOOK).empty


def test_a_broken_codebook_names_the_theme(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text("version: x\ncategories: {kans: {item: q17, label: Kansen}}\n"
                    "themes:\n  kennis:\n    label: K\n    category: kansje\n    definition: d\n"
                    "    rules: [{terms: [kennis]}]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="theme kennis: category 'kansje'"):
        load_codebook(path)


@pytest.fixture(scope="module")
def embedded_networks(embedded_report):
    processed = embedded_report / "processed"
    return processed, pd.read_parquet(processed / "networks.parquet")


def test_codes_match_the_counts_of_sections_3_3_and_3_4(embedded_networks):
    processed, _ = embedded_networks
    codes = pd.read_parquet(processed / "codes.parquet")
    for item, expected in REPORT_COUNTS.items():
        counts = codes[codes["item"] == item].groupby("theme")["network_id"].nunique().to_dict()
        assert counts == expected, item


def test_codes_are_the_themes_each_answer_was_written_to_carry(embedded_networks):
    processed, networks = embedded_networks
    codes = pd.read_parquet(processed / "codes.parquet")
    entries = ANSWERS["networks"] + ANSWERS["supplement"]
    ids = dict(zip([e["key"] for e in entries], networks["network_id"]))
    expected = {(ids[e["key"]], item, theme) for e in entries for item, themes in e["themes"].items()
                for theme in themes}
    assert set(zip(codes["network_id"], codes["item"], codes["theme"])) == expected


def _wave_copy(embedded_networks, tmp_path, name="t"):
    """A wave folder whose processed data is the embedded run's."""
    processed, networks = embedded_networks
    waves = make_wave(tmp_path / "waves", name)
    shutil.copytree(processed, waves / name / "processed")
    return waves, waves / name, networks


def _mark(path, sheet, network_id, theme, value, coder="JV", reason=""):
    wb = load_workbook(path)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    column = next(i for i, h in enumerate(header, start=1) if h and h.endswith(f"({theme})"))
    for row in ws.iter_rows(min_row=2):
        if row[0].value == network_id:
            ws.cell(row=row[0].row, column=column).value = value
            ws.cell(row=row[0].row, column=header.index("codeur") + 1).value = coder
            if reason:
                ws.cell(row=row[0].row, column=header.index("toelichting") + 1).value = reason
    wb.save(path)


def test_coding_workbook_round_trip(embedded_networks, tmp_path):
    waves, wave, networks = _wave_copy(embedded_networks, tmp_path)
    sheet = tmp_path / "codeerblad.xlsx"
    common = ["--waves", str(waves)]
    assert main([*common, "coding-sheet", "--wave", "t", "--out", str(sheet)]) == 0
    wb = load_workbook(sheet)
    assert wb.sheetnames == ["uitleg", "q23", "q17", "q19", "_regelcodes", "_suggesties"]
    assert wb["_regelcodes"].sheet_state == wb["_suggesties"].sheet_state == "hidden"
    q23 = wb["q23"]
    assert q23.freeze_panes == "H2" and q23.max_row - 1 == int((networks["q23"] != "").sum())
    assert q23.column_dimensions["B"].hidden
    guide = [row[0] for row in wb["uitleg"].iter_rows(values_only=True)]
    assert "Lees het blad daarna in met: python -m pipeline coding-import --wave t codeerblad.xlsx" in guide
    spaced = tmp_path / "blad van Jan.xlsx"
    assert main([*common, "coding-sheet", "--wave", "t", "--out", str(spaced), "--no-suggestions"]) == 0
    guide = [row[0] for row in load_workbook(spaced)["uitleg"].iter_rows(values_only=True)]
    assert "Lees het blad daarna in met: python -m pipeline coding-import --wave t 'blad van Jan.xlsx'" in guide

    venlo = "wsd-nijmegen-project-venlo"
    _mark(sheet, "q23", venlo, "bottom_up", None, reason="gaat over lokaal leren")   # remove a rule code
    _mark(sheet, "q23", venlo, "diversiteit", "x")                                    # add one
    assert main([*common, "coding-import", "--wave", "t", str(sheet)]) == 0
    corrections = pd.read_csv(wave / "coding_corrections.csv", dtype=str, keep_default_na=False)
    assert corrections[["network_id", "theme", "action", "coder", "reason"]].values.tolist() == [
        [venlo, "bottom_up", "remove", "JV", "gaat over lokaal leren"],
        [venlo, "diversiteit", "add", "JV", "gaat over lokaal leren"]]
    venlo_row = networks.set_index("network_id").loc[venlo]
    assert set(corrections["response_key"]) == {venlo_row["response_key"]}
    assert set(corrections["answer_sha"]) == {answer_sha(venlo_row["q23"])}
    reviews = pd.read_csv(wave / "coding_reviews.csv", dtype=str)
    assert reviews[["network_id", "item", "coder"]].values.tolist() == [[venlo, "q23", "JV"]]

    assert main([*common, "code", "--wave", "t", "--quiet"]) == 0
    codes = pd.read_parquet(wave / "processed" / "codes.parquet")
    venlo_q23 = codes[(codes["network_id"] == venlo) & (codes["item"] == "q23")]
    assert dict(zip(venlo_q23["theme"], venlo_q23["origin"])) == {"praktisch_doen": "praktisch_doen.termen",
                                                                   "diversiteit": "manual"}

    # Importing the same sheet again replaces that answer's corrections instead of repeating them.
    assert main([*common, "coding-import", "--wave", "t", str(sheet)]) == 0
    assert len(pd.read_csv(wave / "coding_corrections.csv")) == 2
    assert len(pd.read_csv(wave / "coding_reviews.csv")) == 1


def test_agreement_from_a_coders_sheet(embedded_networks, tmp_path):
    _, networks = embedded_networks
    codes = apply_rules(networks=networks, codebook=CODEBOOK)
    sheet = tmp_path / "blind.xlsx"
    write_coding_sheet(networks=networks, codes=codes, codebook=CODEBOOK, path=sheet, blind=True, timestamp=STAMP)
    assert "automatische codes" not in [c.value for c in load_workbook(sheet)["q17"][1]]
    # The coder finds what the rules found in q17, except one kennis_innovatie, and adds one taal.
    for r in codes[codes["item"] == "q17"].itertuples():
        if not (r.network_id == "wsd-nijmegen-project-venlo" and r.theme == "kennis_innovatie"):
            _mark(sheet, "q17", r.network_id, r.theme, "x")
    _mark(sheet, "q17", "utrecht-vathorst-inclusief", "taal", "x")
    reviewed, rule_codes = read_coding_sheet(sheet, codebook=CODEBOOK, default_coder="JV")
    table = agreement(reviewed=reviewed, rule_codes=rule_codes, codebook=CODEBOOK).set_index("theme")
    rows = int((networks["q17"] != "").sum())
    assert table.loc["kennis_innovatie", ["rows", "both", "rules_only", "coder_only"]].tolist() == [rows, 7, 1, 0]
    assert table.loc["kennis_innovatie", "kappa"] == round(cohen_kappa(7, 1, 0, rows - 8), 3)
    assert table.loc["verbinding", "kappa"] == 1.0
    assert table.loc["taal", ["both", "coder_only"]].tolist() == [1, 1]
    assert table.loc["symposium", ["both", "rules_only", "too_few"]].tolist() == [0, 1, True]  # q19 left blank
    assert pd.isna(table.loc["symposium", "kappa"])
    assert main(["agreement", str(sheet), "--out", str(tmp_path / "k.csv")]) == 0
    assert (tmp_path / "k.csv").read_text(encoding="utf-8").startswith("Vraag,Thema,Label,Antwoorden")


def test_cohen_kappa():
    assert cohen_kappa(20, 5, 10, 15) == pytest.approx(0.4)
    assert cohen_kappa(5, 0, 0, 5) == 1.0
    assert cohen_kappa(0, 0, 0, 10) is None


def test_coder_text_stays_text_in_the_workbook(tmp_path):
    networks = networks_frame(a={"q17": '=HYPERLINK("http://example.invalid","klik")'})
    sheet = tmp_path / "s.xlsx"
    write_coding_sheet(networks=networks, codes=apply_rules(networks=networks, codebook=CODEBOOK),
                       codebook=CODEBOOK, path=sheet, timestamp=STAMP)
    cell = load_workbook(sheet)["q17"]["E2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_import_skips_rows_whose_answer_changed(embedded_networks, tmp_path):
    _, networks = embedded_networks
    sheet = tmp_path / "s.xlsx"
    write_coding_sheet(networks=networks, codes=apply_rules(networks=networks, codebook=CODEBOOK),
                       codebook=CODEBOOK, path=sheet, timestamp=STAMP)
    changed = networks.copy()
    changed.loc[0, "q23"] = "Een heel ander antwoord."
    reviewed, _ = read_coding_sheet(sheet, codebook=CODEBOOK, default_coder="JV")
    _, reviews, counts, warnings = corrections_from_sheet(reviewed=reviewed, networks=changed, codebook=CODEBOOK,
                                                          existing=empty_corrections(), reviews=empty_reviews(),
                                                          sheet_name="s.xlsx")
    assert counts == {"rows": len(reviewed) - 1, "add": 0, "remove": 0, "accepted": 0, "skipped": 1}
    assert "different answer" in warnings[0] and len(reviews) == len(reviewed) - 1


def test_import_of_something_else_is_one_clear_error(tmp_path, capsys):
    bogus = tmp_path / "notes.xlsx"
    bogus.write_bytes(b"not a workbook")
    assert main(["agreement", str(bogus)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("theme, text, expected", [
    # negation and its scope
    ("tijd", "Tijd was geen probleem.", False),
    ("tijd", "Tijd bleek voor ons geen belemmering.", False),
    ("intervisie", "Bewust geen intervisie, wel themabijeenkomsten.", False),
    ("procesbegeleiding", "Zonder een onafhankelijke procesbegeleider.", False),
    ("procesbegeleiding", "Het lukt niet zonder procesbegeleider.", True),           # niet zonder: no negation
    ("tijd", "Leren gaat niet snel en heeft tijd nodig.", True),                        # outside the scope
    ("tijd", "Geen vaste agenda, maar wel tijd om te leren.", True),                    # contrast ends the scope
    ("tijd_ruimte", "Niet zozeer een gebrek aan tijd, wel aan focus.", False),
    ("tijd_ruimte", "Er is te weinig ruimte in de roosters.", True),                   # "te weinig" is the theme
    ("tijd_ruimte", "Medewerkers hebben geen tijd voor het netwerk.", True),           # the term holds "geen"
    ("praktisch_doen", "Waken dat leren geen vergaderen wordt.", True),
    ("prestatiedruk", "Snel resultaat is niet het doel.", False),                      # "... is niet het doel"
    ("praktisch_doen", "Niet vergaderen, maar samen een huisbezoek doen.", True),      # the term holds "niet"
    # contrast and near misses
    ("tijd_ruimte", "Lastig om jongeren langere tijd betrokken te houden.", False),
    ("tijd", "Partners die zich voor langere tijd verbinden.", False),
    # inflection and Latin plurals, participles by gap patterns
    ("symposium", "Symposia met interactieve workshops.", True),
    ("prestatiedruk", "Halfjaarlijks moeten er resultaten worden opgeleverd.", True),
    ("prestatiedruk", "De resultaten zijn gedeeld in een publicatie.", False),
    # paraphrase with gaps and with-pairs
    ("verbinding", "Professionals weten elkaar nu veel beter te vinden.", True),
    ("bereidheid", "De bereidheid van deelnemers om mee te doen.", True),
    ("bereidheid", "De bereidheid om aannames ter discussie te stellen.", False),
    ("client_centraal", "De inwoner echt centraal stellen.", True),
    ("client_centraal", "Zorgorganisaties roosteren centraal.", False),
    ("bottom_up", "De onderwerpen komen vanuit de werkvloer.", True),
    ("draagvlak", "Draagvlak op de werkvloer.", True),
    ("bottom_up", "Draagvlak op de werkvloer.", False),                                # not where topics come from
    ("draagvlak", "De directeur en de wethouder staan er volledig achter.", True),
    ("continuiteit", "Het netwerk moet blijven draaien als de subsidie stopt.", True),
    ("prestatiedruk", "Elk kwartaal rapporteren wat het heeft opgeleverd.", True),
    # compounds and accents
    ("intervisie", "casuistiek bespreken", True),
    ("procesbegeleiding", "Een procesbegeleidster die tijd heeft.", True),
])
def test_negation_contrast_inflection_paraphrase(theme, text, expected):
    assert (match_theme(CODEBOOK.theme(theme), text) is not None) is expected


def test_a_spelling_slip_in_a_long_word_is_read_as_the_term_and_said_in_the_evidence():
    rule, evidence = match_theme(CODEBOOK.theme("procesbegeleiding"), "Een procesbegleider is onmisbaar.")
    assert rule == "procesbegeleiding.termen"
    assert evidence.endswith("[procesbegleider gelezen als procesbegeleider]")
    # two letters swapped
    assert match_theme(CODEBOOK.theme("intervisie"), "Maandelijkse intevrisie.") is not None
    # a changed letter is not a slip (it makes other words: veranderen, verankeren); short words are left alone
    assert match_theme(CODEBOOK.theme("continuiteit"), "De vragen veranderen voortdurend.") is None
    assert match_theme(CODEBOOK.theme("tijd"), "Dat kost tjid.") is None


def test_terms_with_a_gap_keep_their_order_and_stay_close():
    from pipeline.language.matching import find, haystack, term
    gap = term("resultaten ... opgeleverd")
    assert find(gap, haystack("Er moeten elk halfjaar resultaten worden opgeleverd."))
    assert not find(gap, haystack("Opgeleverd werden resultaten."))
    assert not find(gap, haystack("Resultaten die we na heel veel maanden van hard werken eindelijk hebben opgeleverd."))


def test_gwet_ac1_and_the_kappa_interval_against_hand_computed_values():
    from pipeline.coding.sheet import gwet_ac1, kappa_interval
    # a=20, b=5, c=10, d=15: po = 0.7; share yes = (25/50 + 30/50)/2 = 0.55; pe = 2*0.55*0.45 = 0.495
    assert gwet_ac1(20, 5, 10, 15) == pytest.approx((0.7 - 0.495) / (1 - 0.495))
    # A rare theme: kappa is 0 although they agree on 48 of 50; AC1 says they agree.
    assert cohen_kappa(0, 1, 1, 48) == pytest.approx(-0.0204, abs=1e-3)
    assert gwet_ac1(0, 1, 1, 48) > 0.9
    pairs = [(True, True)] * 20 + [(True, False)] * 5 + [(False, True)] * 10 + [(False, False)] * 15
    low, high = kappa_interval(pairs)
    assert low < 0.4 < high and kappa_interval(pairs) == (low, high)      # around kappa, and reproducible
    assert kappa_interval([(False, False)] * 10) == (None, None)


def test_agreement_warns_on_a_sheet_that_was_not_blind_and_marks_few_answers(embedded_networks, tmp_path, capsys):
    _, networks = embedded_networks
    sheet = tmp_path / "s.xlsx"
    write_coding_sheet(networks=networks, codes=apply_rules(networks=networks, codebook=CODEBOOK),
                       codebook=CODEBOOK, path=sheet, timestamp=STAMP)
    reviewed, rule_codes = read_coding_sheet(sheet, codebook=CODEBOOK, default_coder="JV")
    assert agreement(reviewed=reviewed, rule_codes=rule_codes, codebook=CODEBOOK)["few"].all()
    assert main(["agreement", str(sheet)]) == 1        # no initials in the sheet: nothing reviewed
    capsys.readouterr()
    _mark(sheet, "q17", networks["network_id"].iloc[1], "taal", "x")
    assert main(["agreement", str(sheet), "--english"]) == 0
    out = capsys.readouterr().out
    assert "anchors a coder" in out and "--blind" in out and "fewer than 30 answers" in out

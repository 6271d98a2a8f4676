"""Quotes a researcher can stand behind: complete sentences only, one theme per sentence, and the wave's
quotes file (approve, replace, withhold, not for publication) followed in every edition of the report."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from conftest import make_wave, shared_run
from pipeline import run_pipeline
from pipeline.app.cli import main
from pipeline.core.wave_files import answer_sha
from pipeline.core.codebook import load_codebook
from pipeline.core.errors import ConfigError
from pipeline.coding.quotes import NOT_PUBLISHED, QUOTES, Decisions, choose, is_complete, load_decisions, quotes_file, select, split_sentences
from pipeline.core.wave_files import read_quotes_file
from pipeline.waves.wave import load_wave


def _complete(text: str) -> list[str]:
    return [s for s, listed, last in split_sentences(text) if is_complete(s, listed=listed, last=last)]


@pytest.mark.parametrize("answer, quotable", [
    # abbreviations do not end a sentence; a sentence leaning on the one before is no quote
    ("We werken o.a. met intervisie en casuïstiek. En deelnemers moeten willen meedoen.",
     ["We werken o.a. met intervisie en casuïstiek."]),
    ("Bijv. de gemeente Almere doet mee, m.b.t. de wijkteams. Ca. 20 professionals komen elke maand bijeen.",
     ["Bijv. de gemeente Almere doet mee, m.b.t. de wijkteams.", "Ca. 20 professionals komen elke maand bijeen."]),
    # a list: its introduction and its bare items are fragments, a whole sentence in it is not
    ("Wat werkt:\n- tijd voor reflectie\n- Deelnemers krijgen de ruimte om te leren.\n• procesbegeleiding",
     ["Deelnemers krijgen de ruimte om te leren."]),
    ("1. Samen leren in de wijk\n2) Studenten doen mee aan het onderzoek.",
     ["Studenten doen mee aan het onderzoek."]),
    # an answer without a final full stop is a sentence, one broken off is not
    ("Eerst doen en dan samen reflecteren", ["Eerst doen en dan samen reflecteren"]),
    ("Er is te weinig tijd en", []),
    ("De docenten zijn creatief, houden vol en leggen ...", []),
    ("De docenten zijn creatief, houden vol en leggen …", []),
    # too short, lower case start, brackets left open by a split; a stop before a lower-case word (an
    # abbreviation the list lacks, or a slip) does not split, so the sentence is kept whole, never cut there
    ("Werkt goed.\ntijd is nodig voor iedereen hier.", []),
    ("Werkt goed via de afd. zorg en welzijn.", ["Werkt goed via de afd. zorg en welzijn."]),
    ("We werken samen (gemeente, hogeschool. Zorg) aan de wijk.", []),
    ("Samen met dhr. J. de Vries opgezet in de wijk.", ["Samen met dhr. J. de Vries opgezet in de wijk."]),
    ("Wat vinden bewoners zelf belangrijk? Dat vragen we steeds opnieuw.", ["Wat vinden bewoners zelf belangrijk?"]),
])
def test_only_complete_sentences_are_quotable(answer, quotable):
    assert _complete(answer) == quotable


def test_a_long_sentence_is_not_quoted_rather_than_cut():
    long = "Mbo en hbo zijn samen verantwoordelijk voor de doorontwikkeling " + "en nog veel meer " * 12 + "daarna."
    assert len(long) > 200 and _complete(long) == []


CODEBOOK = load_codebook()


def _frames(answers: dict[str, str], codes: list[tuple[str, str, str]]):
    """networks (ids n1.., response keys r1..) with q23 answers, and rule codes (network, theme, evidence)."""
    networks = pd.DataFrame({"network_id": list(answers), "response_key": [f"r-{n}" for n in answers],
                             "werkplaats": "WSD Test", "name": [f"Netwerk {n}" for n in answers],
                             "q23": list(answers.values()), "q17": "", "q19": ""})
    frame = pd.DataFrame([{"network_id": n, "item": "q23", "theme": t, "origin": f"{t}.1", "evidence": e}
                          for n, t, e in codes])
    return networks, frame


SHARED = "Deelnemers moeten willen meedoen en de tijd krijgen om te leren."
ANSWERS = {"n1": f"{SHARED} Voldoende tijd om te leren is nodig.",
           "n2": "Teams moeten wel bereid zijn om mee te doen.",
           "n3": "Een cultuurverandering heeft echt tijd nodig. Het vraagt ook om motivatie van iedereen."}
CODES = [("n1", "tijd", SHARED), ("n1", "bereidheid", SHARED), ("n1", "tijd", "Voldoende tijd om te leren is nodig."),
         ("n2", "bereidheid", ANSWERS["n2"]), ("n3", "tijd", "Een cultuurverandering heeft echt tijd nodig."),
         ("n3", "bereidheid", "Het vraagt ook om motivatie van iedereen.")]


def test_a_sentence_is_quoted_under_one_theme_at_most_and_each_theme_gets_its_own():
    networks, codes = _frames(ANSWERS, CODES)
    chosen = choose(codes=codes, networks=networks, codebook=CODEBOOK, item="q23", decisions=Decisions())
    tijd = [q.candidate.sentence for q in chosen["tijd"]]
    bereidheid = [q.candidate.sentence for q in chosen["bereidheid"]]
    assert not set(tijd) & set(bereidheid)
    assert SHARED in tijd + bereidheid
    # five distinct sentences for six places: the shared one is quoted once, under either theme
    assert len(tijd) + len(bereidheid) == 5 and min(len(tijd), len(bereidheid)) == 2 and len(tijd) <= QUOTES
    assert all(q.chosen_by == "run" for q in chosen["tijd"])


def test_the_same_words_from_two_networks_are_quoted_once():
    same = "Voldoende tijd om te leren is nodig."
    answers = {"n1": same, "n2": "voldoende tijd om te leren is nodig!", "n3": "Een cultuurverandering heeft tijd nodig."}
    codes = [("n1", "tijd", same), ("n2", "tijd", answers["n2"]), ("n3", "tijd", answers["n3"])]
    networks, frame = _frames(answers, codes)
    chosen = choose(codes=frame, networks=networks, codebook=CODEBOOK, item="q23", decisions=Decisions())
    assert [q.candidate.network_id for q in chosen["tijd"]] == ["n1", "n3"]     # n2 says what n1 says


def test_a_cut_evidence_with_a_spelling_note_still_finds_its_whole_sentence():
    sentence = "Een goede procesbegeleider is onmisbaar en moet er de tijd voor krijgen."
    networks, codes = _frames({"n1": sentence}, [("n1", "tijd", sentence[:30] + "… [procesbegelieder gelezen als x]")])
    chosen = choose(codes=codes, networks=networks, codebook=CODEBOOK, item="q23", decisions=Decisions())
    assert [q.candidate.sentence for q in chosen["tijd"]] == [sentence]


def _decisions_file(tmp_path, rows):
    path = tmp_path / "quotes.csv"
    pd.DataFrame(rows).to_csv(path, index=False, sep=";", encoding="utf-8-sig")   # as Dutch Excel saves it
    return path


def _row(**fields):
    return {"kind": "quote", "item": "q23", "theme": "", "place": "", "decision": "", "quote": "", "replacement": "",
            "network_id": "", "werkplaats": "", "name": "", "response_key": "", "answer_sha": "", "reviewer": "AB",
            "note": "", **fields}


def test_decisions_approve_replace_withhold_and_stale_ones_are_reported_not_applied(tmp_path):
    networks, codes = _frames(ANSWERS, CODES)
    sha = {n: answer_sha(t) for n, t in ANSWERS.items()}
    path = _decisions_file(tmp_path, [
        _row(theme="tijd", decision="replace", quote=SHARED, replacement="Voldoende tijd om te leren is nodig.",
             response_key="r-n1", answer_sha=sha["n1"], place="1"),
        _row(theme="bereidheid", decision="withhold", quote=ANSWERS["n2"], response_key="r-n2", answer_sha=sha["n2"]),
        _row(theme="tijd", decision="approve", quote="Een cultuurverandering heeft echt tijd nodig.",
             response_key="r-n3", answer_sha="0" * 16),                                    # the answer changed
        _row(kind="network", item="", decision="withhold", response_key="r-n3", network_id="n3"),
    ])
    decisions = load_decisions(path, codebook=CODEBOOK, networks=networks, codes=codes)
    assert decisions.stale == 1 and "stale" in decisions.warnings[0] and "line 4" in decisions.warnings[0]
    chosen, review = select(codes=codes, networks=networks, codebook=CODEBOOK, decisions=decisions)
    tijd = [(q.candidate.sentence, q.chosen_by) for q in chosen["q23"]["tijd"]]
    bereidheid = [q.candidate.sentence for q in chosen["q23"]["bereidheid"]]
    assert tijd[0] == ("Voldoende tijd om te leren is nodig.", "researcher")
    assert ANSWERS["n2"] not in bereidheid                             # withheld
    assert not any("cultuurverandering" in s or "iedereen" in s for s, _ in tijd + [(b, "") for b in bereidheid])
    assert review.unpublished == ["n3"] and review.reviewed == 1 and review.shown == len(tijd) + len(bereidheid)


@pytest.mark.parametrize("row, message", [
    (_row(theme="tijd", decision="goedkeuren"), "decision 'goedkeuren' must be empty, approve, replace or withhold"),
    (_row(theme="geen_thema", decision="approve"), "theme 'geen_thema' is not in the codebook"),
    (_row(theme="tijd", decision="replace", quote=SHARED, replacement="Een zin die er niet in staat.",
          response_key="r-n1", answer_sha=answer_sha(ANSWERS["n1"])), "not a sentence of this network's answer"),
    (_row(kind="netwerk"), "kind 'netwerk' must be quote or network"),
])
def test_a_wrong_decision_stops_with_the_file_and_line(tmp_path, row, message):
    networks, codes = _frames(ANSWERS, CODES)
    path = _decisions_file(tmp_path, [row])
    with pytest.raises(ConfigError, match=message) as caught:
        load_decisions(path, codebook=CODEBOOK, networks=networks, codes=codes)
    assert f"{path}, line 2" in str(caught.value)


def test_an_approved_quote_of_a_network_not_for_publication_is_not_shown_and_said_so(tmp_path):
    networks, codes = _frames(ANSWERS, CODES)
    path = _decisions_file(tmp_path, [
        _row(theme="bereidheid", decision="approve", quote=ANSWERS["n2"], response_key="r-n2",
             answer_sha=answer_sha(ANSWERS["n2"])),
        _row(kind="network", item="", decision="withhold", response_key="r-n2", network_id="n2")])
    decisions = load_decisions(path, codebook=CODEBOOK, networks=networks, codes=codes)
    chosen, review = select(codes=codes, networks=networks, codebook=CODEBOOK, decisions=decisions)
    assert ANSWERS["n2"] not in [q.candidate.sentence for q in chosen["q23"]["bereidheid"]]
    assert review.reviewed == 0 and "line(s) 2" in review.warnings[0] and "not for publication" in review.warnings[0]


def test_the_same_sentence_approved_under_two_themes_is_refused(tmp_path):
    networks, codes = _frames(ANSWERS, CODES)
    same = dict(quote=SHARED, response_key="r-n1", answer_sha=answer_sha(ANSWERS["n1"]), decision="approve")
    path = _decisions_file(tmp_path, [_row(theme="tijd", **same), _row(theme="bereidheid", **same)])
    with pytest.raises(ConfigError, match="line 3: this sentence is already quoted on line 2"):
        load_decisions(path, codebook=CODEBOOK, networks=networks, codes=codes)


def test_the_file_keeps_every_decision_and_adds_the_new_choices():
    networks, codes = _frames(ANSWERS, CODES)
    chosen, _ = select(codes=codes, networks=networks, codebook=CODEBOOK, decisions=Decisions())
    first = quotes_file(chosen=chosen, networks=networks, codebook=CODEBOOK)
    assert set(first["kind"]) == {"quote", "network"} and (first["kind"] == "network").sum() == 3
    first.loc[0, ["decision", "note"]] = ["withhold", "te herkenbaar"]
    again = quotes_file(chosen=chosen, networks=networks, codebook=CODEBOOK, existing=first)
    assert again.iloc[0]["note"] == "te herkenbaar"
    assert len(again) == len(first) and (again["decision"] == "withhold").sum() == 1


# ------------------------------------------------------------------------------------------- end to end

def _pdf_text(path) -> str:
    from pypdf import PdfReader
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(str(path)).pages)


def _docx_text(path) -> str:
    import docx
    document = docx.Document(str(path))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return " ".join(" ".join(t.split()) for t in [p.text for p in document.paragraphs] + cells)


def test_without_decisions_the_report_says_the_quotes_were_not_reviewed(embedded_report):
    html = " ".join((embedded_report / "out" / "report.html").read_text(encoding="utf-8").split())
    assert "Ze zijn automatisch gekozen (de kortste zinnen, uit verschillende netwerken); geen onderzoeker heeft ze " \
           "nagekeken." in html
    themes = pd.read_parquet(embedded_report / "processed" / "typed" / "themas_q23.parquet")
    quotes = [q for c in ("quote_1", "quote_2", "quote_3") for q in themes[c] if q]
    assert len(quotes) == len(set(quotes))
    assert not any(q.endswith(("…", "...")) or q.startswith("En ") for q in quotes)


def _build_reviewed_wave(folder: Path) -> None:
    """waves/2025 in `folder`, built to its networks table (all the quotes command reads), its quotes file
    written by the command and decided on, then built from the codes on into reports/2025; decided.json
    holds the approved and the withheld quote and the network kept out."""
    waves = make_wave(folder / "waves", "2025")
    patch = pytest.MonkeyPatch()
    patch.setenv("SOURCE_DATE_EPOCH", "1546300800")
    try:
        wave = load_wave("2025", waves_dir=waves)
        run_pipeline(wave=wave, stop="normalise")
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["--waves", str(waves), "quotes", "--wave", "2025"]) == 0
        frame = read_quotes_file(wave.quotes)
        networks = pd.read_parquet(wave.processed / "networks.parquet")
        quotes = frame[frame["kind"] == "quote"].reset_index()
        approved, withheld = quotes.iloc[0], quotes.iloc[1]
        # the network to keep out: one whose q23 answer is not quoted in the decisions above
        hidden = next(n for n in networks.itertuples() if n.q23 and n.response_key not in
                      {approved.response_key, withheld.response_key} and n.source == "survey")
        frame.loc[approved["index"], "decision"] = "approve"
        frame.loc[withheld["index"], "decision"] = "withhold"
        frame.loc[(frame["kind"] == "network") & (frame["response_key"] == hidden.response_key), "decision"] = "withhold"
        frame.to_csv(wave.quotes, index=False, encoding="utf-8-sig")
        run_pipeline(wave=wave, start="code")
    finally:
        patch.undo()
    decided = {"approved": {"quote": approved.quote, "response_key": approved.response_key},
               "withheld": {"quote": withheld.quote, "response_key": withheld.response_key},
               "hidden": {"q23": hidden.q23, "network_id": hidden.network_id, "response_key": hidden.response_key}}
    (folder / "decided.json").write_text(json.dumps(decided, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def reviewed_wave(tmp_path_factory):
    """A wave built once for the session (conftest.shared_run, read-only), its quotes file written by the
    command and decided on, and built again: the wave, the approved and the withheld quote, the hidden network."""
    folder = shared_run(tmp_path_factory, "quotes-reviewed-wave", _build_reviewed_wave)
    decided = json.loads((folder / "decided.json").read_text(encoding="utf-8"))
    return (load_wave("2025", waves_dir=folder / "waves"),
            *(SimpleNamespace(**decided[key]) for key in ("approved", "withheld", "hidden")))


def test_a_network_not_for_publication_is_out_of_every_edition(reviewed_wave):
    wave, _, _, hidden = reviewed_wave
    out = wave.out
    html = (out / "report.html").read_text(encoding="utf-8")
    pdf, word = _pdf_text(out / "report.pdf"), _docx_text(out / "report.docx")
    sentences = [s for s, _, _ in split_sentences(hidden.q23) if len(s) > 30]
    assert sentences
    for edition in (" ".join(html.split()), pdf, word):
        assert "De antwoorden van dit leernetwerk zijn niet voor publicatie bestemd." in edition
        for sentence in sentences:
            assert sentence[:40] not in edition
    for table in (out / "tables").glob("*.csv"):
        text = table.read_text(encoding="utf-8")
        assert not any(s[:40] in text for s in sentences), table.name
    answers = pd.read_csv(out / "tables" / "codes.csv", dtype=str)
    assert set(answers.loc[answers["network_id"] == hidden.network_id, "evidence"]) <= {NOT_PUBLISHED}
    assert "De antwoorden van 1 leernetwerk zijn niet voor publicatie bestemd" in " ".join(html.split())


def test_approved_quotes_stay_withheld_ones_go_and_the_method_counts_them(reviewed_wave):
    wave, approved, withheld, _ = reviewed_wave
    html = " ".join((wave.out / "report.html").read_text(encoding="utf-8").split())
    assert f"<blockquote>{approved.quote}</blockquote>" in html
    assert f"<blockquote>{withheld.quote}</blockquote>" not in html
    assert "Een onderzoeker heeft er 1 gekozen of goedgekeurd" in html
    assert "Ze zijn automatisch gekozen" not in html


def test_the_command_keeps_the_decisions_and_the_researchers_file(reviewed_wave, tmp_path):
    shared, approved, withheld, hidden = reviewed_wave
    shutil.copytree(shared.folder.parent, tmp_path / "waves")       # the command writes into the wave
    wave = load_wave(shared.name, waves_dir=tmp_path / "waves")
    before = wave.quotes.read_bytes()
    assert main(["--waves", str(wave.folder.parent), "quotes", "--wave", wave.name]) == 0
    assert wave.quotes.with_name("quotes.csv.bak").read_bytes() == before
    frame = read_quotes_file(wave.quotes)
    decided = frame[frame["decision"] != ""]
    assert set(decided["decision"]) == {"approve", "withhold"} and len(decided) == 3
    assert hidden.response_key in set(decided["response_key"])

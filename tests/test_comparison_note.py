"""A comparison that compares like with like: where the two waves' codes were not made the same way (one
reviewed by a person, the other not), the comparison says so beside the table of themes, in plain Dutch,
and a change the coding could explain is marked and named as no finding; two waves coded alike give
neither the note nor the marks."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

from conftest import build_embedded_wave, make_wave, shared_run
from pipeline import run_pipeline
from pipeline.coding.rules import answers
from pipeline.core.schemas import NETWORKS, read_parquet
from pipeline.core.wave_files import reviews_csv
from pipeline.waves.compare import (WITHIN_UNCERTAINTY, Review, coded_alike, coding_note, side_by_side_themes)
from pipeline.waves.wave import load_wave

EPOCH = "1546300800"
NOTE = "De codes van de twee metingen zijn niet op dezelfde manier gemaakt"




def _run(waves, name, **options):
    patch = pytest.MonkeyPatch()
    patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    try:
        return run_pipeline(wave=load_wave(name, waves_dir=waves), **options)
    finally:
        patch.undo()


@pytest.fixture(scope="session")
def compared(tmp_path_factory):
    """Wave 2025 (the embedded export again) compared with the built wave 2018, whose answers no person
    reviewed: first with no review either (reports/2025-alike/), then with every answer of 2025 reviewed."""
    built_2018 = shared_run(tmp_path_factory, "waves-2018-built", build_embedded_wave)

    def build(folder):
        shutil.copytree(built_2018, folder, dirs_exist_ok=True)
        waves = folder / "waves"
        make_wave(waves, "2025", previous="2018")
        result = _run(waves, "2025")
        shutil.copytree(result.out, folder / "reports" / "2025-alike")
        networks = read_parquet(waves / "2025" / "processed" / "networks.parquet", schema=NETWORKS,
                                extra_text_prefix="q")
        reviewed = answers(networks, ("q17", "q19", "q23")).assign(coder="test")
        (waves / "2025" / "coding_reviews.csv").write_bytes(reviews_csv(reviewed))
        _run(waves, "2025", start="aggregate")
    return shared_run(tmp_path_factory, "comparison-note-2025", build)


def _themes(out):
    return pd.read_csv(out / "tables" / "vergelijking_themas.csv", dtype=str, keep_default_na=False)


def test_waves_coded_differently_get_the_note_and_the_marks(compared):
    out = compared / "reports" / "2025"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert NOTE in html and 'class="warning" role="note"' in html
    coding = pd.read_csv(out / "tables" / "vergelijking_codering.csv", dtype=str, keep_default_na=False)
    assert coding["Meting"].tolist() == ["Meting 2018", "Meting 2025"]
    assert coding["Nagekeken door een persoon"].tolist()[0] == "0"
    assert coding["Nagekeken door een persoon"].tolist()[1] == coding["Gecodeerde antwoorden"].tolist()[1] != "0"
    themes = _themes(out)
    assert "Codering" in themes.columns
    # The same answers in both waves: no change is larger than what the coding could explain.
    shown = themes[(themes["% 2018"] != "") & (themes["% 2025"] != "")]
    assert set(themes["Vraag"]) == {"vraag 17", "vraag 19", "vraag 23"}     # as the report names them, not q17
    assert len(shown) and set(shown["Codering"]) == {WITHIN_UNCERTAINTY}
    assert "De grootste verschillen bij de thema" not in html
    assert "Geen thema verschilt tussen de metingen meer dan de onzekerheid van de codering kan verklaren." in html
    contents = pd.read_excel(out / "tables.xlsx", sheet_name="Inhoud")
    note = contents.set_index("Blad").loc["Vergelijking codering", "Toelichting"]
    assert "In meting 2018 is geen van de" in note and "in meting 2025 zijn alle" in note


def test_waves_coded_alike_get_neither(compared):
    out = compared / "reports" / "2025-alike"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert NOTE not in html and WITHIN_UNCERTAINTY not in html.replace(
        "binnen de onzekerheid van de codering kan verklaren", "")
    assert "Codering" not in _themes(out).columns
    coding = pd.read_csv(out / "tables" / "vergelijking_codering.csv", dtype=str, keep_default_na=False)
    assert coding["Nagekeken door een persoon"].tolist() == ["0", "0"]


class _Theme:
    def __init__(self, code, category="kans"):
        self.code, self.label, self.category = code, code.title(), category


class _Codebook:
    items = ("q17",)
    categories = {"kans": {"item": "q17", "label": "Kansen"}}

    def themes_for(self, item):
        return (_Theme("groot"), _Theme("klein"))


def _codes(**counts):
    return pd.DataFrame([{"network_id": f"{theme}{i}", "item": "q17", "theme": theme}
                         for theme, n in counts.items() for i in range(n)])


def test_a_change_larger_than_the_coding_explains_stays_a_finding():
    before, now = _codes(groot=10, klein=6), _codes(groot=2, klein=5)
    reviewed, rules_only = {"q17": Review(20, 20)}, {"q17": Review(4, 20)}
    themes = side_by_side_themes(before, now, {"q17": 20}, {"q17": 20}, _Codebook(), 5,
                                 review_before=reviewed, review_now=rules_only)
    marks = dict(zip(themes["theme"], themes["coding"]))
    # groot: 50% -> 10%, 40 points; the 80% unreviewed explain at most 0.8 * 50 = 40: within.
    # klein: 30% -> 25%, 5 points: within. With 30% unreviewed, groot's 40 points are more than 15.
    assert marks == {"groot": WITHIN_UNCERTAINTY, "klein": WITHIN_UNCERTAINTY}
    partly = side_by_side_themes(before, now, {"q17": 20}, {"q17": 20}, _Codebook(), 5,
                                 review_before=reviewed, review_now={"q17": Review(14, 20)})
    assert dict(zip(partly["theme"], partly["coding"])) == {"groot": "", "klein": WITHIN_UNCERTAINTY}
    alike = side_by_side_themes(before, now, {"q17": 20}, {"q17": 20}, _Codebook(), 5,
                                review_before=reviewed, review_now={"q17": Review(19, 20)})
    assert set(alike["coding"]) == {""}


def test_each_questions_themes_are_ordered_by_how_many_networks_name_them_now():
    """The comparison's table of themes shows no categories: a question's themes run from the most named in
    this wave down, ties by the previous wave, then the codebook's order."""
    class Codebook(_Codebook):
        items = ("q17", "q19")
        categories = {"kans": {"item": "q17", "label": "Kansen"}, "doel": {"item": "q19", "label": "Doelen"}}

        def themes_for(self, item):
            return tuple(_Theme(code, "kans" if item == "q17" else "doel") for code in
                         (("groot", "klein", "midden", "gelijk") if item == "q17" else ("eerste", "tweede")))
    before = pd.concat([_codes(groot=9, klein=1, midden=2, gelijk=4),
                        _codes(eerste=1, tweede=1).assign(item="q19")])
    now = pd.concat([_codes(groot=2, klein=7, midden=4, gelijk=4), _codes(tweede=3).assign(item="q19")])
    themes = side_by_side_themes(before, now, {"q17": 20, "q19": 20}, {"q17": 20, "q19": 20}, Codebook(), 5)
    assert themes["theme"].tolist() == ["klein", "gelijk", "midden", "groot", "tweede", "eerste"]
    assert themes["networks_now"].tolist() == [7, 4, 4, 2, 3, 0]


def test_the_comparisons_captions_name_the_waves_in_the_order_of_their_columns(compared):
    """Every table of the comparison puts the previous wave's columns first, and its caption names the
    previous wave first too."""
    html = (compared / "reports" / "2025" / "report.html").read_text(encoding="utf-8")
    tables = re.findall(r"<caption>(.*?)</caption>(.*?)</table>", html, re.S)
    compared_tables = [(caption, body) for caption, body in tables if "2018" in caption and "2025" in caption]
    assert len(compared_tables) == 7
    for caption, body in compared_tables:
        caption = re.sub(r"<[^>]+>", "", caption)
        assert caption.index("2018") < caption.index("2025"), caption
        headers = re.sub(r"<[^>]+>", " ", body.split("</thead>", 1)[0])
        if "2025" in headers:
            assert headers.index("2018") < headers.index("2025"), caption


def test_the_note_says_how_each_wave_was_coded():
    assert coded_alike(Review(0, 40), Review(5, 45)) and not coded_alike(Review(0, 40), Review(20, 45))
    note = coding_note("2018", Review(0, 40), Review(20, 45))
    assert note.startswith("In meting 2018 is geen van de 40 gecodeerde antwoorden door een persoon nagekeken")
    assert "in deze meting zijn 20 van de 45 gecodeerde antwoorden (44%) door een persoon nagekeken" in note
    assert "niet op dezelfde manier gemaakt" in note and WITHIN_UNCERTAINTY in note
    assert "niet op dezelfde manier" not in coding_note("2018", Review(40, 40), Review(45, 45))


def test_two_waves_that_nobody_reviewed_are_said_so_once():
    note = coding_note("2018", Review(reviewed=0, coded=46), Review(reviewed=0, coded=144), now="meting 2025")
    assert note.startswith("In geen van beide metingen is een gecodeerd antwoord door een persoon nagekeken "
                           "(46 in meting 2018, 144 in meting 2025): de codes komen alleen van de regels")
    assert note.count("regels van het codeboek") == 1 and "op dezelfde manier gemaakt" in note


def _words(html: str) -> list[str]:
    return re.findall(r"[\w'’]+", re.sub(r"<[^>]+>", " ", html).lower())


def test_the_sentence_after_the_table_of_coding_adds_to_its_caption_and_note(compared):
    """The paragraph after the table of how the codes were made says what its caption and note do not: no
    run of four words of it is theirs."""
    for report in ("2025", "2025-alike"):
        html = (compared / "reports" / report / "report.html").read_text(encoding="utf-8")
        coding = pd.read_csv(compared / "reports" / report / "tables" / "vergelijking_codering.csv", dtype=str)
        start = html.rindex("<table", 0, html.index("Hoe de codes zijn gemaakt"))
        table, after = html[start:].split("</table>", 1)
        note = re.search(r'<p class="note">(.*?)</p>', after, re.S).group(1)
        sentence = re.search(r"<p>(.*?)</p>", after.split("</div>", 1)[1], re.S).group(1)
        said = _words(re.search(r"<caption>(.*?)</caption>", table, re.S).group(1)) + _words(note)
        runs = {tuple(said[at:at + 4]) for at in range(len(said) - 3)}
        words = _words(sentence)
        assert len(coding) == 2 and "tabel" in words
        assert [" ".join(words[at:at + 4]) for at in range(len(words) - 3) if tuple(words[at:at + 4]) in runs] == []

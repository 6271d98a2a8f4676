"""Small traps a researcher new to the pipeline falls into (issue 25, item 8): each is said plainly now.

`make report` without WAVE= and the coding workbook's instructions are tested with the make and coding tests
(tests/test_make.py, tests/test_coding.py); the rest are here."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pandas as pd
import pytest

from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT, make_wave
from pipeline import run_pipeline
from pipeline.core.errors import ConfigError
from pipeline.core.files import read_yaml
from pipeline.waves.wave import load_wave


# --------------------------------------------------------------------------- the previous wave's export again

@pytest.fixture(scope="module")
def built_2018(tmp_path_factory):
    waves = make_wave(tmp_path_factory.mktemp("traps") / "waves", "2018")
    run_pipeline(wave=load_wave("2018", waves_dir=waves), stop="normalise", say=lambda line: None)
    return waves


def _ingest_lines(waves, name) -> list[str]:
    lines = []
    run_pipeline(wave=load_wave(name, waves_dir=waves), stop="ingest", say=lines.append)
    return lines


def test_the_previous_waves_export_given_to_the_new_wave_is_warned_about(built_2018, tmp_path):
    waves = tmp_path / "waves"
    shutil.copytree(built_2018, waves)
    make_wave(waves, "2025", previous="2018")                    # the same file as wave 2018's export
    same_file = [line for line in _ingest_lines(waves, "2025") if "is byte for byte wave 2018's export" in line]
    assert len(same_file) == 1 and same_file[0].startswith("warning    ")

    copy = tmp_path / "copy.csv"                      # the same responses, one answer edited: other bytes, same IDs
    copy.write_bytes(EMBEDDED_EXPORT.read_bytes().replace(b"Project Venlo", b"Project Venlo-Noord", 1))
    make_wave(waves, "2026", previous="2018", export=copy)
    lines = [line for line in _ingest_lines(waves, "2026") if "response IDs" in line]
    assert len(lines) == 1
    assert "all kept responses have the Qualtrics response IDs of wave 2018's networks" in lines[0]
    assert "looks like that wave's export" in lines[0]


def test_an_export_that_shares_a_few_responses_with_the_previous_wave_says_how_many(built_2018, tmp_path):
    import variants
    waves = tmp_path / "waves"
    shutil.copytree(built_2018, waves)
    table = variants.read_rows(EMBEDDED_EXPORT)
    column = table[0].index("ResponseId")
    for number, row in enumerate(table[3:]):
        if number > 2:                                             # all but the first three are new responses
            row[column] = f"R_nieuw{number:011d}"
    export = variants.write_csv(table, tmp_path / "export.csv")
    make_wave(waves, "2025", previous="2018", export=export, supplement=EMBEDDED_SUPPLEMENT)
    lines = [line for line in _ingest_lines(waves, "2025") if "response IDs" in line]
    assert len(lines) == 1 and "2 of 15 kept responses" in lines[0] and "counted in that wave already" in lines[0]


def test_a_new_waves_own_export_gets_no_such_warning(built_2018, tmp_path):
    import variants
    waves = tmp_path / "waves"
    shutil.copytree(built_2018, waves)
    table = variants.read_rows(EMBEDDED_EXPORT)
    column = table[0].index("ResponseId")
    for number, row in enumerate(table[3:]):
        row[column] = f"R_nieuw{number:011d}"
    make_wave(waves, "2025", previous="2018", export=variants.write_csv(table, tmp_path / "export.csv"))
    assert not [line for line in _ingest_lines(waves, "2025") if "response IDs" in line or "byte for byte" in line]


# --------------------------------------------------------------------------- YAML errors

@pytest.mark.parametrize("text, expected", [
    # an unclosed quote: the parser notices at the end of the file, the researcher must look where it opened
    ('title: Rapport\nsubtitle: "Inventarisatie\nyear: 2025\n',
     'at line 2: while scanning a quoted scalar that starts there, found unexpected end of stream at the end of '
     'the file (line 3)'),
    ("title: Rapport\n  year: 2025\n", "at line 2: mapping values are not allowed here"),
    ("authors: [A, B\nyear: 2025\n", "at line 1: while parsing a flow sequence that starts there"),
])
def test_a_yaml_error_names_a_line_of_the_file(tmp_path, text, expected):
    path = tmp_path / "wave.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        read_yaml(path)
    message = str(raised.value)
    assert expected in message and "\n" not in message
    lines = len(text.splitlines())
    named = [int(n) for n in __import__("re").findall(r"line (\d+)", message)]
    assert named and all(1 <= n <= lines for n in named), message


# --------------------------------------------------------------------------- the quote note of the Methode

def _method_with(embedded_report, tmp_path, **quotes) -> str:
    from pipeline.core.config import load_config
    from pipeline.publishing.render import report_html
    processed = tmp_path / "processed"
    shutil.copytree(embedded_report / "processed", processed)
    summary = json.loads((processed / "quotes.json").read_text(encoding="utf-8"))
    summary.update(quotes)
    (processed / "quotes.json").write_text(json.dumps(summary), encoding="utf-8")
    html, _ = report_html(load_config(), processed=processed, day=date(2019, 1, 1))
    html = " ".join(html.split())
    return html.split('<h1 id="methode">', 1)[1].split('<h1 id="resultaten">', 1)[0]


def test_the_quote_note_says_when_a_researcher_withheld_sentences(embedded_report, tmp_path):
    untouched = _method_with(embedded_report, tmp_path / "a")
    unread = "netwerken); geen onderzoeker heeft ze nagekeken"
    assert unread in untouched and "afgewezen" not in untouched
    withheld = _method_with(embedded_report, tmp_path / "b", quotes_withheld=2)
    assert unread not in withheld
    assert "een onderzoeker heeft er nog geen goedgekeurd" in withheld
    assert "2 zinnen heeft een onderzoeker als citaat afgewezen; ze worden niet geciteerd." in withheld
    one = _method_with(embedded_report, tmp_path / "c", quotes_withheld=1, quotes_reviewed=3)
    assert "Een onderzoeker heeft er 3 gekozen of goedgekeurd" in one
    assert "1 zin heeft een onderzoeker als citaat afgewezen; die wordt niet geciteerd." in one


# --------------------------------------------------------------------------- Figuur 4, the start years

@pytest.mark.parametrize("first_year", [2013, 1998])
@pytest.mark.parametrize("phone", [False, True])
def test_the_start_year_labels_never_collide(first_year, phone):
    from matplotlib import rc_context
    from pipeline.core.style import load_style, style_path
    from pipeline.publishing.charts import PHONE_WIDTH_CM, Look, year_chart
    style = load_style(style_path(wave_folder=None))
    look = Look(style, PHONE_WIDTH_CM) if phone else Look(style)
    years = [str(y) for y in range(first_year, 2026)] + ["Onbekend"]
    with rc_context(look.rc()):
        figure = year_chart(look, "startjaren", "Leernetwerken naar startjaar",
                            pd.DataFrame({"label": years, "networks": [2] * len(years)}), n=2 * len(years))
        figure.figure.draw_without_rendering()
        shown = [label for label in figure.figure.axes[0].get_xticklabels() if label.get_text()]
        boxes = [label.get_window_extent() for label in shown]
    assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:])), "tick labels overlap"
    texts = [label.get_text() for label in shown]
    assert texts[0] == years[0] and texts[-1] == "Onbekend"
    if first_year == 2013:                  # a few years: every one labelled, on a phone too
        assert texts == years

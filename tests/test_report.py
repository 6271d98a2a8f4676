"""The report end to end: a run into a temporary folder, hostile text shown literally, editable templates."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest

from conftest import EMBEDDED_EXPORT, ROOT
from test_ingest import ANSWERS
from pipeline.cli import main
from pipeline.render import DEFAULT_TEMPLATES, build_context, text_to_html

HOSTILE = ['<script>alert("x")</script>', "{{ 7*7 }}", '=HYPERLINK("http://evil.invalid","klik")']


@pytest.fixture(scope="module")
def report(embedded_report):
    """The embedded wave's run, dated 1 January 2019, that the other tests share (conftest.embedded_report)."""
    return embedded_report


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def test_output_folder_holds_the_contract(report):
    out = report / "out"
    for name in ("report.html", "report.pdf", "tables.xlsx", "manifest.json", "tables/networks.csv",
                 "tables/involvement.csv", "tables/codes.csv"):
        assert (out / name).stat().st_size > 0, name
    for figure in ("betrokkenheid", "status", "startjaren", "initiatiefnemers", "themas_q23", "themas_q17", "werkvormen"):
        for suffix in ("png", "svg", "pdf", "csv"):
            assert (out / "figures" / f"{figure}.{suffix}").exists()
    assert not [p for p in report.iterdir() if p.name.startswith(".out.")], "a staging folder was left behind"


def test_html_opens_offline_and_links_every_chart_file(report):
    html = (report / "out" / "report.html").read_text(encoding="utf-8")
    links = set(re.findall(r'(?:href|src)="([^"#]+)"', html))
    assert not [link for link in links if "://" in link], "the report must not load anything from the internet"
    for link in links:
        assert (report / "out" / link).exists(), link
    for figure in ("betrokkenheid", "werkvormen"):
        for suffix in ("png", "svg", "pdf", "csv"):
            assert f'figures/{figure}.{suffix}"' in html


def test_every_network_of_bijlage_2_and_every_table_is_in_the_report(report):
    html = (report / "out" / "report.html").read_text(encoding="utf-8")
    text = pdf_text(report / "out" / "report.pdf")
    flat = " ".join(text.split())
    for entry in ANSWERS["networks"] + ANSWERS["supplement"]:
        name = entry["q3"]
        assert name.replace("&", "&amp;") in html
    for heading in ("Bijlage 2. De leernetwerken", "3.2 Welke leernetwerken zijn er (geweest)?",
                    "3.3 Werkzame elementen en randvoorwaarden", "3.4 Kansen en uitdagingen",
                    "Deelnemersgroepen en hun betrokkenheid", "Bijlage 1. De vragenlijst", "Colofon"):
        assert heading in flat, heading
    assert re.search(r"Pagina 2 van \d+", flat)
    sha = hashlib.sha256(EMBEDDED_EXPORT.read_bytes()).hexdigest()
    assert sha in html and "1 januari 2019" in html


def test_method_section_is_filled_from_the_data(report):
    html = " ".join((report / "out" / "report.html").read_text(encoding="utf-8").split())
    assert "14 september 2018" in html and "19 oktober 2018" in html
    assert "18 antwoorden" in html and "15 ingevulde vragenlijsten" in html
    assert "1 voorbeeldweergave (preview), 1 niet afgemaakt, 1 eerdere inzending" in html
    assert "2 leernetwerken niet via de vragenlijst" in html


def test_manifest(report):
    import json
    manifest = json.loads((report / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["export"]["sha256"] == hashlib.sha256(EMBEDDED_EXPORT.read_bytes()).hexdigest()
    assert "config/codebook.yaml" in manifest["config"] and "templates/report.html" in manifest["templates"]
    outputs = manifest["outputs"]
    assert "report.pdf" in outputs and "tables/codes.csv" in outputs and "manifest.json" not in outputs
    for name, digest in outputs.items():
        assert hashlib.sha256((report / "out" / name).read_bytes()).hexdigest() == digest, name
    assert manifest["run_date"] == "2019-01-01" and manifest["versions"]["weasyprint"]


def test_two_runs_are_byte_identical_pdf_included(report, embedded_report_again):
    again = embedded_report_again / "out"
    first = {str(p.relative_to(report / "out")): p.read_bytes() for p in (report / "out").rglob("*") if p.is_file()}
    second = {str(p.relative_to(again)): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def _hostile_export(tmp_path: Path) -> Path:
    """The embedded export with hostile text in a network name and in the q23 and q7 answers."""
    with EMBEDDED_EXPORT.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    q3, q7, q23 = header.index("Q3"), header.index("Q7"), header.index("Q23")
    for row in rows[3:]:
        if row[q3] == "Project Venlo":
            row[q3] = f"Project Venlo {HOSTILE[0]}"
            row[q7] = " ".join(HOSTILE)
            row[q23] = HOSTILE[2] + " Eerst doen en dan reflecteren."
    path = tmp_path / "hostile.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    return path


def test_hostile_text_appears_literally_everywhere(hostile_report):
    out = hostile_report / "out"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html.split("</style>", 1)[1]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html or "&lt;script&gt;alert(&quot;x&quot;)" in html
    assert "{{ 7*7 }}" in html and ">49<" not in html
    assert '=HYPERLINK("http://evil.invalid","klik") Eerst doen' in html
    flat = " ".join(pdf_text(out / "report.pdf").split())
    assert '<script>alert("x")</script>' in flat and "{{ 7*7 }}" in flat
    with zipfile.ZipFile(out / "tables.xlsx") as book:
        xml = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.startswith("xl/"))
    assert "<f>" not in xml, "a cell of tables.xlsx holds a formula"
    assert '=HYPERLINK("http://evil.invalid","klik")' in xml


def test_an_override_template_changes_one_block(report, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text('{% extends "default:report.html" %}\n'
                                      '{% block colophon %}<h1 id="colofon">Eigen colofon</h1>{% endblock %}\n',
                                      encoding="utf-8")
    out = tmp_path / "out"
    assert main(["render", "--processed", str(report / "processed"), "--out", str(out), "--templates", str(mine),
                 "--quiet"]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Eigen colofon" in html and "Exportbestand" not in html and "3.2 Welke leernetwerken" in html


def test_researchers_texts_come_from_their_folder_and_are_never_written(report, tmp_path):
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "conclusies.md").write_text("Onze eigen **conclusie**.\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (ROOT / "texts").iterdir()}
    out = tmp_path / "out"
    assert main(["render", "--processed", str(report / "processed"), "--out", str(out), "--texts", str(texts),
                 "--quiet"]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Onze eigen <strong>conclusie</strong>." in html and "Deze inleiding is nog niet geschreven" in html
    assert (texts / "conclusies.md").read_text(encoding="utf-8") == "Onze eigen **conclusie**.\n"
    assert {p.name: p.read_bytes() for p in (ROOT / "texts").iterdir()} == before


def test_a_broken_template_is_one_clear_error_and_keeps_the_old_report(report, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(report / "out", out)
    before = (out / "report.pdf").read_bytes()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text('{% extends "default:report.html" %}{% block cover %}{{ meta.nonsense }}'
                                      '{% endblock %}', encoding="utf-8")
    assert main(["render", "--processed", str(report / "processed"), "--out", str(out), "--templates", str(mine)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: template error") and "nonsense" in err and "Traceback" not in err
    assert f"(line 1 of {mine / 'report.html'})" in err        # an undefined name says where it is used
    assert (out / "report.pdf").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def _documented() -> tuple[set[str], dict[str, set[str]]]:
    """Top-level keys of templates/CONTEXT.md's variable list, and every name documented under each."""
    doc = (DEFAULT_TEMPLATES / "CONTEXT.md").read_text(encoding="utf-8").split("## Variables", 1)[1]
    top, under, current = set(), {}, None
    for line in doc.splitlines():
        names = re.findall(r"`([a-z_0-9]+)`", line)
        if line.startswith("- ") and names:
            current = names[0]
            top.add(current)
            under[current] = set(names[1:])
        elif current and line.startswith(" "):
            under[current] |= set(names)
    return top, under


def _keys_anywhere(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_keys_anywhere(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys_anywhere(v) for v in value)) if value else set()
    return set()


def _entry_keys(key: str, value) -> set[str]:
    """The keys a template reads off the entries of a top-level variable (not the names or ids it is keyed by)."""
    by_name = {"tables", "figures", "themes", "coded_sections", "yes_no"}
    entries = list(value.values()) if key in by_name else value if isinstance(value, list) else [value]
    if key == "themes":
        entries = [record for records in entries for record in records]
    keys = set()
    for entry in entries:
        if isinstance(entry, dict):
            keys |= set(entry) - ({"records", "rows"} if key == "tables" else set())
            for sub in ("dropped", "participants", "yes_no", "coded_facts", "choices", "scale"):
                if isinstance(entry.get(sub), list):
                    keys |= set().union(*(set(e) for e in entry[sub] if isinstance(e, dict)))
                elif isinstance(entry.get(sub), dict) and key == "networks" and sub == "yes_no":
                    keys |= set().union(*(set(e) for e in entry[sub].values()))
    return keys


def test_the_context_and_its_documentation_agree_both_ways(report):
    from pipeline.config import load_config
    context = build_context(processed=report / "processed", config=load_config(),
                            texts={"inleiding": "", "conclusies": "", "discussie": "", "sections": {}},
                            run_date=date(2019, 1, 1))
    top, under = _documented()
    assert set(context) == top, "CONTEXT.md lists other variables than build_context makes"
    skip = {"categories", "werkplaatsen"}   # mappings and lists of plain values
    undocumented = {key: sorted(_entry_keys(key, value) - under[key]) for key, value in context.items()
                    if key not in skip}
    assert {k: v for k, v in undocumented.items() if v} == {}
    stale = {key: sorted(under[key] - _keys_anywhere(context[key])) for key in top if key not in skip}
    assert {k: v for k, v in stale.items() if v} == {}, "CONTEXT.md documents names the context does not have"


def test_answers_become_escaped_paragraphs_and_lists():
    assert text_to_html("Doel:\n- een <b>\n- twee") == "<p>Doel:</p><ul><li>een &lt;b&gt;</li><li>twee</li></ul>"
    assert text_to_html("regel een\nregel twee") == "<p>regel een<br>regel twee</p>"
    assert text_to_html("regel een\nregel twee", hard_breaks=False) == "<p>regel een regel twee</p>"

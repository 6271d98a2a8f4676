"""The figures as a reader sees them: no text over text in print or on a phone, n on every figure, every
segment's number in the figure or in its description, and fonts in the PDFs that draw the same glyphs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from svg_text import collisions, text_boxes
from pipeline.analysis.aggregate import Table, read_tables
from pipeline.core.config import load_instrument
from pipeline.core.style import load_style
from pipeline.publishing.charts import draw_and_write
from pipeline.publishing.pdf_fonts import lean_pdf_fonts

STYLE = Path(__file__).resolve().parents[1] / "config" / "style.yaml"


@pytest.fixture(scope="module")
def drawn(embedded_report, tmp_path_factory) -> Path:
    """The embedded wave's figures drawn again with a comparison with a previous wave added (the figure only a
    wave with a previous one has)."""
    tables = read_tables(embedded_report / "processed")
    changes = pd.DataFrame({"change": ["nieuw", "loopt door", "gestopt sinds vorige meting", "niet opnieuw gemeld"],
                            "label": ["Nieuw", "Loopt door", "Gestopt sinds vorige meting", "Niet opnieuw gemeld"],
                            "networks": [4, 9, 2, 3]})
    tables.append(Table("vergelijking_verandering", "Verandering ten opzichte van meting 2016", changes,
                        {"label": "Verandering", "networks": "Netwerken"}, "n: aantal netwerken."))
    folder = tmp_path_factory.mktemp("figures")
    draw_and_write(tables, folder, instrument=load_instrument(), style=load_style(STYLE))
    return folder


def _svgs(folder: Path) -> list[Path]:
    return sorted((folder / "figures").glob("*.svg"))


def test_no_text_touches_other_text_or_a_legend_in_print_or_on_a_phone(embedded_report, drawn):
    svgs = _svgs(embedded_report / "out") + _svgs(drawn)
    assert any(p.name == "vergelijking.smal.svg" for p in svgs) and len(svgs) >= 16
    found = {f"{p.parent.parent.name}/{p.name}": collisions(p) for p in svgs}
    assert not {name: faults for name, faults in found.items() if faults}


def test_the_measure_sees_overprinted_and_touching_text(tmp_path):
    """Two labels one line apart, as today's phone Figuur 6 had them, text over a legend and off the canvas."""
    svg = tmp_path / "t.svg"
    line = "font-size: 8.5px; font-family: 'DejaVu Sans'; fill: #000"
    svg.write_text(f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
 <g id="text_1"><text style="{line}" transform="translate(5 20)">doen en dan</text>
  <text style="{line}" transform="translate(5 30.2)">reflecteren</text></g>
 <g id="text_2"><text style="{line}" transform="translate(5 40.4)">Diversiteit</text></g>
 <g id="legend_1"><g id="patch_1"><path d="M 60 5 L 67 5 L 67 10 L 60 10 z"/></g>
  <g id="text_3"><text style="{line}" x="70" y="10">Hoog</text></g></g>
 <g id="text_4"><text style="{line}; text-anchor: end" x="104" y="12">ingevuld</text></g>
</svg>""", encoding="utf-8")
    faults = collisions(svg)
    assert any("'reflecteren' and 'Diversiteit'" in f for f in faults)
    assert not any("'doen en dan' and 'reflecteren'" in f for f in faults)   # lines of one label
    assert "'ingevuld' runs off the canvas" in faults and any("'ingevuld' is" in f and "legend" in f for f in faults)
    texts, legends, _ = text_boxes(svg)
    assert len(texts) == 4 and len(legends) == 1


def test_every_figure_carries_n(drawn):
    for svg in _svgs(drawn):
        words = " ".join(box.text for box in text_boxes(svg)[0])
        assert re.search(r"n = \d+", words), svg.name
    for figure in json.loads((drawn / "charts.json").read_text(encoding="utf-8")):
        assert re.search(r"n = \d+", figure["description"]), figure["name"]


def test_every_segment_has_its_number_in_the_figure_or_its_description(drawn):
    """Each segment of the involvement figure: its percentage printed on it in print and on the phone, or
    named in the description (the alternative text); the CSV holds every one."""
    data = pd.read_csv(drawn / "figures" / "betrokkenheid.csv")
    description = next(f["description"] for f in json.loads((drawn / "charts.json").read_text(encoding="utf-8"))
                       if f["name"] == "betrokkenheid")
    levels = ["Zeer laag", "Laag", "Gemiddeld", "Hoog", "Zeer hoog"]
    segments = [f"{row['Deelnemersgroep']} {level.lower()} {round(100 * row[level] / row['n met niveau'])}% "
                f"({row[level]} van {row['n met niveau']})" for _, row in data.iterrows() for level in levels
                if row[level] > 0]
    named = [s for s in segments if s in description]
    for svg in ("betrokkenheid.svg", "betrokkenheid.smal.svg"):
        printed = [box.text for box in text_boxes(drawn / "figures" / svg)[0] if box.text.endswith("%")]
        assert len(printed) - 5 + len(named) >= len(segments), svg   # the axis has five ticks, 0% to 100%
    assert "Onderwijs laag 6% (1 van 18)" in named   # 1 of 18 is too narrow for its number in print


def test_the_pdfs_embed_lean_fonts_that_draw_the_same_pages(embedded_report, drawn, tmp_path):
    """The figures' PDFs embed their fonts without the layout tables no viewer reads, and look exactly as with
    matplotlib's full subsets."""
    import io
    import shutil
    import subprocess

    from fontTools.ttLib import TTFont
    from matplotlib import rc_context
    from pypdf import PdfReader

    from pipeline.publishing import charts
    reader = PdfReader(drawn / "figures" / "betrokkenheid.pdf")
    font = reader.pages[0]["/Resources"]["/Font"]
    descriptor = next(iter(font.values())).get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
    embedded = TTFont(io.BytesIO(descriptor.get_object()["/FontFile2"].get_object().get_data()))
    assert not {"GSUB", "GPOS", "GDEF"} & set(embedded.keys()) and "glyf" in embedded
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: the pages cannot be compared")
    look = charts.Look(load_style(STYLE))
    with rc_context(look.rc()):
        figure = next(f for f in charts.charts(read_tables(embedded_report / "processed"), load_instrument(), look)
                      if f.name == "betrokkenheid")
    lean, full = io.BytesIO(), io.BytesIO()
    with rc_context(look.rc()):
        figure.figure.draw_without_rendering()
        figure.figure.set_layout_engine("none")   # as draw_and_write does: both saves from one layout
        with lean_pdf_fonts():
            figure.figure.savefig(lean, format="pdf")
        figure.figure.savefig(full, format="pdf")
    lean = lean.getvalue()
    pages = []
    for name, data in (("lean", lean), ("full", full.getvalue())):
        (tmp_path / f"{name}.pdf").write_bytes(data)
        subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)],
                       check=True)
        pages.append((tmp_path / f"{name}-1.png").read_bytes())
    assert len(lean) < len(full.getvalue()) and pages[0] == pages[1]


def test_a_figure_has_the_same_bytes_written_at_once_or_its_downloads_later(embedded_report, tmp_path):
    """The runner hands the PNG and PDF to a second process and the preview writes them when asked, after
    the SVGs; either way every file is the one a run that writes them at once gives."""
    tables = read_tables(embedded_report / "processed")
    at_once, later, jobs = tmp_path / "at_once", tmp_path / "later", []
    draw_and_write(tables, at_once, instrument=load_instrument(), style=load_style(STYLE))
    draw_and_write(tables, later, instrument=load_instrument(), style=load_style(STYLE), defer=jobs.append)
    assert not list((later / "figures").glob("*.png"))
    jobs[0]()
    files = sorted(p.name for p in (at_once / "figures").iterdir())
    assert len(files) == 5 * 7 and files == sorted(p.name for p in (later / "figures").iterdir())
    differ = [name for name in files
              if (at_once / "figures" / name).read_bytes() != (later / "figures" / name).read_bytes()]
    assert not differ


def test_print_figures_are_drawn_for_the_room_the_page_gives_them(embedded_report, drawn):
    """A print figure at most 85 mm high (the PDF's figure img max-height) is printed at its own size, so its
    8.5 pt text stays 8.5 pt; the tall ones (werkvormen, themes, involvement) were shrunk to 65-77 %."""
    heights = {}
    for svg in [p for p in _svgs(embedded_report / "out") + _svgs(drawn) if not p.name.endswith(".smal.svg")]:
        points = float(re.search(r'height="([0-9.]+)pt"', svg.read_text(encoding="utf-8")).group(1))
        heights[svg.name] = points / 72 * 25.4
    assert len(heights) >= 8 and "werkvormen.svg" in heights
    assert {name: round(mm) for name, mm in heights.items() if mm > 85.01} == {}

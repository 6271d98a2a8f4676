"""The house style file: checked on reading, and a second style reaching the figures, HTML, PDF and Word."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, make_wave, shared_run
from pipeline.core.errors import ConfigError
from pipeline.core.style import contrast, label_colour, load_style, luminance, style_path

DEFAULT = ROOT / "config" / "style.yaml"
SECOND = {"colours": {"accent": "#7a1f5c", "ink": "#141414", "muted": "#555555", "line": "#cccccc",
                      "tint": "#f6eef3", "scale": ["#c474a6", "#b0488a", "#923770", "#702555", "#360c27"],
                      "unknown": "#7a7a7a"},
          "fonts": {"text": "DejaVu Sans", "headings": "DejaVu Sans Mono", "word_text": "Liberation Sans",
                    "word_headings": "Liberation Mono"},
          "logo": {"file": "logo.png", "alt": "Logo van Hogeschool Denkbeeld"}}


def _style(tmp_path: Path, **changes) -> Path:
    record = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            record[section][name] = value
        else:
            record[section] = value
    path = tmp_path / "style.yaml"
    path.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    return path


def test_the_default_is_the_calm_blue_readable_and_greyscale_safe():
    style = load_style(DEFAULT)
    assert style.accent == "#2f5f8a" and style.logo is None
    assert all(contrast(c, "#ffffff") >= 4.5 for c in (style.ink, style.muted, style.accent))
    lightness = [luminance(c) for c in style.scale]
    assert lightness == sorted(lightness, reverse=True) and len(set(lightness)) == 5
    # every bar and segment stands out from the white page (WCAG 1.4.11), and carries its number readably
    assert all(contrast(c, "#ffffff") >= 3 for c in (*style.scale, style.unknown, style.accent))
    assert all(contrast(c, label_colour(c, style.ink)) >= 4.5 for c in style.scale)


def test_a_style_without_the_colour_of_unknown_values_gets_a_grey_that_passes(tmp_path):
    record = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    del record["colours"]["unknown"]
    path = tmp_path / "style.yaml"
    path.write_text(yaml.safe_dump(record), encoding="utf-8")
    assert contrast(load_style(path).unknown, "#ffffff") >= 3


@pytest.mark.parametrize("changes, message", [
    ({"colours__accent": "blue"}, r"colours\.accent is 'blue'; write a colour as \"#rrggbb\""),
    ({"colours__muted": "#bbbbbb"}, r"colours\.muted #bbbbbb has a contrast of 1\.9:1 on white"),
    ({"colours__scale": ["#163f66", "#3a6f9f", "#6a9cc6", "#a3c4dd", "#d6e4f0"]},
     r"colours\.scale\[2\] #3a6f9f is not clearly darker"),
    ({"colours__scale": ["#d6e4f0", "#a3c4dd"]}, r"colours\.scale must be a list of five colours"),
    # the palette of the 2018 report: its three lightest segments vanish into the white page
    ({"colours__scale": ["#d6e4f0", "#a3c4dd", "#6a9cc6", "#3a6f9f", "#163f66"]},
     r"colours\.scale\[1\] #d6e4f0 has a contrast of 1\.30:1 on white; a bar or segment of a figure needs at "
     r"least 3:1 \(WCAG 2\.1, 1\.4\.11\): choose a darker colour"),
    ({"colours__scale": ["#6093be", "#3d73a1", "#6a9cc6", "#1e4567", "#081e30"]},
     r"colours\.scale\[3\] #6a9cc6 is not clearly darker"),
    ({"colours__scale": ["#6093be", "#3d73a1", "#2d5c86", "#1e4567", "#081e30"], "colours__unknown": "#bdbdbd"},
     r"colours\.unknown #bdbdbd has a contrast of 1\.88:1 on white"),
    # luminance 0.21: white reaches 4.0:1 on it, the ink 4.0:1; its percentage would be hard to read either way
    ({"colours__scale": ["#6b98bf", "#5a87ad", "#2d5c86", "#1e4567", "#081e30"]},
     r"colours\.scale\[2\] #5a87ad carries its percentages at \d\.\d:1 at best"),
    ({"colours__hue": "#000000"}, r"unknown key\(s\) colours\.hue"),
    ({"fonts__text": "Arial; }"}, r"fonts\.text 'Arial; }' is not a font name"),
    ({"logo": {"file": "nergens.png", "alt": "Logo"}}, r"logo\.file .*nergens\.png not found"),
    ({"logo": {"file": "style.yaml", "alt": "Logo"}}, r"use a PNG, JPEG or SVG file"),
    ({"kleur": 1}, r"unknown key\(s\) kleur"),
])
def test_a_wrong_style_is_one_message_naming_file_key_and_fix(tmp_path, changes, message):
    path = _style(tmp_path, **changes)
    with pytest.raises(ConfigError, match=message) as caught:
        load_style(path)
    assert str(path) in str(caught.value)


def test_a_logo_needs_its_alternative_text(tmp_path):
    (tmp_path / "logo.png").write_bytes(_png())
    with pytest.raises(ConfigError, match=r"logo\.alt is missing"):
        load_style(_style(tmp_path, logo={"file": "logo.png"}))


def test_the_wave_style_wins_over_the_config_default(tmp_path):
    assert style_path(wave_folder=tmp_path) == ROOT / "config" / "style.yaml"
    (tmp_path / "style.yaml").write_text("x", encoding="utf-8")
    assert style_path(wave_folder=tmp_path) == tmp_path / "style.yaml"


def _png() -> bytes:
    """A small logo: a purple square, 40 by 40 pixels."""
    import io

    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (122, 31, 92)).save(buffer, format="PNG")
    return buffer.getvalue()


def _build_styled(folder: Path) -> None:
    """waves/paars in `folder`, a wave with the second style and a logo, built end to end into folder/out."""
    from pipeline import run_pipeline
    from pipeline.waves.wave import load_wave
    waves = make_wave(folder / "waves", "paars")
    (waves / "paars" / "logo.png").write_bytes(_png())
    (waves / "paars" / "style.yaml").write_text(yaml.safe_dump(SECOND), encoding="utf-8")
    patch = pytest.MonkeyPatch()
    patch.setenv("SOURCE_DATE_EPOCH", "1546300800")
    try:
        run_pipeline(wave=load_wave("paars", waves_dir=waves), out=folder / "out")
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def styled(tmp_path_factory):
    """A wave with a second style (purple, a monospaced headings font, a logo), built end to end once for the
    session (conftest.shared_run, read-only): its report folder."""
    return shared_run(tmp_path_factory, "styled-paars", _build_styled) / "out"


def test_a_second_style_reaches_the_figures(styled):
    bars = (styled / "figures" / "status.svg").read_text(encoding="utf-8")
    assert "#7a1f5c" in bars and "#2f5f8a" not in bars
    assert "DejaVu Sans Mono" in bars
    levels = (styled / "figures" / "betrokkenheid.svg").read_text(encoding="utf-8")
    assert all(c in levels for c in SECOND["colours"]["scale"])
    assert "#7a1f5c" in (styled / "figures" / "status.smal.svg").read_text(encoding="utf-8")


def test_a_second_style_reaches_the_html_and_its_cover(styled):
    html = (styled / "report.html").read_text(encoding="utf-8")
    assert "--accent: #7a1f5c" in html and "#2f5f8a" not in html
    assert '"DejaVu Sans Mono", Arial' in html
    assert re.search(r'<img class="logo" src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="Logo van Hogeschool Denkbeeld">',
                     html)


def test_a_second_style_reaches_the_pdf(styled):
    from pypdf import PdfReader
    reader = PdfReader(styled / "report.pdf")
    fonts = set()
    for page in reader.pages[:6]:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("DejaVu-Sans-Mono" in f for f in fonts), fonts
    assert not any("Serif" in f for f in fonts), "the default text font is still used"
    assert any(page["/Resources"].get("/XObject") for page in reader.pages[:1]), "the logo is not on the cover"


def test_a_second_style_reaches_word(styled):
    from docx import Document
    document = Document(str(styled / "report.docx"))
    heading = document.styles["Heading 1"]
    assert heading.font.name == "Liberation Mono" and str(heading.font.color.rgb) == "7A1F5C"
    assert document.styles["Normal"].font.name == "Liberation Sans"
    with zipfile.ZipFile(styled / "report.docx") as package:
        body = package.read("word/document.xml").decode("utf-8")
    assert 'descr="Logo van Hogeschool Denkbeeld"' in body


def test_the_style_is_in_the_manifest(styled):
    import json
    manifest = json.loads((styled / "manifest.json").read_text(encoding="utf-8"))
    assert any(key.endswith("paars/style.yaml") for key in manifest["style"])
    assert any(key.endswith("paars/logo.png") for key in manifest["style"])


def test_a_wrong_wave_style_stops_the_run_before_anything_is_written(tmp_path):
    from pipeline import run_pipeline
    from pipeline.waves.wave import load_wave
    waves = make_wave(tmp_path / "waves", "fout")
    shutil.copy(DEFAULT, waves / "fout" / "style.yaml")
    text = (waves / "fout" / "style.yaml").read_text(encoding="utf-8").replace('"#2f5f8a"', '"#99ccff"')
    (waves / "fout" / "style.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"fout/style\.yaml: colours\.accent #99ccff has a contrast"):
        run_pipeline(wave=load_wave("fout", waves_dir=waves), out=tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (waves / "fout" / "processed").exists()

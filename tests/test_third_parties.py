"""Third persons in the answers: names, e-mail addresses and phone numbers replaced by markers before
anything is written; organisations, places and the researcher's exceptions stay."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest

from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT, ROOT, shared_run
from test_privacy import _readable
from pipeline.app.cli import main
from pipeline.reading.deidentify import lexicon, load_not_names, replace_names, replace_phones, scrub_third_parties
import variants


def _names(text: str, **kw) -> str:
    return replace_names(text, lexicon=lexicon(), **kw)


@pytest.mark.parametrize("typed, shown", [
    ("Samen met Jan de Vries en mevrouw Bakker opgezet.", "Samen met [naam] en mevrouw [naam] opgezet."),
    ("Geleid door dhr. J. de Vries en mw. A.B. Jansen-Smit.", "Geleid door dhr. [naam] en mw. [naam]."),
    ("Wethouder Jansen opende; lector Van Dijk sprak.", "Wethouder [naam] opende; lector [naam] sprak."),
    ("Piet heeft het geleid, samen met Kees.", "[naam] heeft het geleid, samen met [naam]."),
    ('Onze trekker ("Marieke de Boer") stopte.', 'Onze trekker ("[naam]") stopte.'),
    ("De heer Bakker belde.", "De heer [naam] belde."),
])
def test_names_of_persons_become_a_marker(typed, shown):
    assert _names(typed) == shown


@pytest.mark.parametrize("text", [
    "De Hogeschool van Amsterdam en het Wilhelmina Ziekenhuis werken samen met Zorggroep Rivierenland.",
    "Bijeenkomsten in de Jan van Galenstraat en in Anna Paulowna, met de gemeente Almere en ZonMw.",
    "We werken met Design Thinking, Positieve Gezondheid en de Best Practice Unit van het Buurtpastoraat.",
    "Wil je meedoen? Ben je bereid? De Werkplaats Sociaal Domein Nijmegen doet het in Den Haag en Zwolle.",
    "N.B. Het netwerk loopt o.a. in Limburg, bijv. in Venlo.",
])
def test_organisations_places_methods_and_words_stay(text):
    assert _names(text) == text


def test_the_researchers_exceptions_and_the_networks_own_name_stay(tmp_path):
    text = "Bij Jan van Galen leren we samen met Kees Verbeek."
    assert _names(text) == "Bij [naam] leren we samen met [naam]."
    (tmp_path / "not_names.txt").write_text("# a network named after a person\njan van galen\n", encoding="utf-8")
    keep = load_not_names(tmp_path)
    assert _names(text, keep=keep) == "Bij Jan van Galen leren we samen met [naam]."
    assert _names(text, context=("WSD Noord", "Leernetwerk Jan van Galen")) == \
        "Bij Jan van Galen leren we samen met [naam]."


@pytest.mark.parametrize("typed", ["06-12345678", "06 1234 5678", "0612345678", "+31 6 12345678", "+31 (0)20 123 4567",
                                   "020-1234567", "020 - 123 45 67", "(010) 123 45 67", "0031 70 1234567",
                                   "+32 2 123 45 67"])
def test_phone_numbers_become_a_marker(typed):
    assert replace_phones(f"Bel {typed} voor info.") == "Bel [telefoon] voor info."


@pytest.mark.parametrize("text", ["In 2015-2018 met 0,5 fte.", "Op 01-02-2018 en 3-10-2018.", "Budget € 10.000,- per jaar.",
                                  "Postcode 1234 AB, nr. 12.", "Subsidie 2017/2018: 150.000 euro."])
def test_years_dates_and_amounts_are_no_phone_numbers(text):
    assert replace_phones(text) == text


def test_the_frame_scrub_leaves_the_werkplaats_and_network_name_as_typed():
    import pandas as pd
    frame = pd.DataFrame({"q2": ["WSD Jan Bakker"], "q3": ["Netwerk Marieke de Boer"],
                          "q23": ["Jan Bakker en Marieke de Boer, en ook Kees Verbeek (kees@school.invalid, 06-12345678)."]})
    out = scrub_third_parties(frame, columns=["q2", "q3", "q23"], context_columns=["q2", "q3"])
    assert out.loc[0, "q2"] == "WSD Jan Bakker" and out.loc[0, "q3"] == "Netwerk Marieke de Boer"
    assert out.loc[0, "q23"] == "Jan Bakker en Marieke de Boer, en ook [naam] ([e-mail], [telefoon])."


# ------------------------------------------------------------------------------------------- end to end

PLANTED = {   # export tag -> text added to the answers of every kept survey row
    "Q23": "Dank aan Henk Jansen en mevrouw Bakker; bel Henk op 06-12345678 of mail h.jansen@voorbeeld.invalid.",
    "Q9": "Onze vraag, met dhr. P. van Leeuwen van Stichting Wijkwerk in Nijmegen: hoe leren we samen?",
    "Q13_2_TEXT": "Geëvalueerd door Annemiek Visser (tel. +31 20 123 4567) met de Hogeschool van Amsterdam.",
    "Q4": "Initiatief van wethouder Jansen en Marco Pietersen, met het Wilhelmina Ziekenhuis en Jan van Galen",
}
SECRETS = ("Henk Jansen", "Henk", "Bakker", "06-12345678", "h.jansen@voorbeeld.invalid", "van Leeuwen",
           "Annemiek Visser", "Annemiek", "Visser", "+31 20 123 4567", "123 4567", "Marco Pietersen", "Pietersen",
           "wethouder Jansen")
KEPT = ("Stichting Wijkwerk", "Nijmegen", "Hogeschool van Amsterdam", "Wilhelmina Ziekenhuis", "Jan van Galen")


def _build_planted_run(root: Path) -> None:
    """The embedded export with PLANTED added to every kept survey row, run with a config whose not_names.txt
    keeps "Jan van Galen": out/ and processed/ in `root`."""
    rows = variants.read_rows(EMBEDDED_EXPORT)
    for tag, text in PLANTED.items():
        at = variants.column(rows, tag)
        for row in rows[3:]:
            row[at] = f"{row[at]} {text}".strip()
    export = variants.write_csv(rows, root / "planted.csv")
    config = root / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "not_names.txt").write_text("Jan van Galen\n", encoding="utf-8")
    out, processed = root / "out", root / "processed"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--config", str(config), "run", "--export", str(export), "--supplement", str(EMBEDDED_SUPPLEMENT),
                     "--out", str(out), "--processed", str(processed)]) == 0


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    """The readable text of every file the planted run wrote (built once for the session, conftest.shared_run),
    by its path under the run's folder (out/..., processed/...)."""
    root = shared_run(tmp_path_factory, "third-parties-planted", _build_planted_run)
    files = sorted(p for folder in (root / "out", root / "processed") for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): _readable(p) for p in files}


def test_planted_names_addresses_and_numbers_reach_no_output(planted_run):
    kinds = {name.rsplit(".", 1)[-1] for name in planted_run}
    assert {"html", "pdf", "docx", "xlsx", "csv", "parquet", "svg", "sav"} <= kinds
    found = []
    for secret in SECRETS:
        pattern = re.compile(rf"(?<![\w.@]){re.escape(secret)}(?![\w])")
        found += [f"{secret!r} in {name}" for name, text in planted_run.items() if pattern.search(text)]
    assert found == []
    answers = planted_run["processed/networks.parquet"]      # the markers stand where the planted text was
    assert "Dank aan [naam] en mevrouw [naam]; bel [naam] op [telefoon] of mail [e-mail]." in answers
    assert "(tel. [telefoon]) met de Hogeschool van Amsterdam" in answers
    assert "Initiatief van wethouder [naam] en [naam], met het Wilhelmina Ziekenhuis en Jan van Galen" in answers


def test_organisations_places_and_the_listed_exception_stay_in_the_report(planted_run):
    html, pdf = " ".join(planted_run["out/report.html"].split()), planted_run["out/report.pdf"]
    for kept in KEPT:
        assert kept in html, kept
        assert kept in " ".join(pdf.split()), kept

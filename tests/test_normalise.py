"""Normalise on small frames and on the embedded dataset against section 3.2 and Bijlage 2."""

from __future__ import annotations

import pandas as pd
import pytest

import variants
from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT
from test_ingest import ANSWERS
from pipeline.coding.rules import code
from pipeline.core.codebook import load_codebook
from pipeline.core.config import load_taxonomies
from pipeline.core.wave_files import load_group_decisions
from pipeline.waves.wave import load_wave
from pipeline.reading.ingest import ingest
from pipeline.analysis.normalise import clean_text, decode_choice, normalise, parse_start

EMPTY = load_taxonomies().empty_answers


@pytest.mark.parametrize("text, year, precision", [
    ("2015", 2015, "year"), ("okt. 2015", 2015, "month"), ("Sinds juni 2018", 2018, "month"),
    ("ca. 2013", 2013, "approximate"), ("Enkele jaren geleden", None, "unknown"), ("-", None, "unknown"),
    ("Sinds 2016", 2016, "year"), ("", None, "unknown"),
])
def test_start_year_and_precision(text, year, precision):
    assert parse_start(text) == (year, precision)


@pytest.mark.parametrize("answer", ["-", "n.v.t.", "nvt", "Onbekend", "  NVT ", "n.v.t"])
def test_answers_meaning_nothing_become_empty(answer):
    assert clean_text(answer, empty_answers=EMPTY) == ""


def test_bullets_numbering_and_whitespace_are_normalised():
    raw = "Doelen:\r\n•  eerste   punt\n* tweede\n1) derde\n2.  vierde\n\n"
    assert clean_text(raw, empty_answers=EMPTY) == "Doelen:\n- eerste punt\n- tweede\n1. derde\n2. vierde"


def test_levels_survive_label_drift_and_numeric_exports(instrument):
    scale = instrument.item("q12").scale
    assert decode_choice("Hoge Betrokkenheid", scale) == 4
    assert decode_choice("Zeer hoge betrokkenheid ", scale) == 5
    assert decode_choice("4", scale) == 4
    assert decode_choice("Geen idee", scale) is None


def _responses(instrument, **overrides):
    fields = [f for f in instrument.response_fields if not f.startswith("q1_") and f != "q1"]
    row = {f: "" for f in fields}
    row.update({"response_key": "k", "source": "survey", "q2": "Utrecht", "q3": "Netwerk", "q6": "Ja"})
    row.update(overrides)
    return pd.DataFrame([row])


def test_unknown_level_is_kept_without_level_and_warned(instrument):
    frame = _responses(instrument, q12_1_text="Docenten", q12_1="Heel erg betrokken")
    result = normalise(responses=frame, instrument=instrument, taxonomies=load_taxonomies())
    assert result.involvement["category_label"].tolist() == ["Docenten"]
    assert result.involvement["level"].isna().all()
    assert any("Heel erg betrokken" in w for w in result.warnings)


def test_unmatched_category_is_listed_not_lost(instrument):
    frame = _responses(instrument, q12_1_text="Ruimtevaarders (3)", q12_1="Lage betrokkenheid")
    result = normalise(responses=frame, instrument=instrument, taxonomies=load_taxonomies())
    row = result.involvement.iloc[0]
    assert (row["category_label"], row["head_count"], row["participant_group"], row["level"]) == \
        ("Ruimtevaarders", 3, "overig", 2)
    assert result.group_review[["category_label", "participant_group", "how"]].values.tolist() == \
        [["Ruimtevaarders", "overig", "none"]]
    assert any("'Ruimtevaarders'" in w and "overig" in w for w in result.warnings)


@pytest.fixture(scope="module")
def embedded(instrument, settings):
    responses = ingest(export_path=EMBEDDED_EXPORT, supplement_path=EMBEDDED_SUPPLEMENT, instrument=instrument,
                       settings=settings).responses
    return normalise(responses=responses, instrument=instrument, taxonomies=load_taxonomies(),
                     group_decisions=_decisions_2018())


def _decisions_2018():
    """The embedded wave's decisions: three SWT professionals of Bijlage 2 placed by their networks' context."""
    groups = tuple(c.code for c in load_taxonomies().participant_groups)
    return load_group_decisions(load_wave("2018").group_decisions, groups=groups)


def test_overview_of_section_3_2(embedded):
    nets = embedded.networks.set_index("name")
    assert len(nets) == 17 and (embedded.networks["source"] == "supplement").sum() == 2
    assert nets.loc["Leernetwerk wijkverpleging", ["start_year", "start_precision", "status"]].tolist() == \
        [2015, "month", "loopt"]
    assert nets.loc["Leefwereldteam", ["start_year", "start_precision", "status"]].tolist() == \
        [2013, "approximate", "gestopt"]
    assert "gunning" in nets.loc["Leefwereldteam", "stop_reason"]
    survey = embedded.networks[embedded.networks["source"] == "survey"]
    assert survey["status"].value_counts().to_dict() == {"loopt": 10, "gestopt": 5}
    assert survey["start_year"].value_counts().to_dict() == {2015: 4, 2016: 5, 2013: 1, 2017: 1}


def test_initiator_types(embedded):
    types = dict(zip(embedded.networks["name"], embedded.networks["initiator_types"]))
    assert types["Project Venlo"] == "werkplaats;gemeente"
    assert types["Leernetwerk wijkverpleging"] == "financier"
    assert types["Optimale Maatschappelijke Ondersteuning van Burgers"] == "onderwijs_onderzoek;gemeente"
    assert types["Leefwereldteam"] == "zorg_welzijn"


def test_involvement_of_bijlage_2(embedded):
    inv = embedded.involvement
    assert len(inv) == sum(len(n["q12"]) for n in ANSWERS["networks"]) == 69
    first = inv[inv["network_id"] == "wsd-flevoland-geen-naam"]
    assert first[["category_label", "head_count", "participant_group"]].values.tolist() == [
        ["Medewerkers wijkteam", 6, "wijkteam"], ["Kritische onderzoeker", 1, "onafhankelijk"],
        ["Procesbegeleider", 1, "onafhankelijk"]]
    counts = inv.groupby("participant_group")["network_id"].nunique().to_dict()
    # 3.1.2: education and care occur most; municipalities, volunteers and citizens less often
    assert counts["onderwijs"] == counts["zorg"] == 11
    assert max(counts["gemeente"], counts["vrijwilligers"], counts["burgers"]) < 11


def test_text_and_numeric_exports_give_identical_tables(tmp_path, instrument, settings, embedded):
    path = variants.write_csv(variants.numeric(variants.read_rows(EMBEDDED_EXPORT), instrument), tmp_path / "n.csv")
    responses = ingest(export_path=path, supplement_path=EMBEDDED_SUPPLEMENT, instrument=instrument,
                       settings=settings).responses
    numeric = normalise(responses=responses, instrument=instrument, taxonomies=load_taxonomies(),
                        group_decisions=_decisions_2018())
    pd.testing.assert_frame_equal(numeric.networks, embedded.networks)
    pd.testing.assert_frame_equal(numeric.involvement, embedded.involvement)
    codebook = load_codebook()
    pd.testing.assert_frame_equal(code(networks=numeric.networks, codebook=codebook).codes,
                                  code(networks=embedded.networks, codebook=codebook).codes)

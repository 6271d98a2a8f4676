"""config/instrument.yaml holds the questionnaire of Bijlage 1; broken config fails with a clear message."""

from __future__ import annotations

import pytest

from pipeline.core.config import load_instrument, load_settings
from pipeline.core.errors import ConfigError


BIJLAGE_1 = [f"q{i}" for i in range(1, 25)]     # the questionnaire of 2018, Bijlage 1 of the 2019 report


def test_the_24_items_of_bijlage_1(instrument):
    """The instrument begins with the 24 questions of 2018 as they were asked; an item a researcher declares
    since comes after them (items are numbered, and the instrument is in their order)."""
    assert [it.id for it in instrument.items][:len(BIJLAGE_1)] == BIJLAGE_1
    types = {it.id: it.type for it in instrument.items if it.id in BIJLAGE_1}
    assert {i for i, t in types.items() if t == "choice"} == {"q6", "q13", "q14", "q15", "q16", "q18", "q20",
                                                              "q21", "q22", "q24"}
    assert types["q12"] == "matrix"
    assert instrument.item("q1").personal
    assert instrument.item("q23").plain_wording.startswith("Wat kun je zeggen over de (volgens jou) werkzame")


def test_q12_matrix_has_six_rows_with_text_and_a_five_point_scale(instrument):
    q12 = instrument.item("q12")
    assert [r.label for r in q12.rows] == [f"Categorie {i}" for i in range(1, 7)]
    assert all(r.text_entry for r in q12.rows)
    assert [(c.value, c.short) for c in q12.scale] == [(1, "ZL"), (2, "L"), (3, "G"), (4, "H"), (5, "ZH")]


def test_choice_recode_values(instrument):
    q6 = instrument.item("q6")
    assert [(c.value, c.label, c.text_entry) for c in q6.choices] == [(1, "Ja", False),
                                                                      (2, "Nee, het is gestopt omdat", True)]
    assert [(c.value, c.label) for c in instrument.item("q24").choices] == [(1, "Nee"), (2, "Ja")]
    assert instrument.item("q13").fields == ("q13", "q13_text")


def test_import_ids_are_not_consecutive(instrument):
    numbers = [int(it.import_id[3:]) for it in instrument.items]
    assert numbers == sorted(numbers) and numbers[-1] > 24


def test_broken_instrument_names_the_item(tmp_path):
    path = tmp_path / "instrument.yaml"
    path.write_text("items:\n  q1:\n    type: essay\n    wording: x\n    export_tag: Q1\n    import_id: QID1\n")
    with pytest.raises(ConfigError, match="item q1: type must be one of"):
        load_instrument(path)


def test_unknown_setting_is_named(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("keep_unfinshed: true\n")
    with pytest.raises(ConfigError, match="keep_unfinshed"):
        load_settings(path)

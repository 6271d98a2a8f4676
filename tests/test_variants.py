"""The embedded export rewritten as every variant gives the same kept responses and the same 24 items."""

from __future__ import annotations

import pytest

import variants
from conftest import EMBEDDED_EXPORT
from pipeline.reading.ingest import ingest

TEXT_FIELDS = ["q2", "q3", "q4", "q5", "q7", "q17", "q19", "q23", "q6_text", "q12_1_text", "q12_6_text"]


@pytest.fixture(scope="module")
def reference(instrument, settings):
    return ingest(export_path=EMBEDDED_EXPORT, instrument=instrument, settings=settings)


def _write(kind, tmp_path, instrument):
    rows = variants.read_rows(EMBEDDED_EXPORT)
    if kind == "numeric":
        return variants.write_csv(variants.numeric(rows, instrument), tmp_path / "numeric.csv")
    if kind == "no_bom":
        return variants.write_csv(rows, tmp_path / "plain.csv", bom=False)
    if kind == "tsv_utf16":
        return variants.write_tsv_utf16(variants.numeric(rows, instrument), tmp_path / "export.tsv")
    if kind == "legacy":
        return variants.write_legacy(rows, tmp_path / "legacy.csv", instrument)
    if kind == "xlsx":
        return variants.write_xlsx(rows, tmp_path / "export.xlsx")
    if kind == "sav":
        return variants.write_sav(rows, tmp_path / "export.sav", instrument)
    if kind == "renamed_tags":
        return variants.write_csv(variants.rename_tags(rows), tmp_path / "renamed.csv")
    if kind == "renamed_tags_labels_only":
        return variants.write_csv(variants.rename_tags(rows, drop_import_ids=True, relabel=True),
                                  tmp_path / "relabelled.csv")
    if kind == "excel_resaved":
        path = tmp_path / "resaved.csv"
        path.write_bytes(variants.excel_resave(rows))
        return path
    raise ValueError(kind)


KINDS = ["numeric", "no_bom", "tsv_utf16", "legacy", "xlsx", "sav", "renamed_tags", "renamed_tags_labels_only",
         "excel_resaved"]
EXPECTED_FORMAT = {"numeric": "new", "no_bom": "new", "tsv_utf16": "tsv", "legacy": "legacy", "xlsx": "xlsx",
                   "sav": "sav", "renamed_tags": "new", "renamed_tags_labels_only": "new", "excel_resaved": "new"}


@pytest.mark.parametrize("kind", KINDS)
def test_variant_gives_the_same_responses_and_items(kind, tmp_path, reference, instrument, settings):
    path = _write(kind, tmp_path, instrument)
    result = ingest(export_path=path, instrument=instrument, settings=settings)
    summary = result.summary()
    assert summary["format"] == EXPECTED_FORMAT[kind]
    assert summary["items_mapped"] == 24, summary["items_missing"]
    assert summary["unmapped_columns"] == []
    assert summary["dropped"] == reference.summary()["dropped"]
    got = result.responses.set_index("response_key")
    want = reference.responses.set_index("response_key")
    assert sorted(got.index) == sorted(want.index)
    assert got.loc[want.index, TEXT_FIELDS].equals(want[TEXT_FIELDS])


@pytest.mark.parametrize("kind", ["numeric", "tsv_utf16", "legacy", "sav"])
def test_numeric_variants_hold_recode_values(kind, tmp_path, instrument, settings):
    result = ingest(export_path=_write(kind, tmp_path, instrument), instrument=instrument, settings=settings)
    assert result.values == "numeric"
    assert set(result.responses["q6"]) <= {"1", "2"}
    assert set(result.responses["q12_1"]) <= {"", "1", "2", "3", "4", "5"}


def test_renamed_tags_map_by_label(tmp_path, instrument, settings):
    result = ingest(export_path=_write("renamed_tags_labels_only", tmp_path, instrument), instrument=instrument,
                    settings=settings)
    how = {m.target: m.matched_by for m in result.mapping if m.kind == "item"}
    assert how["q3"] == "label"
    assert how["q12_3_text"] == "label"


def test_renamed_tags_with_import_ids_map_by_import_id_where_the_label_is_generic(tmp_path, instrument, settings):
    rows = variants.rename_tags(variants.read_rows(EMBEDDED_EXPORT))
    for i, tag in enumerate(rows[0]):
        if tag in ("vraag4", "vraag5"):
            rows[1][i] = "Vraag zonder tekst"     # a label that names no item
    result = ingest(export_path=variants.write_csv(rows, tmp_path / "ids.csv"), instrument=instrument,
                    settings=settings)
    how = {m.target: m.matched_by for m in result.mapping if m.kind == "item"}
    assert how["q4"] == how["q5"] == "import_id"
    assert result.summary()["items_mapped"] == 24


def test_a_foreign_survey_with_our_tags_maps_nothing(tmp_path, instrument, settings):
    rows = variants.read_rows(EMBEDDED_EXPORT)
    for i in range(17, len(rows[0])):
        rows[1][i] = f"How satisfied are you with product {i}?"
    result = ingest(export_path=variants.write_csv(rows, tmp_path / "foreign.csv"), instrument=instrument,
                    settings=settings, require_instrument=False)
    assert result.summary()["items_mapped"] == 0


def test_excel_resave_is_read_with_a_warning(tmp_path, instrument, settings):
    result = ingest(export_path=_write("excel_resaved", tmp_path, instrument), instrument=instrument, settings=settings)
    assert result.export.excel_resaved
    assert any("Excel" in w for w in result.warnings)
    first = result.responses.sort_values("recorded_date")["recorded_date"].iloc[0]
    assert (first.year, first.month, first.day) == (2018, 9, 14)   # day-first, not 9 December


def test_sav_dates_use_the_default_zone_with_a_warning(tmp_path, instrument, settings):
    result = ingest(export_path=_write("sav", tmp_path, instrument), instrument=instrument, settings=settings)
    assert str(result.responses["recorded_date"].dt.tz) == settings.default_time_zone
    assert any("time zone" in w for w in result.warnings)

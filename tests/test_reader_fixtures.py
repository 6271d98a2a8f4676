"""The reader on the real Qualtrics exports in ../shared/fixtures/qualtrics (see its SOURCES.md)."""

from __future__ import annotations

import pytest

from conftest import shared_fixtures
from pipeline.reading.ingest import ingest
from pipeline.reading.qualtrics import read_export

# file -> (format, data rows, columns in the file, time zone of the dates) as SOURCES.md lists them
EXPECTED = {
    "qualtRics__inst_extdata__sample.csv": ("new", 1, 20, None),
    "qualtRics__inst_extdata__sample_legacy.csv": ("legacy", 1, 16, None),
    "qualtRics_api__Beskar_Armor__2025-08-05__fetch_survey_Denver.csv": ("new", 44, 24, "America/Denver"),
    "qualtRics_api__2206062__2022-06-13__fetch_in_progress_custom.csv": ("new", 15, 636, "UTC"),
    "qualtreats__inst_extdata__qualtreats_demo.tsv": ("tsv", 14, 98, "America/Los_Angeles"),
    "qualtreats__inst_extdata__qualtreats_demo.sav": ("sav", 14, 98, None),
    "QualtricsTools__Text_Entry_Components__Questions_with_Text_Entry_Components.csv": ("insights", 15, 40, None),
    "QualtricsTools__Single_Answer_Matrix_Questions__Single_Answer_Matrix_Questions.csv": ("legacy", 5, 30, None),
}


def test_every_fixture_is_covered():
    folder = shared_fixtures()
    present = {p.name for p in folder.iterdir() if p.suffix in (".csv", ".tsv", ".sav", ".xlsx")}
    assert present == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_format_rows_columns_and_zone(name):
    path = shared_fixtures() / name
    export = read_export(path)
    fmt, rows, columns, zone = EXPECTED[name]
    assert export.format == fmt
    assert len(export.cells) == rows
    assert export.columns_in_file == columns
    assert export.time_zone == zone


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_dates_carry_the_export_zone(name, instrument, settings):
    result = ingest(export_path=shared_fixtures() / name, instrument=instrument, settings=settings,
                    require_instrument=False)
    zone = EXPECTED[name][3] or settings.default_time_zone
    assert str(result.responses["recorded_date"].dt.tz) == zone


def test_denver_previews_and_unfinished_are_dropped(instrument, settings):
    result = ingest(export_path=shared_fixtures() / "qualtRics_api__Beskar_Armor__2025-08-05__fetch_survey_Denver.csv",
                    instrument=instrument, settings=settings, require_instrument=False)
    dropped = result.dropped_counts()
    assert dropped["preview"] >= 1
    assert dropped["unfinished"] >= 1
    assert result.summary()["kept"] + sum(dropped.values()) == 44


def test_newlines_in_label_cells_and_repeated_tags_keep_every_column():
    export = read_export(shared_fixtures() / "qualtRics_api__2206062__2022-06-13__fetch_in_progress_custom.csv")
    assert any("\n" in c.label for c in export.columns)
    tags = [c.tag for c in export.columns]
    assert len(tags) > len(set(tags))            # repeated export tags survive as separate columns
    assert len({c.import_id for c in export.columns}) > len(set(tags))


def test_insights_import_ids_are_parsed_from_python_dicts():
    export = read_export(shared_fixtures() / "QualtricsTools__Text_Entry_Components__Questions_with_Text_Entry_Components.csv")
    ids = [c.import_id for c in export.columns]
    assert ids[0] == "responseId"
    assert "QID4-2-TEXT" in ids


def test_sav_keeps_variable_labels_and_rewritten_names():
    export = read_export(shared_fixtures() / "qualtreats__inst_extdata__qualtreats_demo.sav")
    by_tag = {c.tag: c.label for c in export.columns}
    assert by_tag["Duration__in_seconds_"] == "Duration (in seconds)"
    assert export.cells[2].tolist()[0] == "1"     # Status as a recode value, not "1.0"


def test_legacy_trailing_comma_is_not_a_column():
    export = read_export(shared_fixtures() / "qualtRics__inst_extdata__sample_legacy.csv")
    assert [c.tag for c in export.columns][-1] == "LocationAccuracy"
    assert len(export.columns) == 15


def test_numeric_recode_values_are_read_as_written():
    export = read_export(shared_fixtures() / "qualtreats__inst_extdata__qualtreats_demo.tsv")
    column = next(c.position for c in export.columns if c.tag == "QID6_-1")
    assert set(export.cells[column]) <= {"", "-1", "1"}


def test_the_fixtures_are_not_taken_for_the_wsd_questionnaire(instrument, settings):
    for name in EXPECTED:
        result = ingest(export_path=shared_fixtures() / name, instrument=instrument, settings=settings,
                        require_instrument=False)
        assert result.summary()["items_mapped"] == 0, name

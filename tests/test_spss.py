"""The SPSS files of the report folder: read back with pyreadstat, labels present, values equal to the CSV."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from pipeline.core.config import load_instrument, load_taxonomies
from pipeline.analysis.spss import SOURCE_VALUES, STATUS_VALUES


@pytest.fixture(scope="module")
def tables(embedded_report):
    return embedded_report / "out" / "tables"


def _labelled(data: pd.DataFrame, meta, column: str) -> pd.Series:
    labels = meta.variable_value_labels[column]
    return data[column].map(lambda v: labels.get(v) if pd.notna(v) else None)


def test_networks_sav_has_the_csv_values_and_dutch_labels(tables):
    csv = pd.read_csv(tables / "networks.csv", dtype=str, keep_default_na=False)
    data, meta = pyreadstat.read_sav(str(tables / "networks.sav"))
    assert list(data.columns) == list(csv.columns)
    assert len(data) == len(csv) == 17
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["status"] == "Bestaat het leernetwerk nog?" and all(labels.values())
    for column in ("network_id", "werkplaats", "name", "initiator", "initiator_types", "start_text", "stop_reason"):
        assert data[column].tolist() == csv[column].tolist(), column
    years = data["start_year"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    assert years.tolist() == csv["start_year"].tolist()
    assert _labelled(data, meta, "status").tolist() == csv["status"].map(STATUS_VALUES).tolist()
    assert _labelled(data, meta, "source").tolist() == csv["source"].map(SOURCE_VALUES).tolist()
    assert meta.readstat_variable_types["status"] == "double"


def test_involvement_sav_levels_and_groups_carry_their_labels(tables):
    csv = pd.read_csv(tables / "involvement.csv", dtype=str, keep_default_na=False)
    data, meta = pyreadstat.read_sav(str(tables / "involvement.sav"))
    assert len(data) == len(csv) > 0
    assert data["category_label"].tolist() == csv["category_label"].tolist()
    levels = data["level"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    assert levels.tolist() == csv["level"].tolist()
    scale = {c.value: c.label for c in load_instrument().the("involvement").scale}
    assert meta.variable_value_labels["level"] == {float(k): v for k, v in scale.items()}
    groups = {c.code: c.label for c in load_taxonomies().participant_groups}
    assert _labelled(data, meta, "participant_group").tolist() == csv["participant_group"].map(groups).tolist()


def test_the_codebook_describes_every_variable_and_the_manifest_lists_the_files(embedded_report, tables):
    import json
    book = pd.read_csv(tables / "spss_codebook.csv", dtype=str, keep_default_na=False)
    assert list(book.columns) == ["Bestand", "Variabele", "Label", "Type", "Waarden"]
    for name in ("networks", "involvement"):
        _, meta = pyreadstat.read_sav(str(tables / f"{name}.sav"), metadataonly=True)
        rows = book[book["Bestand"] == f"{name}.sav"]
        assert rows["Variabele"].tolist() == meta.column_names
        assert rows["Label"].tolist() == meta.column_labels
    status = book.set_index("Variabele").loc["status"]
    assert status["Type"] == "numeric" and status["Waarden"] == "1 = Loopt; 2 = Gestopt; 3 = Onbekend"
    outputs = json.loads((embedded_report / "out" / "manifest.json").read_text())["outputs"]
    assert {"tables/networks.sav", "tables/involvement.sav", "tables/spss_codebook.csv"} <= set(outputs)
    from openpyxl import load_workbook
    assert "SPSS-codeboek" in load_workbook(embedded_report / "out" / "tables.xlsx", read_only=True).sheetnames

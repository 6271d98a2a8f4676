"""Text that a spreadsheet would run as a formula stays text in tables/*.csv, as it does in tables.xlsx."""

from __future__ import annotations

import csv
import io

import pandas as pd

import variants
from conftest import EMBEDDED_EXPORT
from pipeline.app.cli import main
from pipeline.core.excel import csv_safe

DANGEROUS = ["=HYPERLINK(\"http://x.invalid\",\"klik\")", "+31 6 1234", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


def test_text_cells_that_start_a_formula_get_a_quote_numbers_stay():
    frame = pd.DataFrame({"tekst": DANGEROUS + ["gewoon", "-", "", None], "getal": [-3, 1, 2, 3, 4, 5, 6, 7, 8, 9],
                          "komma": [-1.5] * 10})
    safe = csv_safe(frame)
    assert safe["tekst"].tolist()[:6] == ["'" + text for text in DANGEROUS]
    assert safe["tekst"].tolist()[6:9] == ["gewoon", "-", ""] and pd.isna(safe["tekst"].iloc[9])
    assert safe["getal"].tolist() == frame["getal"].tolist() and safe["getal"].dtype == frame["getal"].dtype
    assert safe["komma"].dtype == frame["komma"].dtype
    assert frame["tekst"].iloc[0] == DANGEROUS[0], "the table itself is left as it was"


def test_no_csv_cell_starts_a_formula(tmp_path, capsys):
    rows = variants.read_rows(EMBEDDED_EXPORT)
    columns = [rows[0].index(tag) for tag in ("Q4", "Q7", "Q19", "Q23", "Q12_1_TEXT", "Q6_2_TEXT")]
    for number, row in enumerate(rows[3:]):
        for k, i in enumerate(columns):
            row[i] = DANGEROUS[(number + k) % len(DANGEROUS)] + " " + (row[i] or "tekst")
    export = variants.write_csv(rows, tmp_path / "export.csv")
    processed = tmp_path / "processed"
    assert main(["run", "--to", "aggregate", "--export", str(export), "--processed", str(processed), "--quiet"]) == 0
    assert len(pd.read_parquet(processed / "networks.parquet")) == 15
    starts = []
    for path in sorted((processed / "tables").glob("*.csv")):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")):
            starts += [(path.name, cell) for cell in row if cell[:1] in ("=", "+", "-", "@", "\t", "\r")
                       and cell != "-" and not cell.lstrip("+-").replace(".", "", 1).isdigit()]
    assert starts == []

"""Rewrites the embedded export as each other variant Qualtrics (or Excel) produces, for the reader tests."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

from pipeline.core.config import Instrument

LEGACY_METADATA = {  # legacy V-column label -> the current export's tag
    "ResponseID": "ResponseId", "ResponseSet": None, "Name": None, "ExternalDataReference": "ExternalReference",
    "EmailAddress": "RecipientEmail", "IPAddress": "IPAddress", "Status": "Status", "StartDate": "StartDate",
    "EndDate": "EndDate", "Finished": "Finished",
}
STATUS_CODES = {"IP Address": "0", "Survey Preview": "1", "Survey Test": "2", "Spam": "8"}


def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def _csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _choice_codes(instrument: Instrument) -> dict[str, dict[str, str]]:
    """Export tag -> {choice text: recode value} for every choice column of the instrument."""
    codes: dict[str, dict[str, str]] = {}
    for item in instrument.items:
        if item.type == "choice":
            codes[item.export_tag] = {c.label: str(c.value) for c in item.choices}
        elif item.type == "matrix":
            for row in item.rows:
                codes[f"{item.export_tag}_{row.value}"] = {c.label: str(c.value) for c in item.scale}
    return codes


def numeric(rows: list[list[str]], instrument: Instrument) -> list[list[str]]:
    """The 'use numeric values' export: recode values for choices, Status and Finished."""
    codes = _choice_codes(instrument)
    tags = rows[0]
    out = [list(r) for r in rows[:3]]
    for row in rows[3:]:
        new = []
        for tag, cell in zip(tags, row):
            if tag == "Status":
                cell = STATUS_CODES[cell]
            elif tag == "Finished":
                cell = {"True": "1", "False": "0"}[cell]
            elif tag in codes and cell:
                cell = codes[tag][cell]
            new.append(cell)
        out.append(new)
    return out


def write_csv(rows, path: Path, *, bom: bool = True) -> Path:
    path.write_bytes((("\ufeff" if bom else "") + _csv_text(rows)).encode("utf-8"))
    return path


def write_tsv_utf16(rows, path: Path) -> Path:
    path.write_bytes(_csv_text(rows, delimiter="\t").encode("utf-16"))
    return path


def write_legacy(rows, path: Path, instrument: Instrument) -> Path:
    """V1..V10, a label row with '-' between question and sub-part, numeric values, a trailing comma."""
    rows = numeric(rows, instrument)
    tags, labels = rows[0], rows[1]
    index = {t: i for i, t in enumerate(tags)}
    first = [i for i, t in enumerate(tags) if t == "Q1"][0]
    header1 = [f"V{i}" for i in range(1, 11)] + tags[first:] + [""]
    header2 = list(LEGACY_METADATA) + [l.replace(" - ", "-") for l in labels[first:]] + [""]
    body = []
    for row in rows[3:]:
        meta = [row[index[src]] if src else ("Default Response Set" if name == "ResponseSet" else "")
                for name, src in LEGACY_METADATA.items()]
        body.append(meta + row[first:] + [""])
    path.write_bytes(("\ufeff" + _csv_text([header1, header2] + body)).encode("utf-8"))
    return path


def write_xlsx(rows, path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    date_tags = {"StartDate", "EndDate", "RecordedDate"}
    for r, row in enumerate(rows):
        values = []
        for tag, cell in zip(rows[0], row):
            if r >= 3 and tag in date_tags and cell:
                values.append(datetime.strptime(cell, "%Y-%m-%d %H:%M:%S"))
            elif r >= 3 and tag in ("Progress", "Duration (in seconds)") and cell:
                values.append(int(cell))
            else:
                values.append(cell if cell != "" else None)
        sheet.append(values)
    book.save(path)
    return path


def write_sav(rows, path: Path, instrument: Instrument) -> Path:
    """SPSS as Qualtrics writes it: numeric codes, value labels, variable labels, rewritten names."""
    import pandas as pd
    import pyreadstat

    rows = numeric(rows, instrument)
    tags, labels = rows[0], rows[1]
    names = [t.replace(" (in seconds)", "__in_seconds_") for t in tags]
    codes = _choice_codes(instrument)
    data = {}
    for i, (tag, name) in enumerate(zip(tags, names)):
        values = [r[i] for r in rows[3:]]
        if tag in ("StartDate", "EndDate", "RecordedDate"):
            data[name] = pd.to_datetime(values)
        elif tag in codes or tag in ("Status", "Finished", "Progress", "Duration (in seconds)"):
            data[name] = [float(v) if v else float("nan") for v in values]
        else:
            data[name] = values
    frame = pd.DataFrame(data)
    value_labels = {names[i]: {float(v): k for k, v in codes[t].items()} for i, t in enumerate(tags) if t in codes}
    pyreadstat.write_sav(frame, str(path), column_labels=dict(zip(names, labels)),
                         variable_value_labels=value_labels)
    return path


def rename_tags(rows, *, drop_import_ids: bool = False, relabel: bool = False) -> list[list[str]]:
    """Tags a researcher renamed in Qualtrics; optionally no ImportIds and labels in other case/spacing."""
    renames = {"Q2": "werkplaats", "Q3": "netwerk_naam", "Q6": "bestaat_nog", "Q12": "deelnemers",
               "Q17": "kansen", "Q23": "werkzaam"}
    out = [list(r) for r in rows]
    for i, tag in enumerate(out[0]):
        stem, sep, rest = tag.partition("_")
        if stem in renames:
            out[0][i] = renames[stem] + (sep + rest if sep else "")
        elif tag.startswith("Q") and tag[1:].split("_")[0].isdigit():
            out[0][i] = "vraag" + tag[1:]
        if relabel and i >= 17:
            out[1][i] = "  " + out[1][i].upper().replace(" ", "  ") + " "
        if drop_import_ids and i >= 17:
            out[2][i] = json.dumps({"ImportId": f"QID{900 + i}"})
    return out


def excel_resave(rows) -> bytes:
    """What Excel writes when a researcher opens the CSV and saves it: ';', Windows-1252, d-m-yyyy dates."""
    out = [list(r) for r in rows]
    for row in out[3:]:
        for i, tag in enumerate(out[0]):
            if tag in ("StartDate", "EndDate", "RecordedDate") and row[i]:
                stamp = datetime.strptime(row[i], "%Y-%m-%d %H:%M:%S")
                row[i] = f"{stamp.day}-{stamp.month}-{stamp.year} {stamp:%H:%M}"
    return _csv_text(out, delimiter=";").encode("cp1252", errors="replace")


def column(rows: list[list[str]], tag: str) -> int:
    """The position of the column with this export tag."""
    return rows[0].index(tag)


def kept_row(rows: list[list[str]]) -> list[str]:
    """The data row of a network that ingest keeps (Project Venlo; the first data row is a preview)."""
    q3 = column(rows, "Q3")
    return next(row for row in rows[3:] if row[q3] == "Project Venlo")

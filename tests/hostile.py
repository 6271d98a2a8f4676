"""A corpus of hostile and broken exports, generated from the embedded one, with what each must give.

Each case writes one file and names the outcome: ("ok", text the run must warn with) for input the
pipeline should read with a warning, or ("error", text of the one-line message) for input it must refuse.
"""

from __future__ import annotations

from pathlib import Path

import variants
from conftest import EMBEDDED_EXPORT, embedded_export_lacks
from pipeline.core.config import load_instrument


def _rows():
    return variants.read_rows(EMBEDDED_EXPORT)


_column, _kept_row = variants.column, variants.kept_row


def unknown_scale_label(path: Path) -> Path:
    rows = _rows()
    q12 = _column(rows, "Q12_1")
    _kept_row(rows)[q12] = "Enorm betrokken"
    return variants.write_csv(rows, path)


def stray_latin1_byte(path: Path) -> Path:
    data = EMBEDDED_EXPORT.read_bytes()
    at = data.index("Almere".encode())
    path.write_bytes(data[:at] + b"\xe9" + data[at:])    # a lone Latin-1 "é" inside UTF-8 text
    return path


def excel_resave(path: Path) -> Path:
    path.write_bytes(variants.excel_resave(_rows()))
    return path


def one_megabyte_answer(path: Path) -> Path:
    rows = _rows()
    q7 = _column(rows, "Q7")
    _kept_row(rows)[q7] = ("Een heel lang antwoord over het leernetwerk. " * 24000)[:1_000_000]
    return variants.write_csv(rows, path)


def columns_reordered(path: Path) -> Path:
    rows = _rows()
    order = list(range(len(rows[0])))[::-1]
    return variants.write_csv([[row[i] for i in order] for row in rows], path)


def item_missing(path: Path) -> Path:
    rows = _rows()
    drop = _column(rows, "Q19")
    return variants.write_csv([[v for i, v in enumerate(row) if i != drop] for row in rows], path)


def _missing_with(dropped: str) -> str:
    """The warning of an export without the column of item `dropped`: it names every item the export lacks (an
    item declared since 2018 as well), in questionnaire order."""
    instrument = load_instrument()
    lacking = set(embedded_export_lacks(instrument)) | {dropped}
    return f"item(s) {', '.join(it.id for it in instrument.items if it.id in lacking)} not found in the export"


def another_questionnaire(path: Path) -> Path:
    rows = [["StartDate", "EndDate", "Status", "Finished", "ResponseId", "Q1", "Q2"],
            ["Start Date", "End Date", "Response Type", "Finished", "Response ID", "Hoe oud ben je?",
             "Wat is je favoriete kleur?"],
            ['{"ImportId":"startDate"}', '{"ImportId":"endDate"}', '{"ImportId":"status"}',
             '{"ImportId":"finished"}', '{"ImportId":"_recordId"}', '{"ImportId":"QID1"}', '{"ImportId":"QID2"}'],
            ["2018-10-01 10:00:00", "2018-10-01 10:05:00", "IP Address", "True", "R_x", "34", "blauw"]]
    return variants.write_csv(rows, path)


CASES = {
    "unknown_scale_label": (unknown_scale_label, "ok", "'Enorm betrokken' is not on the scale"),
    "stray_latin1_byte": (stray_latin1_byte, "ok", ""),
    "excel_resave": (excel_resave, "ok", "re-saved"),
    "one_megabyte_answer": (one_megabyte_answer, "ok", ""),
    "columns_reordered": (columns_reordered, "ok", ""),
    "item_missing": (item_missing, "ok", _missing_with("q19")),
    "another_questionnaire": (another_questionnaire, "error", "another survey"),
}

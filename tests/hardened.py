"""Inputs that once crashed the pipeline, hung it or gave a wrong result, each with what it must give now.

Each case writes its files into a folder and names the outcome: ("ok", text a warning must hold) for input
that is read (repaired where needed), or ("error", text of the one-line message) for input that is refused.
A case returns the export's path, or (export, supplement) when it brings a supplement.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import variants
from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT


def rows():
    return variants.read_rows(EMBEDDED_EXPORT)


column, kept_row = variants.column, variants.kept_row


def _edited(edit):
    def make(folder: Path) -> Path:
        table = rows()
        edit(table)
        return variants.write_csv(table, folder / "export.csv")
    return make


def _cell(tag: str, value: str, *, row=None):
    def edit(table):
        (table[row] if row is not None else kept_row(table))[column(table, tag)] = value
    return _edited(edit)


def _zone(value: str):
    def edit(table):
        for tag in ("StartDate", "EndDate", "RecordedDate"):
            table[2][column(table, tag)] = '{"ImportId":"%s","timeZone":%s}' % (tag[0].lower() + tag[1:], value)
    return _edited(edit)


def _mixed_offsets(table):
    recorded = column(table, "RecordedDate")
    for row, stamp in zip(table[3:], ["2018-10-01T10:00:00+02:00", "2018-10-02T09:00:00+01:00",
                                      "2018-10-03T08:00:00Z"] * 10):
        row[recorded] = stamp


def _deep_import_id(table):
    table[2][column(table, "Q7")] = '{"ImportId":' + "[" * 50_000 + "]" * 50_000 + "}"


def _header_repeated(which: int, *, at: int = 3):
    def edit(table):
        table.insert(at, list(table[which]))
    return _edited(edit)


# The embedded export's second submission of one network (Gijs Probeer, Regio Zwolle), which ingest drops as an
# earlier submission's duplicate; a character a spreadsheet reads as a formula start must not hide that.
DUPLICATE_ROW = 12
FORMULA_STARTS = {"equals": "=", "plus": "+", "minus": "-", "at": "@", "tab": "\t", "cr": "\r", "quote": "'"}


def _concatenated(folder: Path) -> Path:
    table = rows()
    return variants.write_csv(table + table, folder / "export.csv")


def _cr_only(folder: Path) -> Path:
    path = folder / "export.csv"
    path.write_bytes(EMBEDDED_EXPORT.read_bytes().replace(b"\r\n", b"\r"))
    return path


def _without_q12_text(folder: Path) -> Path:
    table = rows()
    keep = [i for i, tag in enumerate(table[0]) if not re.fullmatch(r"Q12_\d_TEXT", tag)]
    return variants.write_csv([[row[i] for i in keep] for row in table], folder / "export.csv")


# --------------------------------------------------------------------------------------------- xlsx

def _xlsx_parts(folder: Path) -> dict[str, bytes]:
    path = variants.write_xlsx(rows(), folder / "source.xlsx")
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    path.unlink()
    return parts


def _zip(parts: dict[str, bytes], path: Path, *, method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as book:
        for name, data in parts.items():
            book.writestr(name, data)
    return path


SHEET = "xl/worksheets/sheet1.xml"


def _xlsx(edit):
    def make(folder: Path) -> Path:
        parts = _xlsx_parts(folder)
        edit(parts)
        return _zip(parts, folder / "export.xlsx")
    return make


def _cut_sheet(parts):
    parts[SHEET] = parts[SHEET][: len(parts[SHEET]) // 2]


def _shared_string_out_of_range(parts):
    parts["xl/sharedStrings.xml"] = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                                     b'count="1" uniqueCount="1"><si><t>StartDate</t></si></sst>')
    parts[SHEET] = re.sub(rb'<c r="A1" t="inlineStr"><is><t>StartDate</t></is></c>', b'<c r="A1" t="s"><v>999999</v></c>',
                          parts[SHEET], count=1)


def _no_worksheets(parts):
    parts["xl/workbook.xml"] = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", parts["xl/workbook.xml"], flags=re.S)


def _missing_sheet(parts):
    del parts[SHEET]


def _broken_styles(parts):
    parts["xl/styles.xml"] = b"<styleSheet><this is not xml"


def _huge_dimension(parts):
    parts[SHEET] = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', parts[SHEET])


def _entity_bomb(parts):
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 12))
    body = parts[SHEET].decode("utf-8")
    body = body.replace("?>", f"?><!DOCTYPE worksheet [{entities}]>", 1)
    parts[SHEET] = re.sub(r"<v>[^<]*</v>", "<v>&a11;</v>", body, count=1).encode("utf-8")


def _rewrite_entry(path: Path, name: str, change) -> Path:
    """Change the stored bytes of one entry (after its local header) in place: flags, compressed data."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as book:
        info = book.getinfo(name)
    change(data, info)
    path.write_bytes(bytes(data))
    return path


def _encrypted(folder: Path) -> Path:
    path = _zip(_xlsx_parts(folder), folder / "export.xlsx")

    def set_flag(data, info):
        data[info.header_offset + 6] |= 0x1                      # the flags of the local header
        at = data.find(b"PK\x01\x02")
        while at >= 0:                                           # and of the part's central directory entry
            length = int.from_bytes(data[at + 28:at + 30], "little")
            if data[at + 46:at + 46 + length] == info.filename.encode():
                data[at + 8] |= 0x1
            at = data.find(b"PK\x01\x02", at + 4)
    return _rewrite_entry(path, SHEET, set_flag)


def _corrupt_deflate(folder: Path) -> Path:
    path = _zip(_xlsx_parts(folder), folder / "export.xlsx")

    def scramble(data, info):
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        for k in range(start + 10, start + min(info.compress_size, 400), 7):
            data[k] ^= 0x5A
    return _rewrite_entry(path, SHEET, scramble)


def _unknown_compression(folder: Path) -> Path:
    path = _zip(_xlsx_parts(folder), folder / "export.xlsx")

    def set_method(data, info):                                  # found by tests/test_fuzz.py (a flipped byte)
        at = data.find(b"PK\x01\x02")
        while at >= 0:
            length = int.from_bytes(data[at + 28:at + 30], "little")
            if data[at + 46:at + 46 + length] == info.filename.encode():
                data[at + 10:at + 12] = (99).to_bytes(2, "little")
            at = data.find(b"PK\x01\x02", at + 4)
    return _rewrite_entry(path, SHEET, set_method)


def _zip_bomb(folder: Path) -> Path:
    parts = _xlsx_parts(folder)
    parts["xl/media/image1.bin"] = b"\0" * (64 << 20)            # 64 MB of zeros pack to 64 kB
    return _zip(parts, folder / "export.xlsx")


# --------------------------------------------------------------------------------------- supplement

def _with_supplement(write):
    def make(folder: Path):
        return EMBEDDED_EXPORT, write(folder)
    return make


def _supplement_text(text: str, name="supplement.csv"):
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        return path
    return _with_supplement(write)


def _supplement_folder(folder: Path) -> Path:
    (folder / "supplement").mkdir()
    return folder / "supplement"


def _supplement_fifo(folder: Path) -> Path:
    os.mkfifo(folder / "supplement.csv")
    return folder / "supplement.csv"


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
SUPPLEMENT_TEXT = EMBEDDED_SUPPLEMENT.read_text(encoding="utf-8")


def _fifo_export(folder: Path) -> Path:
    os.mkfifo(folder / "export.csv")
    return folder / "export.csv"


def _sparse_export(folder: Path) -> Path:
    path = folder / "export.csv"
    with path.open("wb") as handle:
        handle.truncate(32 << 30)                                 # 32 GB, no block written
    return path


CASES = {
    # dates
    "date_odd_format": (_cell("RecordedDate", "1 okt. 2018, kwart over tien"), "ok", "could not be read"),
    "date_impossible": (_cell("RecordedDate", "2018-02-30 25:61:00"), "ok", "could not be read"),
    "date_year_zero": (_cell("RecordedDate", "0000-01-01 00:00:00"), "ok", "could not be read"),
    "date_far_future": (_cell("RecordedDate", "99999-12-31 23:59:59"), "ok", "could not be read"),
    "date_hundreds_of_digits": (_cell("RecordedDate", "9" * 400), "ok", "could not be read"),
    "date_iso_z": (_cell("RecordedDate", "2018-10-01T10:00:00Z"), "ok", ""),
    "date_iso_offset": (_cell("RecordedDate", "2018-10-01T10:00:00+02:00"), "ok", ""),
    "date_mixed_offsets": (_edited(_mixed_offsets), "ok", ""),
    # time zones and ImportIds
    "zone_unknown": (_zone('"Mars/Olympus_Mons"'), "ok", "not a time zone of the IANA database"),
    "zone_number": (_zone("5"), "ok", "not a time zone of the IANA database"),
    "zone_path": (_zone('"../../../../etc/passwd"'), "ok", "not a time zone of the IANA database"),
    "zone_absolute_path": (_zone('"/etc/localtime"'), "ok", "not a time zone of the IANA database"),
    "import_id_nested_deep": (_edited(_deep_import_id), "ok", ""),
    # numbers
    "head_count_400_digits": (_cell("Q12_1_TEXT", "Docenten (" + "9" * 400 + ")"), "ok", "MAX_NUMBER_DIGITS"),
    "choice_value_400_digits": (_cell("Q6", "9" * 400), "ok", "MAX_NUMBER_DIGITS"),
    "level_400_digits": (_cell("Q12_1", "9" * 400), "ok", "MAX_NUMBER_DIGITS"),
    # damaged workbooks
    "xlsx_cut_sheet": (_xlsx(_cut_sheet), "error", "workbook is damaged"),
    "xlsx_shared_string_out_of_range": (_xlsx(_shared_string_out_of_range), "error", "workbook is damaged"),
    "xlsx_no_worksheets": (_xlsx(_no_worksheets), "error", "no worksheets"),
    "xlsx_missing_sheet_part": (_xlsx(_missing_sheet), "error", "no worksheets"),
    "xlsx_broken_styles": (_xlsx(_broken_styles), "error", "workbook is damaged"),
    "xlsx_huge_dimension": (_xlsx(_huge_dimension), "ok", ""),
    "xlsx_entity_bomb": (_xlsx(_entity_bomb), "error", "workbook is damaged"),
    "xlsx_encrypted_entry": (_encrypted, "error", "encrypted"),
    "xlsx_corrupt_deflate": (_corrupt_deflate, "error", "workbook is damaged"),
    "xlsx_zip_bomb": (_zip_bomb, "error", "MAX_XLSX_RATIO"),
    "xlsx_unknown_compression_method": (_unknown_compression, "error", "workbook"),
    # the supplement
    "supplement_folder": (_with_supplement(_supplement_folder), "error", "is a folder"),
    "supplement_more_cells": (_supplement_text("q2,q3\nWSD X,Netwerk A,extra cel\n"), "error", "3 cells where"),
    "supplement_header_twice": (_supplement_text("q2,q3,q3\nWSD X,Netwerk A,Netwerk B\n"), "error", "more than once"),
    "supplement_binary": (_supplement_text(b"q2,q3\n\x00\x01\x02\xff\xfe\n"), "error", "binary data"),
    "supplement_image": (_supplement_text(PNG), "error", "PNG image"),
    "supplement_cut_in_quotes": (_supplement_text('q2,q3,q7\nWSD X,Netwerk A,"begint maar\neindigt niet\n'),
                                 "error", "cut off inside a quoted cell"),
    "supplement_fifo": (_with_supplement(_supplement_fifo), "error", "named pipe"),
    "supplement_dev_zero": (lambda folder: (EMBEDDED_EXPORT, Path("/dev/zero")), "error", "character device"),
    # wrong results once reported as success
    "tags_row_repeated": (_header_repeated(0), "ok", "repeat the header rows"),
    "labels_as_fourth_header_row": (_header_repeated(1), "ok", "repeat the header rows"),
    "import_ids_repeated": (_header_repeated(2), "ok", "repeat the header rows"),
    "two_exports_concatenated": (_concatenated, "ok", "repeat the header rows"),
    "row_of_a_million_cells": (_edited(lambda t: kept_row(t).extend([""] * 1_000_000)), "error",
                               "cells where the header has"),
    "first_header_row_twice": (_header_repeated(0, at=1), "ok", "first header row is in the file twice"),
    **{f"duplicate_network_name_after_{name}": (_cell("Q3", prefix + "Leerinfrastructuur sociaal wijkteams",
                                                      row=DUPLICATE_ROW), "ok", "")
       for name, prefix in FORMULA_STARTS.items()},
    "duplicate_respondent_after_equals": (_cell("Q1", "=Gijs Probeer", row=DUPLICATE_ROW), "ok", ""),
    # wrong rejections
    "cr_line_endings": (_cr_only, "ok", ""),
    # hangs and memory
    "export_fifo": (_fifo_export, "error", "named pipe"),
    "export_dev_zero": (lambda folder: Path("/dev/zero"), "error", "character device"),
    "export_sparse_32_gb": (_sparse_export, "error", "MAX_FILE_BYTES"),
}

# The network count each "ok" case must give (the embedded export has 15 kept survey networks, 17 with its
# supplement); cases that change which rows are kept say so here.
NETWORKS = {"two_exports_concatenated": 15}

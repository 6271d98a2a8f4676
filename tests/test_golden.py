"""The reports of two waves, byte for byte: the embedded wave 2018 and a second wave of 48 networks that is
compared with it. A change of the package's layout, of the stage runner or of the start method of the
background work must give the same files; a change that means to alter the report rewrites the digests
with `pytest tests/test_golden.py --update-snapshots` and says why in its commit.

manifest.json and run.log are left out: they name the run's temporary folders and the package's versions. A PDF
is compared without its embedded font programs: WeasyPrint subsets fonts with HarfBuzz where the system has
libharfbuzz-subset (Debian installs it with Chromium) and with fontTools where not, which gives other bytes
for the same glyphs; every other object of the PDF, text, layout and tags included, is held to the record."""

from __future__ import annotations

import hashlib
import json

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from conftest import ROOT

GOLDEN = ROOT / "tests" / "snapshots" / "golden_reports.json"


FONT_PROGRAMS = {"/FontFile", "/FontFile2", "/FontFile3"}


def pdf_digest(path) -> str:
    """sha256 of a PDF's objects as reached from its catalogue and its metadata, font programs left out."""
    reader = PdfReader(path)
    roots = [reader.trailer.raw_get(key) for key in ("/Root", "/Info") if key in reader.trailer]
    queue, seen = list(roots), {ref.idnum for ref in roots}

    def canonical(obj) -> str:
        if isinstance(obj, IndirectObject):
            if obj.idnum not in seen:
                seen.add(obj.idnum)
                queue.append(obj)
            return f"{obj.idnum} R"
        if isinstance(obj, DictionaryObject):
            body = "<<" + " ".join(f"{key} " + ("font-program" if key in FONT_PROGRAMS else canonical(obj.raw_get(key)))
                                   for key in sorted(obj) if key != "/Length") + ">>"
            if isinstance(obj, StreamObject):
                body += " stream " + hashlib.sha256(obj.get_data()).hexdigest()
            return body
        if isinstance(obj, ArrayObject):
            return "[" + " ".join(canonical(item) for item in obj) + "]"
        return repr(obj)

    digest = hashlib.sha256()
    while queue:
        ref = queue.pop(0)
        digest.update(f"{ref.idnum}: {canonical(ref.get_object())}\n".encode())
    return digest.hexdigest()


def digests(folder) -> dict[str, str]:
    """sha256 of every file of a report folder but manifest.json and run.log (of a PDF: pdf_digest), by path."""
    return {p.relative_to(folder).as_posix(): pdf_digest(p) if p.suffix == ".pdf" else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in ("manifest.json", "run.log")}


def test_the_reports_of_two_waves_are_the_same_bytes_as_recorded(two_waves, request):
    found = {name: digests(two_waves / "reports" / name) for name in ("2018", "2025")}
    assert all(found.values()), "a wave's report folder is empty"
    if request.config.getoption("--update-snapshots") or not GOLDEN.exists():
        GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if not request.config.getoption("--update-snapshots"):
            pytest.fail(f"{GOLDEN} did not exist; written now from this run: commit it")
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    changed = {name: sorted(path for path in recorded[name].keys() | found[name].keys()
                            if recorded[name].get(path) != found[name].get(path)) for name in recorded}
    assert not any(changed.values()), f"these files differ from {GOLDEN.name}: {changed}"

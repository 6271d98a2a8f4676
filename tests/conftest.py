"""Shared fixtures: paths to the embedded dataset and to ../shared, which a user's clone may lack."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.config import load_instrument, load_settings

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
EMBEDDED_EXPORT = RAW / "wsd_leernetwerken_2018.csv"
EMBEDDED_SUPPLEMENT = RAW / "wsd_leernetwerken_2018_supplement.csv"
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures" / "qualtrics"


def shared_fixtures() -> Path:
    """The real Qualtrics exports; skipped on a user's clone, required on CI."""
    if FIXTURES.is_dir():
        return FIXTURES
    if os.environ.get("CI") == "true":
        pytest.fail(f"{FIXTURES} is missing, and CI always has ../shared beside the project.")
    pytest.skip(f"{FIXTURES} is not here (a user's clone has no ../shared); the real-export tests need it.")


@pytest.fixture(scope="session")
def instrument():
    return load_instrument()


@pytest.fixture(scope="session")
def settings():
    return load_settings()


def pytest_addoption(parser):
    parser.addoption("--update-snapshots", action="store_true",
                     help="rewrite tests/snapshots/ from the current templates and stages")


@pytest.fixture(scope="session")
def embedded_report(tmp_path_factory):
    """One full run of the embedded wave (export and supplement), dated 1 January 2019, shared by tests
    that only read its outputs."""
    from pipeline import run_pipeline
    folder = tmp_path_factory.mktemp("embedded_report")
    patch = pytest.MonkeyPatch()
    patch.setenv("SOURCE_DATE_EPOCH", "1546300800")
    try:
        run_pipeline(export=EMBEDDED_EXPORT, supplement=EMBEDDED_SUPPLEMENT, out=folder / "out",
                     processed=folder / "processed")
    finally:
        patch.undo()
    return folder


def make_wave(waves: Path, name: str, *, export: Path = EMBEDDED_EXPORT, supplement: Path | None = EMBEDDED_SUPPLEMENT,
              texts_from: Path = ROOT / "waves" / "2018" / "texts", **fields) -> Path:
    """A wave folder waves/<name>/ for a test: wave.yaml with absolute paths, and a copy of the texts."""
    import shutil
    import yaml
    folder = waves / name
    folder.mkdir(parents=True)
    shutil.copytree(texts_from, folder / "texts")
    record = {"title": "Rapport leernetwerken (test)", "year": 2025, "authors": ["Test Verzonnen"],
              "export": str(export), "supplement": str(supplement) if supplement else None, "final": False,
              **fields}
    (folder / "wave.yaml").write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    return waves

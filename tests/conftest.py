"""Shared fixtures: paths to the embedded dataset and to ../shared, which a user's clone may lack, and the
pipeline runs that several tests read.

A whole run (ingest to the PDF and the Word edition) costs seconds; the suite runs on two workers
(`make test` calls pytest-xdist). A test that only reads a run's outputs takes one of the shared runs below
instead of running the pipeline itself:

    def test_something(embedded_report):          # tmp folder with out/ (the report) and processed/
        html = (embedded_report / "out" / "report.html").read_text(encoding="utf-8")

- `embedded_report`: the embedded export and supplement, SOURCE_DATE_EPOCH 1 January 2019, as
  `python -m pipeline run`; `messages.txt` beside out/ holds what it printed (stdout, then stderr).
- `embedded_report_again`: the same run a second time, for tests that compare two runs byte for byte.
- `two_waves`: waves/2018 and a generated waves/2025 that follows it, built as `make report` builds
  them (reports/2018, reports/2025): the golden reports, and a second wave for the layout checks.
- `hostile_report`: the embedded export with hostile text (`test_report.HOSTILE`) in a name and answers.
- `added_item_report`: the embedded export answering one more yes/no item, which a copy of the config
  declares (tests/test_added_item.py); its config/ is beside out/.
- `any_report`: embedded_report and added_item_report in turn, each with the instrument it was built with,
  for a check whose expectations (how many tables and figures, which items) must follow the instrument:
  it takes them from `report_tables(instrument)`, `report_figures(instrument)` and the instrument itself,
  never from a number written in the test.

Shared runs are read-only: a test that changes files copies them first (`shutil.copytree(report / "out",
tmp_path / "out")`), or renders into its own folder from the shared processed/ (render only reads it).
A new kind of run that two or more tests need becomes a session fixture here, built with `shared_run(
tmp_path_factory, "name", build)`: it is made once for the whole session, whichever worker asks first,
and the other worker waits for it (a file lock) instead of making it again. A test whose behaviour is
the run itself (a refused input, a stage that stops) still runs the pipeline in its own tmp_path, and
stops after the stage it checks (`run --to aggregate`, `run_pipeline(stop=...)`) when later ones add
nothing to what it asserts.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NoReturn

import pytest

from pipeline.core.config import Instrument, load_config, load_instrument, load_settings

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
EMBEDDED_EXPORT = RAW / "wsd_leernetwerken_2018.csv"
EMBEDDED_SUPPLEMENT = RAW / "wsd_leernetwerken_2018_supplement.csv"
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures" / "qualtrics"
EPOCH = "1546300800"   # 1 January 2019, the embedded report's date


def skip_or_fail_on_ci(reason: str, *, on_ci: str) -> NoReturn:
    """Skip the test for `reason`, something a user's machine may lack; fail it instead when the environment
    variable CI is "true", where it is never missing (`on_ci` says why), so that no test skips there unseen.
    A skip for a reason CI cannot remove (running as root) calls pytest.skip itself."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI is \"true\": {on_ci}.", pytrace=False)
    pytest.skip(reason)


def shared_fixtures() -> Path:
    """The real Qualtrics exports; skipped on a user's clone, required on CI."""
    if FIXTURES.is_dir():
        return FIXTURES
    skip_or_fail_on_ci(f"{FIXTURES} is not here (a user's clone has no ../shared); the real-export tests need it",
                       on_ci="CI always has ../shared beside the project")


@pytest.fixture
def make_and_venv() -> None:
    """For a test that runs `make`: make on the PATH and the project's .venv (`make install`); skipped without
    them, failed on CI (which runs `make test`: make is there, and it makes .venv first)."""
    missing = [what for what, there in (("make", shutil.which("make") is not None),
                                        (".venv (make install)", (ROOT / ".venv" / "bin" / "python").exists()))
               if not there]
    if missing:
        skip_or_fail_on_ci(f"needs {' and '.join(missing)}",
                           on_ci="CI runs `make test`, which has make and creates .venv before the tests")


@pytest.fixture(scope="session")
def instrument():
    return load_instrument()


# What the suite expects of a report in numbers (items, tables, figures) follows the instrument it was built with,
# so that a researcher who declares another item in config/instrument.yaml keeps a green suite (test_added_item
# builds such a report and runs the checks of the report on it).

# The tables every run makes whatever the instrument declares (without a previous wave): the overview of 3.2, the
# summary of the yes/no items, and the data tables of the output contract with the codebook of their SPSS files.
REPORT_WIDE_TABLES = ("overzicht", "ja_nee_vragen", "networks", "involvement", "codes", "spss_codebook")


def report_tables(instrument: Instrument) -> set[str]:
    """The name of every table a run makes with `instrument` (no previous wave): the report-wide ones, each item's
    declared table and the per-network table of a coded item that declares one."""
    declared = {it.report.table for it in instrument.items if it.report.table}
    per_network = {it.report.per_network["table"] for it in instrument.items if it.report.per_network}
    return set(REPORT_WIDE_TABLES) | declared | per_network


def report_figures(instrument: Instrument) -> list[str]:
    """The name of every figure `instrument` declares, in the report's order (no previous wave)."""
    return [spec.name for _, spec in instrument.figures]


def shown_figures(instrument: Instrument) -> list[str]:
    """The figures of report_figures that the report shows (the others, in_report: false, are in figures/)."""
    return [spec.name for _, spec in instrument.figures if spec.in_report]


def embedded_export_lacks(instrument: Instrument) -> list[str]:
    """The items of `instrument` that the embedded 2018 export has no column of (by export tag), in questionnaire
    order: none of the project's instrument, the 2018 questionnaire; an item a researcher adds for a later wave."""
    import csv
    with EMBEDDED_EXPORT.open(encoding="utf-8-sig", newline="") as handle:
        tags = next(csv.reader(handle))
    return [it.id for it in instrument.items
            if not any(tag == it.export_tag or tag.startswith(f"{it.export_tag}_") for tag in tags)]


@pytest.fixture(scope="session")
def settings():
    return load_settings()


def pytest_addoption(parser):
    parser.addoption("--update-snapshots", action="store_true",
                     help="rewrite tests/snapshots/ from the current templates and stages")


class FileProgress:
    """On the xdist controller: one line per test file when its last test is done (its outcomes and the
    time since the session began), so that a slow file says where the suite is; xdist's dots do not."""

    def __init__(self, reporter):
        self.reporter, self.total, self.done, self.outcomes, self.outcome = reporter, {}, {}, {}, {}
        self.started = time.monotonic()

    def pytest_xdist_node_collection_finished(self, node, ids):
        if not self.total:      # every worker collects the same tests
            for nodeid in ids:
                name = nodeid.split("::", 1)[0]
                self.total[name] = self.total.get(name, 0) + 1

    def pytest_runtest_logreport(self, report):
        name = report.nodeid.split("::", 1)[0]
        if report.failed:
            self.outcome[report.nodeid] = "failed" if report.when == "call" else "error"
        elif report.skipped or (report.when == "call" and report.nodeid not in self.outcome):
            self.outcome[report.nodeid] = report.outcome
        if report.when != "teardown" or name not in self.total:
            return
        tally = self.outcomes.setdefault(name, {})
        outcome = self.outcome.pop(report.nodeid, "passed")
        tally[outcome] = tally.get(outcome, 0) + 1
        self.done[name] = self.done.get(name, 0) + 1
        if self.done[name] == self.total[name]:
            counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(tally.items()))
            finished = sum(self.done.values()) * 100 // sum(self.total.values())
            if self.reporter._tw.width_of_current_line:     # after a row of dots
                self.reporter.write("\n")
            self.reporter.write_line(f"{name}: {counts} ({time.monotonic() - self.started:.0f} s into the run, "
                                     f"{finished}% of the tests done)")


# Files whose tests run the whole pipeline in their own folders, tens of seconds each: they go first, so that
# the two workers end together on the short tests instead of one waiting for the other's last long one.
LONG_FIRST = ("test_waves.py", "test_make.py", "test_hostile.py", "test_declarations.py", "test_output_folder.py")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: LONG_FIRST.index(item.path.name) if item.path.name in LONG_FIRST else len(LONG_FIRST))


@pytest.hookimpl(trylast=True)     # after the terminal plugin has made its reporter
def pytest_configure(config):
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if reporter is not None and not hasattr(config, "workerinput") and config.getoption("numprocesses", None):
        config.pluginmanager.register(FileProgress(reporter), "file-progress")


def synthetic_export(networks: int, path: Path) -> Path:
    """A generated Qualtrics export of `networks` responses at `path` (bench/generate.py, the benchmarks'
    generator, which is no package: it is imported from its folder)."""
    import sys
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return generate(networks, path)


def shared_run(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder that `build(folder)` fills once per test session, shared by every test on every xdist worker.

    The workers' temporary folders sit side by side in one folder of the session; the first worker to ask
    builds there under a file lock, and the others wait for it and reuse the result. A build that failed
    is not tried again: every later test that asks fails at once with its message."""
    from filelock import FileLock
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    folder, done, failed = (base / f"shared-{name}{suffix}" for suffix in ("", ".complete", ".failed"))
    with FileLock(str(base / f"shared-{name}.lock")):
        if failed.exists():
            pytest.fail(f"the shared run {name} failed in an earlier test: {failed.read_text(encoding='utf-8')}")
        if not done.exists():
            folder.mkdir()
            try:
                build(folder)
            except BaseException as exc:
                failed.write_text(f"{type(exc).__name__}: {exc}", encoding="utf-8")
                raise
            done.touch()
    return folder


def run_cli(folder: Path, argv: list[str], *, epoch: str | None = EPOCH) -> None:
    """`python -m pipeline` with `argv` in this process (SOURCE_DATE_EPOCH set to `epoch`); what it printed
    goes to folder/messages.txt. Fails when it exits with an error."""
    from pipeline.app.cli import main
    printed, errors = io.StringIO(), io.StringIO()
    patch = pytest.MonkeyPatch()
    if epoch is not None:
        patch.setenv("SOURCE_DATE_EPOCH", epoch)
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
            code = main(argv)
    finally:
        patch.undo()
    (folder / "messages.txt").write_text(printed.getvalue() + errors.getvalue(), encoding="utf-8")
    assert code == 0, f"{' '.join(argv)}: exit status {code}: {errors.getvalue()}"


def _embedded_run(folder: Path) -> None:
    run_cli(folder, ["run", "--export", str(EMBEDDED_EXPORT), "--supplement", str(EMBEDDED_SUPPLEMENT),
                     "--out", str(folder / "out"), "--processed", str(folder / "processed")])


@pytest.fixture(scope="session")
def embedded_report(tmp_path_factory) -> Path:
    """One full run of the embedded wave (export and supplement), dated 1 January 2019, shared by tests
    that only read its outputs: out/ (the report folder), processed/ and messages.txt (what it printed)."""
    return shared_run(tmp_path_factory, "embedded_report", _embedded_run)


@pytest.fixture(scope="session")
def embedded_report_again(tmp_path_factory) -> Path:
    """A second run exactly like embedded_report, in its own folders: for tests that two runs give the same
    bytes."""
    return shared_run(tmp_path_factory, "embedded_report_again", _embedded_run)


SECOND_WAVE_NETWORKS = 48


def build_two_waves(folder: Path) -> None:
    """waves/2018 (the embedded export, a draft as in the repository) and waves/2025 (a generated export of
    SECOND_WAVE_NETWORKS networks, previous 2018), built into folder/reports."""
    from pipeline import run_pipeline
    from pipeline.waves.wave import load_wave
    export = synthetic_export(SECOND_WAVE_NETWORKS, folder / "second_wave.csv")
    waves = folder / "waves"
    make_wave(waves, "2018")
    # The embedded wave's decisions on its participant categories (waves/2018/group_decisions.csv) go with it.
    shutil.copy(ROOT / "waves" / "2018" / "group_decisions.csv", waves / "2018")
    make_wave(waves, "2025", export=export, supplement=None, previous="2018")
    patch = pytest.MonkeyPatch()
    patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    try:
        for name in ("2018", "2025"):
            run_pipeline(wave=load_wave(name, waves_dir=waves))
    finally:
        patch.undo()


@pytest.fixture(scope="session")
def two_waves(tmp_path_factory) -> Path:
    """The two waves of build_two_waves, built once: reports/2018 and reports/2025 (the golden reports)."""
    return shared_run(tmp_path_factory, "golden-two-waves", build_two_waves)


@pytest.fixture(scope="session")
def hostile_report(tmp_path_factory) -> Path:
    """A full run of the embedded export with hostile text in a network name and in answers (see
    test_report._hostile_export): out/, processed/, messages.txt and hostile.csv, the export."""
    from test_report import _hostile_export

    def build(folder: Path) -> None:
        export = _hostile_export(folder)
        run_cli(folder, ["run", "--export", str(export), "--supplement", str(EMBEDDED_SUPPLEMENT),
                         "--out", str(folder / "out"), "--processed", str(folder / "processed"), "--quiet"],
                epoch=None)
    return shared_run(tmp_path_factory, "hostile_report", build)


@pytest.fixture(scope="session")
def added_item_report(tmp_path_factory) -> Path:
    """A full run like embedded_report, dated 1 January 2019, with a copy of the config that declares one yes/no
    item more than the project's (with a table, a figure, a place in 3.5 and in Bijlage 2) and the embedded
    export with answers to it (test_added_item.build_added_item_report): out/, processed/, messages.txt,
    config/ and the export."""
    from test_added_item import build_added_item_report
    return shared_run(tmp_path_factory, "added_item_report", build_added_item_report)


@dataclass(frozen=True)
class BuiltReport:
    """A shared run (out/, processed/, messages.txt) and the instrument of the config it was built with."""

    folder: Path
    instrument: Instrument

    @property
    def out(self) -> Path:
        return self.folder / "out"

    @property
    def processed(self) -> Path:
        return self.folder / "processed"


@pytest.fixture(scope="session", params=["embedded", "added_item"])
def any_report(request) -> BuiltReport:
    """Each of two shared runs, for the checks of the report whose expectations follow the instrument: the
    embedded report, built with config/, and added_item_report, built with a config that declares one item
    more. A check that takes it holds for whatever the instrument declares, an item added by a researcher
    included."""
    if request.param == "embedded":
        return BuiltReport(request.getfixturevalue("embedded_report"), load_instrument())
    folder = request.getfixturevalue("added_item_report")
    return BuiltReport(folder, load_config(folder / "config").instrument)


def make_wave(waves: Path, name: str, *, export: Path = EMBEDDED_EXPORT, supplement: Path | None = EMBEDDED_SUPPLEMENT,
              texts_from: Path = ROOT / "waves" / "2018" / "texts", **fields) -> Path:
    """A wave folder waves/<name>/ for a test: wave.yaml with absolute paths, and a copy of the texts."""
    import yaml
    folder = waves / name
    folder.mkdir(parents=True)
    shutil.copytree(texts_from, folder / "texts")
    record = {"title": "Rapport leernetwerken (test)", "year": 2025, "authors": ["Test Verzonnen"],
              "export": str(export), "supplement": str(supplement) if supplement else None, "final": False,
              **fields}
    (folder / "wave.yaml").write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    return waves


def build_embedded_wave(folder: Path) -> None:
    """waves/2018 in `folder`: the embedded export as a wave (a draft), built with the report's fixed date."""
    from pipeline import run_pipeline
    from pipeline.waves.wave import load_wave
    patch = pytest.MonkeyPatch()
    patch.setenv("SOURCE_DATE_EPOCH", "1546300800")
    try:
        run_pipeline(wave=load_wave("2018", waves_dir=make_wave(folder / "waves", "2018")))
    finally:
        patch.undo()


def review_everything(waves: Path, name: str, *, coder: str = "TV") -> None:
    """Wave <name>, built at least up to aggregate, made the wave of a researcher who finished: every coded
    answer reviewed with the rules' codes kept (coding_reviews.csv), every quote shown approved (quotes.csv,
    through the quotes command). Rebuild from aggregate afterwards."""
    from pipeline.app.cli import main
    from pipeline.coding.rules import answers
    from pipeline.core.schemas import NETWORKS, read_parquet
    from pipeline.core.wave_files import read_quotes_file, reviews_csv, write_quotes_file
    folder = waves / name
    networks = read_parquet(folder / "processed" / "networks.parquet", schema=NETWORKS, extra_text_prefix="q")
    coded = answers(networks, load_config().codebook.items)
    (folder / "coding_reviews.csv").write_bytes(reviews_csv(coded.assign(coder=coder)))
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--waves", str(waves), "quotes", "--wave", name]) == 0
    quotes = read_quotes_file(folder / "quotes.csv")
    shown = quotes["kind"] == "quote"
    quotes.loc[shown, "decision"], quotes.loc[shown, "reviewer"] = "approve", coder
    write_quotes_file(folder / "quotes.csv", quotes)


def networks_frame(**answers):
    """A networks table of one network per keyword (network_id, response_key, werkplaats, name) whose
    q17, q19 and q23 answers are given as a dict per network, for stage tests on small frames."""
    import pandas as pd
    frame = pd.DataFrame({"network_id": list(answers), "response_key": [f"rk-{a}" for a in answers],
                          "werkplaats": "W", "name": list(answers)})
    for item in ("q17", "q19", "q23"):
        frame[item] = [a.get(item, "") for a in answers.values()]
    return frame


def converted_by_libreoffice(source: Path, folder: Path, *, packages: str) -> Path:
    """`source` converted to PDF by LibreOffice (headless, with a profile of its own in `folder`), as a
    reader without Word or Excel sees it; skips (fails on CI) without LibreOffice, naming the `packages`."""
    import shutil
    import subprocess
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        skip_or_fail_on_ci(f"LibreOffice (soffice) is not installed: `make office`, or apt-get install {packages}",
                           on_ci="make test runs make office first")
    done = subprocess.run([soffice, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless",
                           "--convert-to", "pdf", "--outdir", str(folder), str(source)],
                          check=True, capture_output=True, text=True, timeout=300)
    converted = folder / f"{source.stem}.pdf"
    # soffice exits 0 when the component for the file (Calc for .xlsx) is missing: it only prints an error.
    if not converted.exists():
        pytest.fail(f"LibreOffice wrote no PDF of {source.name} (is {packages} installed? `make office`):\n"
                    f"{done.stdout}{done.stderr}")
    return converted

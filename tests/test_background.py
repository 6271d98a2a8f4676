"""Work in a second process (pipeline.core.background), by every start method: what it returns, its errors
as the run's own messages, the same report bytes whichever way it starts, and a report whose PDF process
fails or dies leaving the previous report and no staging."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import warnings
from functools import partial
from pathlib import Path

import pytest

from pipeline.core.background import START_METHODS, Job, start_method, wait_all
from pipeline.core.errors import PipelineError
from conftest import EPOCH, make_wave, shared_run

METHODS = [m for m in START_METHODS if m == "inline" or m in multiprocessing.get_all_start_methods()]


def _fail():
    raise PipelineError("x.yaml: line 3 is broken; fix it.")


def _crash():
    raise ValueError("no such thing")


def _die():
    os._exit(3)


def _write(target: Path) -> int:
    return target.write_text("done") and 52


@pytest.mark.parametrize("method", METHODS)
def test_a_job_gives_what_its_work_returned(tmp_path, monkeypatch, method):
    monkeypatch.setenv("WSD_BACKGROUND", method)
    target = tmp_path / "written"
    job = Job(partial(_write, target), what="the test")
    assert job.method == method
    assert job.wait() == 52 and target.read_text() == "done"
    assert job.wait() == 52   # asked again: the same answer


def test_work_that_cannot_be_pickled_is_done_in_order_where_only_a_fresh_interpreter_is_safe(tmp_path, monkeypatch):
    for method in ("forkserver", "spawn"):
        if method in METHODS:
            monkeypatch.setenv("WSD_BACKGROUND", method)
            job = Job(lambda: 7, what="a closure")
            assert job.method == "inline" and job.wait() == 7
            assert start_method() == "inline"


def test_a_start_method_that_does_not_exist_is_refused(monkeypatch):
    monkeypatch.setenv("WSD_BACKGROUND", "thread")
    with pytest.raises(PipelineError, match="WSD_BACKGROUND='thread': choose one of fork, forkserver, spawn, inline"):
        start_method()


def test_fork_is_chosen_only_in_a_process_with_one_thread(monkeypatch):
    import threading
    monkeypatch.delenv("WSD_BACKGROUND", raising=False)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert start_method() == "inline"
        assert start_method(partial(_write, Path("x"))) in ("forkserver", "spawn")
    finally:
        stop.set()
        thread.join()


FAILURES = [(_fail, "x.yaml: line 3 is broken; fix it."),
            (_crash, "the test failed: ValueError: no such thing; report this with run.log."),
            (_die, "the test stopped without finishing (exit status 3); run again, and report it if it happens again.")]


# Inline there is no second process to die: os._exit would end the one that runs the tests.
@pytest.mark.parametrize("method, work, message", [(m, w, t) for m in METHODS for w, t in FAILURES
                                                   if not (m == "inline" and w is _die)])
def test_a_failing_job_raises_one_message(work, message, method, monkeypatch):
    monkeypatch.setenv("WSD_BACKGROUND", method)
    with pytest.raises(PipelineError) as raised:
        Job(work, what="the test").wait()
    assert str(raised.value) == message


@pytest.mark.filterwarnings("ignore:.*multi-threaded, use of fork:DeprecationWarning")
def test_wait_all_waits_for_every_job_before_raising(tmp_path, monkeypatch):
    monkeypatch.setenv("WSD_BACKGROUND", "fork" if "fork" in METHODS else "spawn")
    late = tmp_path / "late"

    def slow():
        import time
        time.sleep(0.5)
        late.write_text("here")
    with pytest.raises(PipelineError, match="line 3"):
        wait_all([Job(_fail, what="first"), Job(slow, what="second")])
    assert late.read_text() == "here"


@pytest.fixture(scope="module")
def rendered_once(tmp_path_factory, embedded_report):
    """The embedded export through every stage, and a first report: a copy of the shared run (conftest), which
    the tests below render into again."""
    folder = tmp_path_factory.mktemp("background")
    for part in ("processed", "out"):
        shutil.copytree(embedded_report / part, folder / part)
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# The patched function reaches the PDF process only through a fork; Python 3.12+ warns about that fork.
@pytest.mark.filterwarnings("ignore:.*multi-threaded, use of fork:DeprecationWarning")
@pytest.mark.parametrize("broken", ["error", "death"])
def test_a_failed_pdf_process_leaves_the_previous_report(rendered_once, monkeypatch, broken):
    from pipeline import run_pipeline
    from pipeline.publishing import render
    out = rendered_once / "out"
    before = _snapshot(out)
    # The forked PDF process inherits the patched function.
    monkeypatch.setenv("WSD_BACKGROUND", "fork")
    monkeypatch.setattr(render, "_write_pdf", (lambda *a, **k: _fail()) if broken == "error" else
                        (lambda *a, **k: _die()))
    with pytest.raises(PipelineError) as raised:
        run_pipeline(processed=rendered_once / "processed", out=out, start="render")
    assert ("line 3 is broken" if broken == "error" else "the PDF (WeasyPrint) stopped") in str(raised.value)
    assert _snapshot(out) == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")], "a staging folder was left"


def _build(folder: Path, method: str) -> dict[str, str]:
    """The embedded wave's report with the start method forced: digests of its files (PDFs without their
    font programs), asserting that no path but a forced fork warns (Python 3.12+ warns about a fork with
    threads)."""
    from pipeline import run_pipeline
    from pipeline.waves.wave import load_wave
    from test_golden import digests
    waves = folder / "waves"
    make_wave(waves, "2018")
    patch = pytest.MonkeyPatch()
    patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    patch.setenv("WSD_BACKGROUND", method)
    try:
        with warnings.catch_warnings():
            if method != "fork":
                warnings.filterwarnings("error", message=".*multi-threaded, use of fork", category=DeprecationWarning)
            run_pipeline(wave=load_wave("2018", waves_dir=waves))
    finally:
        patch.undo()
    return digests(folder / "reports" / "2018")


def _build_inline(folder: Path) -> None:
    (folder / "digests.json").write_text(json.dumps(_build(folder, "inline")), encoding="utf-8")


@pytest.fixture(scope="module")
def inline_report(tmp_path_factory):
    """The report with everything done in order in one process: what every start method must give (its
    digests; built once for the session, whichever worker runs these tests, by conftest.shared_run)."""
    folder = shared_run(tmp_path_factory, "background-inline", _build_inline)
    return json.loads((folder / "digests.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("method", [m for m in METHODS if m != "inline"])
def test_every_start_method_gives_the_same_report_as_one_process(tmp_path, inline_report, method):
    found = _build(tmp_path, method)
    assert sorted(p for p in inline_report.keys() | found.keys() if inline_report.get(p) != found.get(p)) == []

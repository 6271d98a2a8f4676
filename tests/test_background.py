"""Work in a forked second process (pipeline.core.background): what it returns, its errors as the run's own
messages, and a report whose PDF process fails or dies leaving the previous report and no staging."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.core.background import Job, wait_all
from pipeline.core.errors import PipelineError
from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT


def _fail():
    raise PipelineError("x.yaml: line 3 is broken; fix it.")


def _crash():
    raise ValueError("no such thing")


def _die():
    os._exit(3)


def test_a_job_gives_what_its_work_returned(tmp_path):
    target = tmp_path / "written"
    job = Job(lambda: target.write_text("done") and 52, what="the test")
    assert job.wait() == 52 and target.read_text() == "done"
    assert job.wait() == 52   # asked again: the same answer


@pytest.mark.parametrize("work, message", [
    (_fail, "x.yaml: line 3 is broken; fix it."),
    (_crash, "the test failed: ValueError: no such thing; report this with run.log."),
    (_die, "the test stopped without finishing (exit status 3); run again, and report it if it happens again."),
])
def test_a_failing_job_raises_one_message(work, message):
    with pytest.raises(PipelineError) as raised:
        Job(work, what="the test").wait()
    assert str(raised.value) == message


def test_wait_all_waits_for_every_job_before_raising(tmp_path):
    late = tmp_path / "late"

    def slow():
        import time
        time.sleep(0.5)
        late.write_text("here")
    with pytest.raises(PipelineError, match="line 3"):
        wait_all([Job(_fail, what="first"), Job(slow, what="second")])
    assert late.read_text() == "here"


@pytest.fixture(scope="module")
def rendered_once(tmp_path_factory):
    """The embedded export through every stage, and a first report."""
    from pipeline import run_pipeline
    folder = tmp_path_factory.mktemp("background")
    run_pipeline(export=EMBEDDED_EXPORT, supplement=EMBEDDED_SUPPLEMENT, processed=folder / "processed",
                 out=folder / "out")
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("broken", ["error", "death"])
def test_a_failed_pdf_process_leaves_the_previous_report(rendered_once, monkeypatch, broken):
    from pipeline import run_pipeline
    from pipeline.publishing import render
    out = rendered_once / "out"
    before = _snapshot(out)
    # The forked PDF process inherits the patched function.
    monkeypatch.setattr(render, "_write_pdf", (lambda *a, **k: _fail()) if broken == "error" else
                        (lambda *a, **k: _die()))
    with pytest.raises(PipelineError) as raised:
        run_pipeline(processed=rendered_once / "processed", out=out, start="render")
    assert ("line 3 is broken" if broken == "error" else "the PDF (WeasyPrint) stopped") in str(raised.value)
    assert _snapshot(out) == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")], "a staging folder was left"

"""The output folder: a wrong --out never deletes or replaces a file the pipeline did not write."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import EMBEDDED_EXPORT, EMBEDDED_SUPPLEMENT
from pipeline.app.cli import main
from pipeline.core.errors import PipelineError
from pipeline.waves.output_folder import STAGING_MARK, check_output_folder, remove_stale_staging


def _snapshot(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def raw(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    shutil.copy(EMBEDDED_EXPORT, folder / "export.csv")
    (folder / "keep-me.txt").write_text("a researcher's notes", encoding="utf-8")
    return folder


def _refused(capsys, tmp_path, export, out, *extra):
    before = _snapshot(tmp_path)
    code = main(["run", "--export", str(export), "--out", out, "--processed", str(tmp_path / "processed"),
                 "--quiet", *extra])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: --out ") and err.count("\n") == 1, err
    assert "bug in the pipeline" not in err
    assert _snapshot(tmp_path) == before, "a refused run changed files"
    assert not (tmp_path / "processed").exists(), "a refused run must write nothing"
    return err


def test_the_folder_holding_the_export_is_refused(raw, tmp_path, capsys):
    err = _refused(capsys, tmp_path, raw / "export.csv", str(raw))
    assert "input of this run" in err
    assert (raw / "keep-me.txt").exists() and (raw / "export.csv").exists()


def test_the_current_folder_is_refused(raw, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(raw)
    err = _refused(capsys, tmp_path, raw / "export.csv", "")
    assert "current folder" in err


def test_the_export_itself_is_refused(raw, tmp_path, capsys):
    err = _refused(capsys, tmp_path, raw / "export.csv", str(raw / "export.csv"))
    assert "is a file" in err
    assert (raw / "export.csv").read_bytes() == EMBEDDED_EXPORT.read_bytes()


def test_a_folder_under_a_file_is_refused(raw, tmp_path, capsys):
    err = _refused(capsys, tmp_path, raw / "export.csv", str(raw / "keep-me.txt" / "report"))
    assert "which is a file" in err


def test_a_folder_of_other_files_is_refused(raw, tmp_path, capsys):
    documents = tmp_path / "Documenten"
    documents.mkdir()
    (documents / "proefschrift.docx").write_bytes(b"PK\x03\x04 not really")
    err = _refused(capsys, tmp_path, raw / "export.csv", str(documents))
    assert "not a report folder" in err


def test_a_folder_inside_a_template_folder_is_refused(raw, tmp_path, capsys):
    templates = tmp_path / "mine"
    templates.mkdir()
    err = _refused(capsys, tmp_path, raw / "export.csv", str(templates / "report"), "--templates", str(templates))
    assert "inside" in err


def _report_folder(folder, *, extra=None):
    folder.mkdir()
    (folder / "tables").mkdir()
    (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    (folder / "tables" / "status.csv").write_text("Status\n", encoding="utf-8")
    manifest = {"pipeline_version": "0.1.0", "outputs": {"report.html": "x", "tables/status.csv": "y"}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if extra:
        (folder / extra).write_text("mine", encoding="utf-8")
    return folder


def test_a_report_folder_the_pipeline_made_may_be_replaced(tmp_path):
    out = _report_folder(tmp_path / "report")
    assert check_output_folder(out) == out.resolve()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_output_folder(empty) == empty.resolve()
    assert check_output_folder(tmp_path / "new" / "report") == (tmp_path / "new" / "report").resolve()


@pytest.mark.parametrize("extra", ["notities.txt", "tables/mijn-analyse.csv", "~$tables.xlsx"])
def test_a_report_folder_with_a_file_the_pipeline_did_not_write_is_refused(tmp_path, extra):
    out = _report_folder(tmp_path / "report", extra=extra)
    with pytest.raises(PipelineError, match="did not write"):
        check_output_folder(out)


def test_a_manifest_that_is_not_the_pipelines_is_not_enough(tmp_path):
    out = tmp_path / "project"
    out.mkdir()
    (out / "manifest.json").write_text('{"name": "something else"}', encoding="utf-8")
    with pytest.raises(PipelineError, match="not a report folder"):
        check_output_folder(out)


def test_a_staging_folder_left_by_a_killed_run_is_removed_and_others_are_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / ".out.abc123"
    stale.mkdir()
    (stale / STAGING_MARK).write_text(str(dead.pid), encoding="ascii")
    running = tmp_path / ".out.def456"
    running.mkdir()
    (running / STAGING_MARK).write_text(str(os.getppid()), encoding="ascii")
    unmarked = tmp_path / ".out.mine"
    unmarked.mkdir()
    remove_stale_staging(tmp_path / "out")
    assert not stale.exists()
    assert running.exists() and unmarked.exists()


def test_sigterm_during_a_run_leaves_no_staging_folder(tmp_path):
    """A run stopped with SIGTERM ends like Ctrl-C: exit status 1, no staging folder, no report folder."""
    import signal
    import time
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--export", str(EMBEDDED_EXPORT),
                                "--supplement", str(EMBEDDED_SUPPLEMENT), "--out", str(out),
                                "--processed", str(tmp_path / "processed")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("render     report.html"):   # the staging folder exists from here on
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            break
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    assert "stopped (SIGTERM)" in err and "Traceback" not in err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
    assert not out.exists()


def test_a_run_without_a_wave_from_another_folder_writes_nothing_there(tmp_path, monkeypatch):
    """The processed tables of a run without a wave go to the project's data/processed, not to the
    folder the command was started from."""
    from pipeline import run_pipeline
    from pipeline.app.runner import PROJECT_ROOT
    monkeypatch.chdir(tmp_path)
    import pipeline.app.runner as runner
    seen = {}

    def spy(**kwargs):
        seen["processed"] = kwargs["processed"]
        raise PipelineError("stop here")
    monkeypatch.setattr(runner, "inputs_of", spy)
    with pytest.raises(PipelineError, match="stop here"):
        run_pipeline(export=EMBEDDED_EXPORT, stop="ingest")
    assert seen["processed"] == PROJECT_ROOT / "data" / "processed"
    assert list(tmp_path.iterdir()) == []


def test_the_report_folder_can_be_read_by_colleagues(embedded_report):
    """Files and folders of the output get the usual permissions (umask), not those of temporary files."""
    import stat
    out = embedded_report / "out"
    umask = os.umask(0o022)
    os.umask(umask)
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        expected = (0o777 if path.is_dir() else 0o666) & ~umask
        assert mode == expected, f"{path}: {oct(mode)}"

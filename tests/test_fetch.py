"""fetch: a wave's responses and survey definition straight from Qualtrics, against a local stand-in for the
API (tests/qualtrics_server.py, on 127.0.0.1 only) that serves a real export variant and a real .qsf."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from pipeline.app.cli import main
from pipeline.app.fetch import TerminalProgress, fetch_wave
from pipeline.core.errors import PipelineError
from pipeline.reading.qualtrics_api import Waits
from pipeline.waves.wave import load_wave
from conftest import EMBEDDED_EXPORT, ROOT, shared_fixtures
from qualtrics_server import FakeQualtrics, zipped

TOKEN = "PLANTEDtoken0x7Qz9w4vK2mR8"   # planted: no file the tool writes may hold it
SURVEY = "SV_0VVlb9QwJ4bsBKZ"
QSF = ROOT / "tests" / "fixtures" / "qsf" / "qualtreats-output-survey.qsf"   # a real .qsf (of another survey)


@pytest.fixture
def qualtrics(monkeypatch):
    """The stand-in API serving the embedded export (the reader's current format, choice text) zipped, and a
    real .qsf; QUALTRICS_BASE_URL and QUALTRICS_API_TOKEN set to it."""
    fake = FakeQualtrics(token=TOKEN, survey=SURVEY, archive=zipped(EMBEDDED_EXPORT), qsf=QSF.read_bytes())
    monkeypatch.setenv("QUALTRICS_BASE_URL", fake.start())
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)
    monkeypatch.delenv("QUALTRICS_DATA_CENTER", raising=False)
    yield fake
    fake.stop()


class FakeTime:
    """Waits that take no time: sleeping moves a clock."""

    def __init__(self):
        self.now, self.slept = 0.0, []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def waits(self, **changes) -> Waits:
        return Waits(sleep=self.sleep, clock=lambda: self.now, **{"connect_retries": 0, **changes})


def _cli(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _fetch(waves: Path, name: str = "2025", *extra: str) -> tuple[int, str, str]:
    return _cli(["--waves", str(waves), "fetch", "--wave", name, "--survey", SURVEY, *extra])


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _no_token_anywhere(*folders: Path) -> int:
    """How many files were searched; fails naming the first file holding the token."""
    searched = 0
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                searched += 1
                assert TOKEN.encode() not in path.read_bytes(), f"{path} holds the API token"
    return searched


# ------------------------------------------------------------------------------------- the whole way

def test_from_a_wave_name_and_a_survey_id_to_a_draft_report_with_the_token_nowhere(tmp_path, qualtrics):
    waves = tmp_path / "waves"
    code, out, err = _fetch(waves, "2025", "--since", "2018-09-01")
    assert code == 0, err
    assert err == ""
    wave = load_wave("2025", waves_dir=waves)
    assert wave.export.parent == wave.folder / "data" and wave.export.name.startswith(f"qualtrics_{SURVEY}_")
    assert wave.export.read_bytes() == EMBEDDED_EXPORT.read_bytes()          # the zip's file, byte for byte
    assert wave.fetched is not None and wave.fetched.survey == SURVEY
    assert (wave.folder / "data" / wave.export.with_suffix(".qsf").name).read_bytes().startswith(b"{")
    assert "make report WAVE=2025" in out and "18 responses" in out
    assert "this looks like the definition of another survey" in out   # the questionnaire check ran on the .qsf
    # The protocol as documented: the token in its header only, the export options fixed by the tool.
    start = next(r for r in qualtrics.requests if r.method == "POST")
    assert start.path == f"/API/v3/surveys/{SURVEY}/export-responses"
    assert yaml.safe_load(start.body) == {"format": "csv", "useLabels": True, "breakoutSets": True, "compress": True,
                                          "exportResponsesInProgress": False, "timeZone": "Europe/Amsterdam",
                                          "startDate": "2018-09-01T00:00:00Z"}
    assert all(r.headers.get("X-API-TOKEN") == TOKEN for r in qualtrics.requests)
    assert all(TOKEN not in r.path for r in qualtrics.requests)

    code, out_run, err_run = _cli(["--waves", str(waves), "run", "--wave", "2025"])
    assert code == 0, err_run
    report = tmp_path / "reports" / "2025"
    html = " ".join((report / "report.html").read_text(encoding="utf-8").split())
    assert "Concept" in html                                        # a draft: texts not rewritten, codes unreviewed
    moment = wave.fetched.exported_at.astimezone(timezone.utc)
    assert (f"om {moment:%H:%M} uur (UTC) met de API van Qualtrics geëxporteerd uit vragenlijst {SURVEY} (de "
            "antwoorden vanaf 1 september 2018).") in html
    searched = _no_token_anywhere(waves, tmp_path / "reports")
    assert searched > 20 and (report / "run.log").exists() and (report / "manifest.json").exists()
    assert TOKEN not in out + err + out_run + err_run


def test_a_second_fetch_writes_a_new_file_and_keeps_the_first(tmp_path, qualtrics):
    waves = tmp_path / "waves"
    moments = iter([datetime(2025, 10, 1, 9, 30, tzinfo=timezone.utc), datetime(2025, 10, 1, 9, 30, tzinfo=timezone.utc)])
    first = fetch_wave("2025", survey=SURVEY, waves_dir=waves, time_zone="Europe/Amsterdam", now=lambda: next(moments))
    (first.wave.folder / "wave.yaml").write_text((first.wave.folder / "wave.yaml").read_text(encoding="utf-8")
                                                 .replace("year: null", "year: 2025  # ons eigen commentaar"),
                                                 encoding="utf-8")
    before = first.export.read_bytes()
    second = fetch_wave("2025", survey=SURVEY, waves_dir=waves, time_zone="Europe/Amsterdam", now=lambda: next(moments),
                        since=datetime(2025, 9, 1).date())
    assert second.export != first.export and first.export.read_bytes() == before   # same second: a new name still
    assert second.export.name.endswith("-2.csv") and second.definition.name.endswith("-2.qsf")
    text = (second.wave.folder / "wave.yaml").read_text(encoding="utf-8")
    assert "# ons eigen commentaar" in text and text.count("qualtrics:") == 1     # the researcher's edit kept
    wave = load_wave("2025", waves_dir=waves)
    assert wave.export == second.export and wave.year == 2025 and wave.fetched.since == "2025-09-01"
    posts = [yaml.safe_load(r.body) for r in qualtrics.requests if r.method == "POST"]
    assert "startDate" not in posts[0] and posts[1]["startDate"] == "2025-09-01T00:00:00Z"
    assert not [p for p in waves.iterdir() if p.name.startswith(".")]              # no staging folder left


def test_the_export_counts_as_fetched_only_while_wave_yaml_points_at_the_fetched_file(tmp_path, qualtrics):
    waves = tmp_path / "waves"
    done = fetch_wave("2025", survey=SURVEY, waves_dir=waves, time_zone="Europe/Amsterdam",
                      now=lambda: datetime(2025, 10, 1, 9, 30, 12, tzinfo=timezone.utc))
    assert done.wave.fetched.exported_at == datetime(2025, 10, 1, 9, 30, 12, tzinfo=timezone.utc)
    by_hand = done.wave.folder / "data" / "by-hand.csv"
    by_hand.write_bytes(EMBEDDED_EXPORT.read_bytes())
    path = done.wave.folder / "wave.yaml"
    record = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**record, "export": "data/by-hand.csv"}), encoding="utf-8")
    wave = load_wave("2025", waves_dir=waves)
    assert wave.qualtrics.survey == SURVEY and wave.fetched is None   # the Methode then names no export moment
    path.write_text(yaml.safe_dump({**record, "qualtrics": {**record["qualtrics"], "exported_at": "gisteren"}}),
                    encoding="utf-8")
    with pytest.raises(PipelineError, match="exported_at is 'gisteren'"):
        load_wave("2025", waves_dir=waves)


def test_a_real_api_export_of_another_survey_is_filed_and_read(tmp_path, qualtrics):
    real = shared_fixtures() / "qualtRics_api__Beskar_Armor__2025-08-05__fetch_survey_Denver.csv"
    qualtrics.archive = zipped(real, "Beskar Armor.csv")
    qualtrics.steps = [12.5, 60.0, 100.0]
    clock = FakeTime()
    done = fetch_wave("beskar", survey=SURVEY, waves_dir=tmp_path / "waves", time_zone="Europe/Amsterdam",
                      waits=clock.waits())
    assert done.export.read_bytes() == real.read_bytes() and done.responses == 44
    assert clock.slept == [2.0, 2.0]                 # looked three times, waited between
    code, out, _ = _cli(["inspect", str(done.export)])
    assert code == 0 and "America/Denver" in out


# --------------------------------------------------------------------------------- what goes wrong

FAILURES = {
    "wrong token": (lambda q: setattr(q, "token", "another-token-entirely"), "did not accept the API token (401)"),
    "no access": (lambda q: q.forbidden.add(SURVEY), f"no access to survey {SURVEY} (403)"),
    "unknown survey": (lambda q: setattr(q, "survey", "SV_someoneElses12"), f"survey {SURVEY} was not found"),
    "export failed": (lambda q: setattr(q, "export_fails", True), "failed (at 100%)"),
    "cut short": (lambda q: setattr(q, "cut_short", True), "was cut short"),
    "not a zip": (lambda q: setattr(q, "archive", b"<html>gateway says hello</html>"), "is not a whole zip"),
}


@pytest.mark.parametrize("what", FAILURES)
def test_each_failure_is_one_line_and_leaves_the_wave_as_it_was(tmp_path, qualtrics, what):
    waves = tmp_path / "waves"
    assert _fetch(waves)[0] == 0
    before = _files(waves)
    change, expected = FAILURES[what]
    change(qualtrics)
    code, out, err = _fetch(waves)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err
    assert TOKEN not in err
    assert _files(waves) == before                           # data/ and wave.yaml as they were, nothing half-written
    # a new wave is not started either
    assert _fetch(waves, "2026")[0] == 1 and not (waves / "2026").exists()


def test_rate_limiting_waits_as_retry_after_says_then_goes_on(tmp_path, qualtrics):
    qualtrics.fail("start", 429, times=2, retry_after="7")
    clock = FakeTime()
    done = fetch_wave("2025", survey=SURVEY, waves_dir=tmp_path / "waves", time_zone="Europe/Amsterdam",
                      waits=clock.waits())
    assert done.responses == 18 and clock.slept == [7.0, 7.0]


def test_rate_limiting_is_bounded(tmp_path, qualtrics):
    qualtrics.fail("definition", 429, times=10, retry_after="3600")
    clock = FakeTime()
    with pytest.raises(PipelineError, match=r"limiting the requests of this token \(429, 3 tries\)") as caught:
        fetch_wave("2025", survey=SURVEY, waves_dir=tmp_path / "waves", time_zone="Europe/Amsterdam",
                   waits=clock.waits(tries=3, longest_wait=60.0))
    assert clock.slept == [60.0, 60.0] and "\n" not in str(caught.value)     # an hour asked, a minute waited
    assert not (tmp_path / "waves" / "2025").exists()


def test_server_errors_are_retried_with_backoff_and_bounded(tmp_path, qualtrics):
    qualtrics.fail("progress", 503, times=2)
    qualtrics.fail("file", 500, times=1)
    clock = FakeTime()
    done = fetch_wave("2025", survey=SURVEY, waves_dir=tmp_path / "waves", time_zone="Europe/Amsterdam",
                      waits=clock.waits(backoff=1.5))
    assert done.responses == 18 and clock.slept == [1.5, 3.0, 1.5]
    qualtrics.fail("start", 502, times=5)
    clock = FakeTime()
    with pytest.raises(PipelineError, match=r"server error \(502\), 5 times; .*run the command again later"):
        fetch_wave("2025", survey=SURVEY, waves_dir=tmp_path / "waves", time_zone="Europe/Amsterdam",
                   waits=clock.waits(backoff=1.0))
    assert clock.slept == [1.0, 2.0, 4.0, 8.0]


def test_a_stalled_export_stops_after_the_bounded_time_saying_how_far_it_got(tmp_path, qualtrics):
    qualtrics.steps = [5.0, 10.0, 35.0]                    # and never further
    clock, shown = FakeTime(), []
    with pytest.raises(PipelineError, match=r"stalled: still at 35% after 1 minute;") as caught:
        fetch_wave("2025", survey=SURVEY, waves_dir=tmp_path / "waves", time_zone="Europe/Amsterdam",
                   waits=clock.waits(poll_every=10.0, export_limit=60.0),
                   progress=lambda phase, done, total: shown.append((phase, done)))
    assert "\n" not in str(caught.value) and clock.now == 60.0
    assert shown[:3] == [("export", 5.0), ("export", 10.0), ("export", 35.0)]
    assert not (tmp_path / "waves").exists() or not any((tmp_path / "waves").iterdir())


def test_a_network_that_is_down_is_one_line(tmp_path, monkeypatch):
    with socket.socket() as free:                      # a port on 127.0.0.1 that nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("QUALTRICS_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)
    code, out, err = _fetch(tmp_path / "waves")
    assert code == 1 and err.count("\n") == 1 and "cannot reach 127.0.0.1 (ConnectError): check the network" in err
    assert TOKEN not in err and not (tmp_path / "waves" / "2025").exists()


def test_an_echoed_token_never_reaches_the_message(tmp_path, qualtrics, monkeypatch):
    qualtrics.echo_token_in_errors = True
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN + "Wrong")     # refused, and echoed back by the server
    code, _, err = _fetch(tmp_path / "waves")
    assert code == 1 and "(401)" in err and "[token]" in err and TOKEN not in err


# ------------------------------------------------------------------------------- credentials, HTTPS

@pytest.mark.parametrize("base, expected", [
    ("http://example.org", "is not HTTPS"),
    ("http://localhost:8080", "is not HTTPS"),
    ("https://user:secret@gateway.example.nl", "no user name, password or query"),
    ("ftp://127.0.0.1", "is not HTTPS"),
])
def test_only_https_and_plain_http_to_127_0_0_1(tmp_path, monkeypatch, base, expected):
    monkeypatch.setenv("QUALTRICS_BASE_URL", base)
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)
    code, _, err = _fetch(tmp_path / "waves")
    assert code == 1 and expected in err and "secret" not in err and TOKEN not in err


def test_the_data_center_is_a_host_name_label_and_makes_the_https_address(monkeypatch):
    from pipeline.reading.qualtrics_api import credentials
    env = {"QUALTRICS_API_TOKEN": TOKEN}
    assert credentials(data_center="FRA1", environ=env).base_url == "https://fra1.qualtrics.com"
    assert credentials(environ={**env, "QUALTRICS_DATA_CENTER": "iad1"}).base_url == "https://iad1.qualtrics.com"
    for bad in ("fra1.evil.com", "fra1/../x", "-fra1", "a" * 64, "fra 1"):
        with pytest.raises(PipelineError, match="Datacenter ID"):
            credentials(data_center=bad, environ=env)
    with pytest.raises(PipelineError, match="no data center"):
        credentials(environ=env)
    assert TOKEN not in repr(credentials(data_center="fra1", environ=env))


def test_the_token_comes_from_the_environment_or_a_named_file_only(tmp_path, qualtrics, monkeypatch):
    monkeypatch.delenv("QUALTRICS_API_TOKEN")
    code, _, err = _fetch(tmp_path / "waves")
    assert code == 1 and "no API token: set QUALTRICS_API_TOKEN" in err
    file = tmp_path / "qualtrics-token.txt"
    file.write_text(TOKEN + "\n", encoding="utf-8")
    code, _, err = _fetch(tmp_path / "waves", "2025", "--token-file", str(file))
    assert code == 0, err
    file.write_text("not a token, a sentence\n", encoding="utf-8")
    code, _, err = _fetch(tmp_path / "waves", "2026", "--token-file", str(file))
    assert code == 1 and "does not hold an API token" in err and "sentence" not in err
    code, _, err = _fetch(tmp_path / "waves", "2026", "--token-file", TOKEN)   # the token given as a file name
    assert code == 1 and "--token-file: no such file" in err and TOKEN not in err
    with pytest.raises(SystemExit):                      # no --token option (nor its abbreviation of --token-file):
        with contextlib.redirect_stderr(io.StringIO()):  # a token on the command line is in the shell's history
            main(["fetch", "--wave", "x", "--survey", SURVEY, "--token", TOKEN])


@pytest.mark.parametrize("argv, expected", [
    (["--survey", "SV_../../etc"], "a Qualtrics survey id starts with SV_"),
    (["--survey", SURVEY, "--since", "1 september"], "--since '1 september': give the first day as YYYY-MM-DD"),
    (["--survey", SURVEY, "--previous", "nergens"], "wave nergens"),
])
def test_wrong_arguments_are_one_line_before_anything_is_asked(tmp_path, qualtrics, argv, expected):
    code, _, err = _cli(["--waves", str(tmp_path / "waves"), "fetch", "--wave", "2025", *argv])
    assert code == 1 and err.count("\n") == 1 and expected in err
    assert qualtrics.requests == []


# -------------------------------------------------------------------------------------- the screen

def test_a_progress_bar_on_a_terminal_and_quiet_with_quiet(tmp_path, qualtrics):
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    screen = Terminal()
    progress = TerminalProgress(screen)
    qualtrics.steps = [50.0, 100.0]
    fetch_wave("2025", survey=SURVEY, waves_dir=tmp_path / "waves", time_zone="Europe/Amsterdam",
               waits=FakeTime().waits(), progress=progress)
    progress.close()
    shown = screen.getvalue()
    assert "export     [###############...............]  50%" in shown and " 100%" in shown
    assert "\rdownload   [" in shown and " MB" in shown
    piped = io.StringIO()                                 # not a terminal: no bar
    TerminalProgress(piped)("export", 50.0, 100.0)
    quiet = Terminal()
    TerminalProgress(quiet, quiet=True)("export", 50.0, 100.0)
    assert piped.getvalue() == "" and quiet.getvalue() == ""
    code, out, err = _fetch(tmp_path / "waves", "2026", "--quiet")
    assert (code, out, err) == (0, "", "")


def test_make_fetch_then_make_report_give_the_draft_report(tmp_path, qualtrics, make_and_venv):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # -o: the installed .venv is taken as it is (make must not reinstall the project in a test)
    common = ["make", "--no-print-directory", "-o", ".venv/bin/.installed", "fetch", f"WAVES={tmp_path / 'waves'}"]
    done = subprocess.run([*common, f"SURVEY={SURVEY}"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "make fetch WAVE=<name> SURVEY=SV_..." in done.stderr
    done = subprocess.run([*common, "WAVE=2025", f"SURVEY={SURVEY}"], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert "make report WAVE=2025" in done.stdout and TOKEN not in done.stdout + done.stderr
    assert load_wave("2025", waves_dir=tmp_path / "waves").fetched.survey == SURVEY
    done = subprocess.run(["make", "--no-print-directory", "-o", ".venv/bin/.installed", "report", "WAVE=2025",
                           f"WAVES={tmp_path / 'waves'}"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    html = " ".join((tmp_path / "reports" / "2025" / "report.html").read_text(encoding="utf-8").split())
    assert "Concept" in html and f"met de API van Qualtrics geëxporteerd uit vragenlijst {SURVEY}" in html
    _no_token_anywhere(tmp_path / "waves", tmp_path / "reports")


def test_a_proxy_in_the_environment_is_not_used_for_127_0_0_1_but_for_qualtrics(tmp_path, qualtrics, monkeypatch):
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")   # nothing listens there: used, it would fail
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    code, _, err = _fetch(tmp_path / "waves")
    assert code == 0, err
    from pipeline.reading.qualtrics_api import _proxy
    assert _proxy("fra1.qualtrics.com", {"HTTPS_PROXY": "http://proxy.hs.nl:3128"}) == "http://proxy.hs.nl:3128"

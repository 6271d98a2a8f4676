"""The live preview (`python -m pipeline preview`), in a real browser: headless Chromium, driven by
Selenium through the system's chromedriver, watches the served page follow a text edit, show a broken
template's error with its name and line, and recover on the next good save. The server is started on a
free port of 127.0.0.1 in a wave folder of its own, and stopped with Ctrl-C (SIGINT).

Needs the Debian packages chromium and chromium-driver (`make browser` installs them): without them the
browser test skips, and fails when CI is "true". The smaller tests need no browser.
"""

from __future__ import annotations

import importlib.util
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import skip_or_fail_on_ci
from pipeline.app.preview import HTML_ONLY, VERSION_PATH, Watched, earliest, error_page, inject_reload

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", \
    shutil.which("chromedriver") or "/usr/bin/chromedriver"
MARKER = "Deze zin is in de preview toegevoegd"


def _browser_or_skip():
    missing = [name for name in (CHROMIUM, CHROMEDRIVER) if not Path(name).exists()]
    if importlib.util.find_spec("selenium") is None:
        missing.append("the Python package selenium (make install)")
    if missing:
        skip_or_fail_on_ci(f"no browser for the preview test: {', '.join(missing)} missing (make browser installs "
                           "Chromium)", on_ci="make test installs Chromium and chromedriver there (make browser)")


# --------------------------------------------------------------------------- without a browser

def test_reload_script_only_in_the_served_page():
    page = "<html><body><p>x</p></body></html>"
    served = inject_reload(page, "7")
    assert served.index('id="wsd-preview-reload"') < served.index("</body>")
    assert VERSION_PATH in served and '"7"' in served
    assert inject_reload("<p>no body</p>", "1").startswith("<p>no body</p><script")


def test_error_page_escapes_the_message():
    page = error_page("template error (line 2 of report.html): <script>alert(1)</script>")
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "line 2 of report.html" in page


def test_an_edit_reruns_only_what_it_affects(tmp_path):
    config, wave, templates, texts = (tmp_path / n for n in ("config", "wave", "templates", "texts"))
    watched = Watched(config=config, wave_folder=wave, templates=(templates,), texts=(wave / "texts", texts))
    assert watched.first_step(templates / "report.html") == HTML_ONLY
    assert watched.first_step(templates / "sub" / "part.html") == HTML_ONLY
    assert watched.first_step(wave / "texts" / "inleiding.md") == HTML_ONLY
    assert watched.first_step(config / "codebook.yaml") == "code"
    assert watched.first_step(config / "taxonomies.yaml") == "normalise"
    assert watched.first_step(config / "instrument.yaml") == "ingest"
    assert watched.first_step(wave / "coding_corrections.csv") == "code"
    assert watched.first_step(wave / "coding_reviews.csv") == "aggregate"     # the accuracy estimate
    assert watched.first_step(wave / "coding_sample.csv") == "aggregate"
    assert watched.first_step(wave / "wave.yaml") == "ingest"
    assert watched.first_step(config / "style.yaml") == "charts"
    assert earliest(HTML_ONLY, "code") == "code" and earliest("aggregate", "code") == "code"
    assert earliest(None, HTML_ONLY) == HTML_ONLY


def test_watch_ignores_processed_and_editor_files(tmp_path):
    wave = tmp_path / "wave"
    (wave / "processed").mkdir(parents=True)
    (wave / "processed" / "report.html").write_text("x")
    (wave / ".wave.yaml.swp").write_text("x")
    (wave / "wave.yaml").write_text("x")
    watched = Watched(config=tmp_path / "config", wave_folder=wave, templates=(), texts=())
    assert list(watched.files()) == [wave / "wave.yaml"]


# ------------------------------------------------------------------------------- in a browser

def _preview_wave(tmp_path: Path) -> Path:
    """waves/2018 copied into tmp_path, with its export named absolutely and a template folder of its own
    whose report.html extends the default one."""
    waves = tmp_path / "waves"
    wave = waves / "2018"
    shutil.copytree(ROOT / "waves" / "2018", wave, ignore=shutil.ignore_patterns("processed"))
    (wave / "templates").mkdir()
    (wave / "templates" / "report.html").write_text('{% extends "default:report.html" %}\n', encoding="utf-8")
    text = (wave / "wave.yaml").read_text(encoding="utf-8")
    for name in ("wsd_leernetwerken_2018.csv", "wsd_leernetwerken_2018_supplement.csv"):
        text = text.replace(f"../../data/raw/{name}", str(ROOT / "data" / "raw" / name))
    (wave / "wave.yaml").write_text(text.replace("templates: null", "templates: templates"), encoding="utf-8")
    return waves


class _Server:
    """`python -m pipeline preview` in a process of its own, its console read line by line."""

    def __init__(self, waves: Path, config: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--config", str(config), "--waves", str(waves), "preview",
             "--wave", "2018", "--port", "0"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.console: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.console.append(line)
            if text in line:
                return line
        raise AssertionError(f"the preview never said {text!r}; it said:\n" + "\n".join(self.console))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)   # a build under way when Ctrl-C comes ends first
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture
def browser():
    _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--window-size=1280,1600"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_preview_in_a_browser_follows_edits_and_recovers(tmp_path, browser):
    from selenium.webdriver.support.ui import WebDriverWait
    waves = _preview_wave(tmp_path)
    wave = waves / "2018"
    config = shutil.copytree(ROOT / "config", tmp_path / "config")
    server = _Server(waves, config)
    try:
        url = server.wait_for("serving http://127.0.0.1:", timeout=240).split("serving ", 1)[1].split()[0]
        browser.get(url)
        wait = WebDriverWait(browser, 60, poll_frequency=0.2)
        wait.until(lambda d: "Rapport leernetwerken" in d.title or "Rapport leernetwerken" in d.page_source)
        assert MARKER not in browser.page_source
        browser.execute_script("window.loadedBefore = true;")

        # A text edit appears without anyone reloading the page.
        inleiding = wave / "texts" / "inleiding.md"
        inleiding.write_text(inleiding.read_text(encoding="utf-8") + f"\n\n{MARKER}.\n", encoding="utf-8")
        wait.until(lambda d: MARKER in d.page_source)
        assert browser.execute_script("return window.loadedBefore === undefined;"), "the page was not reloaded"
        server.wait_for("rebuilt from html", timeout=30)

        # A broken template: its name and line in the page and on the console.
        template = wave / "templates" / "report.html"
        template.write_text('{% extends "default:report.html" %}\n{% if %}\n', encoding="utf-8")
        wait.until(lambda d: d.find_elements("id", "preview-error"))
        shown = browser.find_element("id", "preview-error").text
        assert "report.html" in shown and "line 2" in shown, shown
        console = server.wait_for("error: template error", timeout=30)
        assert "report.html" in console and "line 2" in console, console

        # The next good save brings the report back, the edit still in it.
        template.write_text('{% extends "default:report.html" %}\n', encoding="utf-8")
        wait.until(lambda d: not d.find_elements("id", "preview-error") and MARKER in d.page_source)
        server.wait_for("rebuilt from html", timeout=30)

        # A codebook edit re-runs code, aggregate and charts before the HTML.
        codebook = config / "codebook.yaml"
        codebook.write_text(codebook.read_text(encoding="utf-8") + "\n# bewerkt\n", encoding="utf-8")
        server.wait_for("rebuilt from code", timeout=120)
        wait.until(lambda d: MARKER in d.page_source and not d.find_elements("id", "preview-error"))

        # The report.html on disk is the report alone, without the reload script.
        written = (wave / "processed" / "preview" / "report.html").read_text(encoding="utf-8")
        assert MARKER in written and "wsd-preview-reload" not in written
        with urllib.request.urlopen(url.rstrip("/") + VERSION_PATH, timeout=10) as answer:
            assert int(answer.read()) >= 5
        with pytest.raises(urllib.error.HTTPError):   # only the report's own files are served
            urllib.request.urlopen(url.rstrip("/") + "/figures/../responses.parquet", timeout=10)

        # A figure's download, asked for from the page, is written then and whole.
        figures = wave / "processed" / "preview" / "figures"
        shown = sorted(p.stem for p in figures.glob("*.svg") if not p.name.endswith(".smal.svg"))
        assert shown
        with urllib.request.urlopen(f"{url.rstrip('/')}/figures/{shown[0]}.png", timeout=120) as answer:
            assert answer.read().startswith(b"\x89PNG")
    finally:
        code = server.stop()
    assert code == 0, "\n".join(server.console)
    assert "preview    stopped" in "\n".join(server.console + list(server.lines.queue))
    assert not (tmp_path / "reports").exists(), "the preview wrote into the published report folder"


# ------------------------------------------------------------------ the figures' downloads, without a browser

def test_edits_never_wait_for_the_figures_downloads_which_are_written_when_asked_for(tmp_path):
    """The preview writes the figures' PNG and PDF only when the page asks for one: right after the start
    none is written and no thread is busy with them, so the first edit costs what later ones do; a
    download asked for is a whole PNG or PDF; a codebook edit draws the figures again and drops the old
    files, so none is served stale."""
    import json

    from pipeline.app.preview import serve
    waves = _preview_wave(tmp_path)
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    lines: list[str] = []
    stop = threading.Event()
    threads_before = threading.active_count()
    server = threading.Thread(target=serve, kwargs={"wave": "2018", "waves": waves, "config": config, "port": 0,
                                                    "say": lines.append, "stop": stop})
    server.start()
    try:
        deadline = time.monotonic() + 300
        while not any("serving http://" in line for line in lines):
            assert time.monotonic() < deadline and server.is_alive(), "\n".join(lines)
            time.sleep(0.1)
        url = next(line for line in lines if "serving http://" in line).split("serving ", 1)[1].split()[0].rstrip("/")
        folder = waves / "2018" / "processed" / "preview"
        names = [figure["name"] for figure in json.loads((folder / "charts.json").read_text(encoding="utf-8"))]
        assert names and all((folder / "figures" / f"{name}.svg").exists() for name in names)
        # Nothing is being written behind the page: the server's own threads only.
        assert not list((folder / "figures").glob("*.png")) and not list((folder / "figures").glob("*.pdf"))
        assert threading.active_count() <= threads_before + 2

        def version() -> int:
            with urllib.request.urlopen(url + VERSION_PATH, timeout=60) as answer:
                return int(answer.read())

        def save_and_wait(path: Path, text: str) -> None:
            before = version()
            path.write_text(text, encoding="utf-8")
            deadline = time.monotonic() + 300
            while version() == before:
                assert time.monotonic() < deadline, "\n".join(lines)
                time.sleep(0.05)

        text = waves / "2018" / "texts" / "inleiding.md"
        save_and_wait(text, text.read_text(encoding="utf-8") + "\n\nEen zin erbij.\n")
        assert not list((folder / "figures").glob("*.png")), "a text edit wrote the downloads"
        with urllib.request.urlopen(f"{url}/figures/{names[0]}.png", timeout=300) as answer:
            png = answer.read()
        with urllib.request.urlopen(f"{url}/figures/{names[-1]}.pdf", timeout=300) as answer:
            pdf = answer.read()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
        assert all((folder / "figures" / f"{name}.{fmt}").exists() for name in names for fmt in ("png", "pdf"))
        codebook = config / "codebook.yaml"
        save_and_wait(codebook, codebook.read_text(encoding="utf-8") + "\n# een opmerking\n")
        assert not list((folder / "figures").glob("*.png")), "the previous figures' downloads were kept"
        with urllib.request.urlopen(f"{url}/figures/{names[0]}.png", timeout=300) as answer:
            assert answer.read() == png   # the same figure again: a comment changes no code
    finally:
        stop.set()
        server.join(timeout=120)
    assert not server.is_alive() and lines[-1] == "preview    stopped"

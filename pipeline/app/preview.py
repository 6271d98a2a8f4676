"""A live preview: the report's HTML served on 127.0.0.1, rebuilt when a template, text or config changes.

    python -m pipeline preview --wave 2018 [--port 8000]      (make preview [WAVE=2018])

The preview has its own processed folder, waves/<name>/processed/preview/, and writes its report.html
there (never into the published report folder). It first runs the stages up to the figures, then polls
the files a report is made from, and on a save re-runs only what that file affects, following the table
of stages (pipeline.app.runner.STAGES): a template or text re-renders only the HTML; the codebook re-runs
code, aggregate and charts first; instrument, settings or wave.yaml everything. It makes no PDF and no
Word edition (`make report` does). The served page carries a small script that asks the server for the
version of the report and reloads when it changed; the report.html on disk has no such script. An error
(a template's syntax, a broken codebook) is shown in the page and on the console, and the next good
save brings the report back. The figures' PNG and PDF downloads are written only when the page asks
for one (the page shows the SVG), so no edit ever waits for them.
"""

from __future__ import annotations

import html
import posixpath
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import unquote

from pipeline.core.errors import PipelineError

HOST = "127.0.0.1"
VERSION_PATH = "/__preview__/version"
POLL_SECONDS = 0.25
HTML_ONLY = "html"   # the step after the stages: the report's HTML from the processed folder
# What the served page may fetch besides the report: the files the report links to.
SERVED = ("figures/", "tables/", "tables.xlsx", "report.html")

# Injected before </body> of the served page only. It asks for the version a few times a second and
# reloads on a change, keeping the reader's place on the page.
RELOAD_SCRIPT = """<script id="wsd-preview-reload">
(function () {
  var version = "%s", key = "wsd-preview-scroll";
  var y = sessionStorage.getItem(key);
  if (y !== null) { sessionStorage.removeItem(key); addEventListener("load", function () { scrollTo(0, +y); }); }
  setInterval(function () {
    fetch("%s", {cache: "no-store"}).then(function (r) { return r.text(); }).then(function (v) {
      if (v !== version) { sessionStorage.setItem(key, String(scrollY)); location.reload(); }
    }).catch(function () {});
  }, 300);
})();
</script>
"""

ERROR_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Preview: the report could not be made</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:50rem;padding:0 1rem;color:#222}}
pre{{white-space:pre-wrap;background:#fdf0f0;border-left:4px solid #a30000;padding:1rem}}</style></head>
<body><main><h1>The report could not be made</h1>
<pre id="preview-error">{message}</pre>
<p>Fix it and save: this page shows the report again by itself.</p></main>
</body></html>
"""


def inject_reload(page: str, version: str) -> str:
    """The page with the reload script before its last </body> (at its end when it has none)."""
    script = RELOAD_SCRIPT % (html.escape(version, quote=True), VERSION_PATH)
    at = page.lower().rfind("</body>")
    return page[:at] + script + page[at:] if at >= 0 else page + script


def error_page(message: str) -> str:
    return ERROR_PAGE.format(message=html.escape(message))


# --------------------------------------------------------------------------------- what to re-run

@dataclass(frozen=True)
class Watched:
    """The folders whose files the report is made from, and the earliest step an edit in each re-runs."""

    config: Path
    wave_folder: Path
    templates: tuple[Path, ...]
    texts: tuple[Path, ...]

    def files(self) -> dict[Path, tuple[int, int]]:
        """Every watched file with its modification time and size."""
        found = {}
        folders = [self.config, self.wave_folder, *self.templates, *self.texts]
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in folder.rglob("*"):
                if self._ignored(path):
                    continue
                try:
                    stat = path.stat()
                except OSError:   # removed while we looked
                    continue
                if path.is_file():
                    found[path] = (stat.st_mtime_ns, stat.st_size)
        return found

    def _ignored(self, path: Path) -> bool:
        # The wave's own processed data (the preview writes there), and editors' hidden and backup files.
        if self.wave_folder / "processed" in path.parents:
            return True
        return path.name.startswith((".", "#")) or path.name.endswith(("~", ".swp", ".tmp"))

    def first_step(self, path: Path) -> str:
        """The earliest stage an edit of `path` affects, or HTML_ONLY."""
        from pipeline.app.stages import STAGES
        if any(folder == path.parent or folder in path.parents for folder in (*self.templates, *self.texts)):
            return HTML_ONLY
        if path.parent == self.config:
            hits = [s.name for s in STAGES if path.name in s.config]
        elif path.parent == self.wave_folder:
            hits = [s.name for s in STAGES if path.name in s.wave]
        else:
            hits = []
        if hits:
            return HTML_ONLY if hits[0] == "render" else hits[0]
        return STAGES[0].name   # a file no stage names: everything, to be safe


def earliest(a: str | None, b: str) -> str:
    from pipeline.app.stages import STAGE_NAMES
    order = [*STAGE_NAMES, HTML_ONLY]
    return b if a is None else min(a, b, key=order.index)


# ------------------------------------------------------------------------------------------ server

@dataclass
class Preview:
    """The state the server shows: the current page and its version, or the error of the last build."""

    wave_name: str
    waves: Path
    config_folder: Path
    folder: Path                                 # the preview's processed folder, where report.html goes
    say: Callable[[str], None] = print
    version: int = 0
    page: str = ""
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    _config: object = None
    _wave: object = None
    # The figures' PNG and PDF files of the last build that drew them, not yet written: written when one is
    # asked for (write_downloads). matplotlib is not safe in two threads at once, so the lock is held both
    # while they are written and while a build draws the figures again.
    _downloads: list = field(default_factory=list)
    _figures_lock: threading.Lock = field(default_factory=threading.Lock)

    def wave(self):
        from pipeline.waves.wave import load_wave
        return load_wave(self.wave_name, waves_dir=self.waves)

    def watched(self) -> Watched:
        from pipeline.core.files import DEFAULT_TEMPLATES, DEFAULT_TEXTS
        wave = self._wave or self.wave()
        return Watched(config=self.config_folder.resolve(), wave_folder=wave.folder.resolve(),
                       templates=tuple(p.resolve() for p in (wave.templates, DEFAULT_TEMPLATES) if p),
                       texts=tuple(p.resolve() for p in (wave.texts, DEFAULT_TEXTS) if p))

    def build(self, step: str) -> None:
        """Re-run from `step` (a stage, or HTML_ONLY), then render the HTML; on an error, show it."""
        started = time.perf_counter()
        try:
            self._build(step)
        except Exception as exc:   # a bug too is shown, and the preview goes on
            message = str(exc) if isinstance(exc, PipelineError) else \
                f"unexpected {type(exc).__name__}: {exc} (a bug in the pipeline; please report it)"
            with self.lock:
                self.error, self.version = message, self.version + 1
            self.say(f"error: {message}")
            raise PipelineError(message) from None
        with self.lock:
            self.error, self.version = None, self.version + 1
        self.say(f"preview    report.html rebuilt from {step} in {time.perf_counter() - started:.1f} s "
                 f"(version {self.version})")

    def write_downloads(self) -> None:
        """Write the figures' PNG and PDF files of the last build that drew them, if they are not yet written
        (the server calls it when the page asks for one; it waits for a build that is drawing the figures)."""
        with self._figures_lock:
            pending, self._downloads = self._downloads, []
            for write in pending:
                write()

    def drop_downloads(self) -> None:
        """Forget the downloads no one asked for (after waiting for one being written)."""
        with self._figures_lock:
            self._downloads = []

    def _draw(self, wave, config, step: str) -> None:
        """The stages from `step` to charts; the figures' downloads are kept for write_downloads. Those of
        an earlier build are dropped unwritten, and their old files removed, so none is ever served stale."""
        from pipeline.app.runner import run_pipeline
        with self._figures_lock:
            self._downloads = []
            later: list = []
            try:
                run_pipeline(wave=wave, config=config, processed=self.folder, start=step, stop="charts",
                             defer=later.append,
                             say=lambda line: self.say(line) if line.startswith("warning") else None)
            finally:
                for old in [*(self.folder / "figures").glob("*.png"), *(self.folder / "figures").glob("*.pdf")]:
                    old.unlink(missing_ok=True)
                self._downloads = later

    def _build(self, step: str) -> None:
        from pipeline.core.config import load_config
        from pipeline.publishing.render import report_html, run_date
        from pipeline.publishing.context import report_status
        from pipeline.core.schemas import write_atomic
        from pipeline.core.style import load_style, style_path
        if step != HTML_ONLY or self._config is None or self._wave is None:
            self._wave = self.wave()
            self._config = load_config(self.config_folder, **self._wave.settings)
        wave, config = self._wave, self._config
        if step != HTML_ONLY:
            self._draw(wave, config, step)
        status = report_status(config, processed=self.folder, wave=wave, texts=wave.texts)
        style = load_style(style_path(wave_folder=wave.folder, config_folder=config.folder))
        page, _ = report_html(config, processed=self.folder, templates=wave.templates, texts=wave.texts,
                              day=run_date(), wave=wave, status=status, style=style)
        write_atomic(self.folder / "report.html", page.encode("utf-8"))
        with self.lock:
            self.page = page

    def served(self) -> tuple[str, str]:
        """The page to serve now (the report, or the error) with the reload script, and its version."""
        with self.lock:
            version = str(self.version)
            page = error_page(self.error) if self.error is not None else self.page
        return inject_reload(page, version), version


def _handler(preview: Preview):
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(preview.folder), **kwargs)

        def end_headers(self):
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self):
            path = posixpath.normpath(unquote(self.path.split("?", 1)[0].split("#", 1)[0]))
            if path == VERSION_PATH:
                return self._send(preview.served()[1], "text/plain; charset=utf-8")
            if path in ("/", "/report.html"):
                return self._send(preview.served()[0], "text/html; charset=utf-8")
            if not path.lstrip("/").startswith(SERVED):
                return self.send_error(HTTPStatus.NOT_FOUND, "not part of the report")
            if path.startswith("/figures/") and path.endswith((".png", ".pdf")):
                preview.write_downloads()
            return super().do_GET()

        def do_HEAD(self):
            self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)

        def list_directory(self, path):
            return self.send_error(HTTPStatus.NOT_FOUND, "not part of the report")

        def _send(self, text: str, kind: str):
            body = text.encode("utf-8")
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):   # the console is for the report's news, not for each request
            pass
    return Handler


def serve(*, wave: str, waves: Path, config: Path, port: int = 8000, say: Callable[[str], None] = print,
          stop: threading.Event | None = None) -> None:
    """Build the preview, serve it on 127.0.0.1:`port` (0: any free port) and rebuild on every save until
    Ctrl-C (or until `stop` is set). A build that fails is shown in the page until a save fixes it;
    a port that is taken is a PipelineError."""
    from pipeline.waves.wave import load_wave
    folder = load_wave(wave, waves_dir=waves).processed / "preview"
    folder.mkdir(parents=True, exist_ok=True)
    for part in (folder / "figures").glob(".*.*"):   # left by a figure being written when it was stopped
        part.unlink()
    preview = Preview(wave_name=wave, waves=waves, config_folder=config, folder=folder, say=say)
    try:
        server = ThreadingHTTPServer((HOST, port), _handler(preview))
    except OSError as exc:
        raise PipelineError(f"preview: port {port} on {HOST} cannot be used ({exc.strerror}); give another with "
                            "--port N, or --port 0 for any free one.")
    server.daemon_threads = True
    say(f"preview    building wave {wave} into {folder} (HTML only; `make report` makes the PDF and Word)")
    pending: str | None = None
    watched = preview.watched()
    seen = watched.files()
    try:
        preview.build("ingest")
    except PipelineError:
        pending = "ingest"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    say(f"preview    serving http://{HOST}:{server.server_address[1]}/ (Ctrl-C stops)")
    stop = stop or threading.Event()
    try:
        while not stop.wait(POLL_SECONDS):
            now = watched.files()
            changed = sorted(p for p in now.keys() | seen.keys() if now.get(p) != seen.get(p))
            if not changed:
                continue
            time.sleep(0.05)   # let an editor finish writing (some write a file in two steps)
            now = watched.files()
            for path in changed:
                say(f"preview    {path} changed")
                pending = earliest(pending, watched.first_step(path))
            seen = now
            try:
                preview.build(pending)
                pending = None
            except PipelineError:
                pass   # shown in the page; the next save tries again from the same step
            watched = preview.watched() if preview.error is None else watched
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        # A download being written is finished first: a thread still drawing with matplotlib while the
        # interpreter shuts down can abort the process. Downloads no one asked for are not written.
        preview.drop_downloads()
        say("preview    stopped")

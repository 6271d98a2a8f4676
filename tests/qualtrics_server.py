"""A local stand-in for the Qualtrics REST API v3, on 127.0.0.1 only, for the fetch tests.

It speaks the protocol as Qualtrics documents it: the token in X-API-TOKEN (401 otherwise), POST
surveys/{id}/export-responses with a JSON body (a progressId), GET .../export-responses/{progressId} (status
and percentComplete, then a fileId), GET .../export-responses/{fileId}/file (the zip), GET
survey-definitions/{id}?format=qsf; errors in Qualtrics' shape, {"meta": {"error": {"errorMessage": ...}}}.
A test queues what goes wrong (`fail`), how the export advances (`steps`) and whether the file is cut short.
"""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def zipped(export: Path, member: str = "Lerende Praktijken in het Sociaal Domein.csv") -> bytes:
    """The export as Qualtrics sends it: one file in a zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, export.read_bytes())
    return buffer.getvalue()


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class FakeQualtrics:
    token: str
    survey: str
    archive: bytes
    qsf: bytes
    forbidden: set = field(default_factory=set)      # surveys the token may not see (403)
    steps: list = field(default_factory=lambda: [100.0])   # percentComplete of each look at the progress
    export_fails: bool = False
    cut_short: bool = False                         # the file's connection closes halfway
    echo_token_in_errors: bool = False              # a careless gateway: the error repeats the token
    requests: list = field(default_factory=list)
    _failures: dict = field(default_factory=dict)
    _looks: int = 0

    def fail(self, endpoint: str, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        """The next `times` requests to endpoint (definition, start, progress, file) answer `status`."""
        self._failures.setdefault(endpoint, []).extend([(status, retry_after)] * times)

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):   # quiet in the test output
                pass

            def do_GET(self):
                fake._answer(self, "GET")

            def do_POST(self):
                fake._answer(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------------------------ answering

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        self.requests.append(Request(method, handler.path, dict(handler.headers), body))
        path, _, query = handler.path.partition("?")
        routes = [("definition", "GET", r"/API/v3/survey-definitions/(SV_\w+)"),
                  ("start", "POST", r"/API/v3/surveys/(SV_\w+)/export-responses"),
                  ("file", "GET", r"/API/v3/surveys/(SV_\w+)/export-responses/(F_[\w-]+)/file"),
                  ("progress", "GET", r"/API/v3/surveys/(SV_\w+)/export-responses/(ES_\w+)")]
        for endpoint, verb, pattern in routes:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                break
        else:
            return self._error(handler, 404, "no such endpoint")
        if handler.headers.get("X-API-TOKEN") != self.token:
            return self._error(handler, 401, "Invalid or missing API token"
                               + (f" {handler.headers.get('X-API-TOKEN')}" if self.echo_token_in_errors else ""))
        if self._failures.get(endpoint):
            status, retry_after = self._failures[endpoint].pop(0)
            return self._error(handler, status, "queued failure", retry_after=retry_after)
        survey = match.group(1)
        if survey in self.forbidden:
            return self._error(handler, 403, "You do not have access to this survey")
        if survey != self.survey:
            return self._error(handler, 404, "Survey not found")
        if endpoint == "definition":
            if query != "format=qsf":
                return self._error(handler, 400, "format must be qsf")
            return self._send(handler, 200, self.qsf, "application/json")
        if endpoint == "start":
            try:
                options = json.loads(body)
            except json.JSONDecodeError:
                return self._error(handler, 400, "body is not JSON")
            if handler.headers.get("Content-Type") != "application/json" or options.get("format") not in ("csv", "tsv", "spss"):
                return self._error(handler, 400, "format is required")
            return self._json(handler, {"progressId": "ES_a1b2c3", "percentComplete": 0.0, "status": "inProgress"})
        if endpoint == "progress":
            percent = self.steps[min(self._looks, len(self.steps) - 1)]
            self._looks += 1
            if self.export_fails:
                return self._json(handler, {"percentComplete": percent, "status": "failed"})
            if percent >= 100:
                return self._json(handler, {"fileId": "F_x9y8z7-file", "percentComplete": 100.0, "status": "complete"})
            return self._json(handler, {"percentComplete": percent, "status": "inProgress"})
        if not match.group(2).startswith("F_x9y8z7"):
            return self._error(handler, 404, "file not found")
        if self.cut_short:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Content-Length", str(len(self.archive)))
            handler.end_headers()
            handler.wfile.write(self.archive[: len(self.archive) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        return self._send(handler, 200, self.archive, "application/octet-stream")

    def _json(self, handler, result: dict) -> None:
        body = json.dumps({"result": result, "meta": {"requestId": "r-1", "httpStatus": "200 - OK"}}).encode()
        self._send(handler, 200, body, "application/json")

    def _error(self, handler, status: int, message: str, *, retry_after: str | None = None) -> None:
        body = json.dumps({"meta": {"httpStatus": f"{status}", "error": {"errorMessage": message,
                                                                        "errorCode": "E"}}}).encode()
        self._send(handler, status, body, "application/json", retry_after=retry_after)

    @staticmethod
    def _send(handler, status: int, body: bytes, kind: str, *, retry_after: str | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        if retry_after is not None:
            handler.send_header("Retry-After", retry_after)
        handler.end_headers()
        handler.wfile.write(body)

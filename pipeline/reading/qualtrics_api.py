"""The Qualtrics REST API v3: a survey's responses as an export file, and its definition (.qsf).

The protocol, as Qualtrics documents it: POST surveys/{id}/export-responses starts an export and gives a
progressId; GET surveys/{id}/export-responses/{progressId} tells its status (inProgress, complete, failed)
and, when complete, a fileId; GET surveys/{id}/export-responses/{fileId}/file is the zip. GET
survey-definitions/{id}?format=qsf is the survey's definition. Every request carries the token in the
X-API-TOKEN header and nowhere else; no message of this module contains it.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

import httpx

from pipeline.core.errors import PipelineError

TOKEN_VARIABLE = "QUALTRICS_API_TOKEN"
DATA_CENTER_VARIABLE = "QUALTRICS_DATA_CENTER"
BASE_URL_VARIABLE = "QUALTRICS_BASE_URL"
SURVEY_ID = re.compile(r"SV_[A-Za-z0-9]{1,40}")
# A data center id becomes the first label of the host name: {id}.qualtrics.com.
DATA_CENTER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# What a header value may hold; Qualtrics tokens are letters and digits.
TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{8,256}")
WHERE_TO_FIND = "Account Settings > Qualtrics IDs in Qualtrics"
MAX_DOWNLOAD_BYTES = 2 * 1024 ** 3


class FetchError(PipelineError):
    """Something went wrong talking to Qualtrics; the message says what to do, and never holds the token."""


@dataclass(frozen=True)
class Credentials:
    """Where to ask and with which token; the token is left out of repr, so no traceback shows it."""
    base_url: str
    data_center: str | None
    token: str = field(repr=False)

    @property
    def host(self) -> str:
        return httpx.URL(self.base_url).host


def check_survey_id(survey: str) -> str:
    if not SURVEY_ID.fullmatch(survey or ""):
        raise FetchError(f"survey id {survey!r}: a Qualtrics survey id starts with SV_ followed by letters and "
                         f"digits, such as SV_0VVlb9QwJ4bsBKZ ({WHERE_TO_FIND}, or the survey's link).")
    return survey


def credentials(*, data_center: str | None = None, token_file: Path | None = None,
                environ: Mapping[str, str] = os.environ) -> Credentials:
    """The base URL (QUALTRICS_BASE_URL, else https://{data center}.qualtrics.com, the data center from the
    flag or QUALTRICS_DATA_CENTER) and the token (from token_file, else QUALTRICS_API_TOKEN)."""
    data_center = data_center or environ.get(DATA_CENTER_VARIABLE) or None
    if data_center is not None and not DATA_CENTER.fullmatch(data_center):
        raise FetchError(f"data center {data_center!r}: give the Datacenter ID from {WHERE_TO_FIND}, such as fra1 "
                         "or iad1 (letters, digits and '-' only).")
    given = environ.get(BASE_URL_VARIABLE)
    if given:
        base = _checked_base_url(given)
    elif data_center:
        base = f"https://{data_center.lower()}.qualtrics.com"
    else:
        raise FetchError(f"no data center: give --data-center ID or set {DATA_CENTER_VARIABLE} (the Datacenter ID "
                         f"in {WHERE_TO_FIND}, such as fra1).")
    return Credentials(base_url=base, data_center=data_center.lower() if data_center else None,
                       token=_token(token_file, environ))


def _checked_base_url(given: str) -> str:
    try:
        url = httpx.URL(given)
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or not url.host or url.userinfo or url.query or url.fragment:
        raise FetchError(f"{BASE_URL_VARIABLE}: not a plain address such as https://gateway.example.nl (no user "
                         "name, password or query in it); fix or unset it.")
    if url.scheme == "https" or (url.scheme == "http" and url.host == "127.0.0.1"):
        return str(url).rstrip("/")
    raise FetchError(f"{BASE_URL_VARIABLE}: {url.scheme}://{url.host} is not HTTPS; the token and the responses only "
                     "travel encrypted (plain http only to 127.0.0.1, for tests). Use an https:// address.")


def _token(token_file: Path | None, environ: Mapping[str, str]) -> str:
    if token_file is not None:
        if not Path(token_file).is_file():   # not named: what was given may be the token itself
            raise FetchError("--token-file: no such file; give the name of a file that holds only the API token "
                             "(never the token itself on the command line).")
        try:
            token = Path(token_file).read_text(encoding="utf-8-sig").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise FetchError(f"{token_file}: the token file cannot be read ({exc.__class__.__name__}); give a "
                             "text file holding only the API token.")
        where = str(token_file)
    else:
        token = (environ.get(TOKEN_VARIABLE) or "").strip()
        where = TOKEN_VARIABLE
        if not token:
            raise FetchError(f"no API token: set {TOKEN_VARIABLE} (Account Settings > Qualtrics IDs > API > "
                             "Generate Token in Qualtrics), or give --token-file FILE with the token in it.")
    if not TOKEN.fullmatch(token):
        raise FetchError(f"{where}: does not hold an API token (one word of letters and digits); copy the token "
                         f"from {WHERE_TO_FIND} > API.")
    return token


@dataclass
class Waits:
    """How long to wait, and how often to try again; injectable so that tests take no real time."""
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll_every: float = 2.0          # seconds between looks at the export's progress
    export_limit: float = 15 * 60.0  # an export not complete by then is called stalled
    tries: int = 5                   # per request, on rate limiting (429) and server errors (5xx)
    backoff: float = 2.0             # the first wait after a server error; doubled each time
    longest_wait: float = 120.0      # at most this long for one Retry-After
    timeout: float = 60.0            # for one request to answer
    connect_retries: int = 2         # httpx's own retries of a connection that failed to open


Progress = Callable[[str, float, float | None], None]   # (phase, done, total): export in %, download in bytes


def _quiet(phase: str, done: float, total: float | None) -> None:
    pass


class QualtricsClient:
    """The four requests fetch needs, each retried within bounds; every failure one FetchError."""

    def __init__(self, creds: Credentials, *, waits: Waits | None = None, progress: Progress = _quiet,
                 transport: httpx.BaseTransport | None = None):
        self.creds, self.waits, self.progress = creds, waits or Waits(), progress
        self._client = httpx.Client(
            base_url=creds.base_url + "/API/v3/", headers={"X-API-TOKEN": creds.token, "Accept": "application/json"},
            timeout=self.waits.timeout, follow_redirects=False,
            transport=transport or httpx.HTTPTransport(retries=self.waits.connect_retries,
                                                       proxy=_proxy(creds.host, os.environ)))

    def __enter__(self) -> "QualtricsClient":
        return self

    def __exit__(self, *exc) -> None:
        self._client.close()

    # -------------------------------------------------------------------------------- the requests

    def survey_definition(self, survey: str) -> bytes:
        """The survey's definition as a .qsf (JSON with SurveyEntry and SurveyElements)."""
        body = self._json("GET", f"survey-definitions/{survey}", survey, params={"format": "qsf"})
        definition = body.get("result") if isinstance(body.get("result"), dict) else body
        if "SurveyElements" not in definition:
            raise FetchError(f"{self.creds.host}: the survey definition of {survey} has no SurveyElements; export "
                             "it by hand (Tools > Import/Export > Export Survey) and give it to inspect --qsf.")
        return json.dumps(definition, ensure_ascii=False, indent=1).encode("utf-8")

    def export_responses(self, survey: str, *, options: dict, into: Path) -> Path:
        """Start an export with `options`, follow it to complete, download its zip to into/responses.zip,
        checked whole; that path."""
        started = self._json("POST", f"surveys/{survey}/export-responses", survey, json=options)
        progress_id = _field(started, "progressId", self.creds.host)
        file_id = self._follow(survey, progress_id)
        return self._download(survey, file_id, into / "responses.zip")

    def _follow(self, survey: str, progress_id: str) -> str:
        waits, began, percent = self.waits, self.waits.clock(), 0.0
        while True:
            result = self._json("GET", f"surveys/{survey}/export-responses/{progress_id}", survey).get("result") or {}
            status = result.get("status")
            try:
                percent = float(result.get("percentComplete") or percent)
            except (TypeError, ValueError):   # not a number: keep the last one shown
                pass
            self.progress("export", percent, 100.0)
            if status == "complete":
                return _field({"result": result}, "fileId", self.creds.host)
            if status == "failed":
                raise FetchError(f"Qualtrics reports that the export of survey {survey} failed (at {percent:.0f}%); run "
                                 "the command again, and if it fails again, export by hand (Data & Analysis > Export "
                                 "& Import) and start the wave with new-wave --export.")
            if waits.clock() - began >= waits.export_limit:
                minutes = round(waits.export_limit / 60, 1)
                raise FetchError(f"the export of survey {survey} stalled: still at {percent:.0f}% after {minutes:g} "
                                 f"minute{'' if minutes == 1 else 's'}; Qualtrics may be busy, run the command again "
                                 "later. Nothing was written.")
            waits.sleep(waits.poll_every)

    def _download(self, survey: str, file_id: str, target: Path) -> Path:
        response = self._send("GET", f"surveys/{survey}/export-responses/{file_id}/file", survey, stream=True)
        expected = response.headers.get("Content-Length")
        total = int(expected) if expected and expected.isdigit() else None
        received = 0
        try:
            with target.open("wb") as handle:
                for chunk in response.iter_raw():
                    received += len(chunk)
                    if received > MAX_DOWNLOAD_BYTES:
                        raise FetchError(f"{self.creds.host}: the export of {survey} is over "
                                         f"{MAX_DOWNLOAD_BYTES // 1024 ** 3} GB, which no questionnaire's responses are; "
                                         "check the survey id.")
                    handle.write(chunk)
                    self.progress("download", received, total)
        except httpx.TransportError:
            raise FetchError(f"the download from {self.creds.host} was cut short after {_size(received)}"
                             + (f" of {_size(total)}" if total else "") + "; nothing was written to the wave. Run "
                             "the command again.")
        finally:
            response.close()
        if total is not None and received != total:
            raise FetchError(f"the download from {self.creds.host} was cut short: {_size(received)} of {_size(total)}; "
                             "nothing was written to the wave. Run the command again.")
        try:
            with zipfile.ZipFile(target) as archive:
                broken = archive.testzip()
        except (zipfile.BadZipFile, EOFError, OSError):
            broken = "the archive"
        if broken is not None:
            raise FetchError(f"the download from {self.creds.host} is not a whole zip ({broken} is damaged); "
                             "nothing was written to the wave. Run the command again.")
        return target

    # ------------------------------------------------------------------------------ sending, retrying

    def _json(self, method: str, path: str, survey: str, **kwargs) -> dict:
        response = self._send(method, path, survey, **kwargs)
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise FetchError(f"{self.creds.host} answered {method} {path.split('/')[0]} with something that is not the "
                             f"Qualtrics API (no JSON); check the data center or {BASE_URL_VARIABLE}.")
        return body

    def _send(self, method: str, path: str, survey: str, *, stream: bool = False, **kwargs) -> httpx.Response:
        """The response, with a status below 300: 429 and 5xx tried again (bounded), the rest one FetchError."""
        waits, host = self.waits, self.creds.host
        for attempt in range(1, waits.tries + 1):
            try:
                response = self._client.send(self._client.build_request(method, path, **kwargs), stream=stream)
            except httpx.TimeoutException:
                if attempt == waits.tries:
                    raise FetchError(f"{host} did not answer within {waits.timeout:.0f} seconds, {waits.tries} times; "
                                     "check the network connection and run the command again later.")
                waits.sleep(waits.backoff * 2 ** (attempt - 1))
                continue
            except httpx.TransportError as exc:
                raise FetchError(f"cannot reach {host} ({exc.__class__.__name__}): check the network connection, and "
                                 f"the data center id (--data-center, {DATA_CENTER_VARIABLE}) or {BASE_URL_VARIABLE}; "
                                 "then run the command again.")
            status = response.status_code
            if status < 300:
                return response
            response.read()
            detail = _error_message(response, self.creds.token)
            response.close()
            if status == 429 or status >= 500:
                if attempt == waits.tries:
                    break
                wait = _retry_after(response) if status == 429 else None
                waits.sleep(min(wait if wait is not None else waits.backoff * 2 ** (attempt - 1), waits.longest_wait))
                continue
            raise FetchError(_refusal(status, survey, host, detail))
        if status == 429:
            raise FetchError(f"Qualtrics is limiting the requests of this token (429, {waits.tries} tries); wait a few "
                             "minutes (other scripts using the same token count too) and run the command again.")
        raise FetchError(f"{host} answered with a server error ({status}), {waits.tries} times; Qualtrics may be down "
                         "(status.qualtrics.com): run the command again later.")


def _proxy(host: str, environ: Mapping[str, str]) -> str | None:
    """An institution's proxy from HTTPS_PROXY (or ALL_PROXY), for Qualtrics; never for this machine. (httpx
    reads these itself only without a transport of our own, which the connection retries need.)"""
    if host == "127.0.0.1":
        return None
    return next((environ[v] for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy") if environ.get(v)), None)


def _refusal(status: int, survey: str, host: str, detail: str) -> str:
    said = f" ({detail})" if detail else ""
    if status == 401:
        return (f"Qualtrics did not accept the API token (401){said}: check {TOKEN_VARIABLE} or the token file against "
                f"{WHERE_TO_FIND} > API (a token generated anew replaces the old one), and the data center.")
    if status == 403:
        return (f"the token has no access to survey {survey} (403){said}: ask the survey's owner to share it with your "
                "account with the right to export responses, or use the token of an account that has it.")
    if status == 404:
        return (f"survey {survey} was not found at {host} (404){said}: check the survey id ({WHERE_TO_FIND}, or the "
                "survey's link) and the data center (--data-center).")
    if 300 <= status < 400:
        return (f"{host} answered with a redirect ({status}), which fetch does not follow; check the data center "
                f"or {BASE_URL_VARIABLE}.")
    return f"Qualtrics refused the request ({status}){said}; check the survey id and the options, then try again."


def _error_message(response: httpx.Response, token: str) -> str:
    """Qualtrics' own errorMessage, short, one line and without the token (an echo would leak it)."""
    try:
        body = response.json()
        message = str(body["meta"]["error"]["errorMessage"])
    except Exception:   # no JSON, or not Qualtrics' shape of error: say nothing more
        return ""
    message = re.sub(r"\s+", " ", message.replace(token, "[token]")).strip()
    return message[:200]


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds: a number, or an HTTP date."""
    value = (response.headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


def _field(body: dict, name: str, host: str) -> str:
    value = (body.get("result") or {}).get(name) if isinstance(body.get("result"), dict) else None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,200}", value):
        raise FetchError(f"{host}: the answer has no {name}; this is not the Qualtrics API as documented, check "
                         f"{BASE_URL_VARIABLE} or the data center.")
    return value


def _size(count: int) -> str:
    return f"{count / 1024 ** 2:.1f} MB" if count >= 1024 ** 2 else f"{count:,} bytes"

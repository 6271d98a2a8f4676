"""The coding review in the browser: one coded answer at a time, served on 127.0.0.1.

    python -m pipeline review --wave 2025 [--port 8010] [--blind] [--sample N] [--seed S]   (make review WAVE=2025)

The order comes from pipeline.coding.review_queue (a random sample first, when one was drawn, then the
answers most likely to hold a missed theme). Every decision is written at once, atomically, to the wave's
coding_corrections.csv and coding_reviews.csv through the same function as coding-import
(pipeline.coding.sheet.corrections_after_review), so a killed server or browser loses nothing and the Excel
workbook stays an alternative over the same files. A theme of the other coded item that the answer names
is recorded as an added code of that item's answer of the same network (the rule in config/codebook.yaml).
The page (review_static/) builds every text as text nodes; POST requests carry a token of this run and
must come from this server's own page.
"""

from __future__ import annotations

import json
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import pandas as pd

from pipeline.app.runner import run_pipeline
from pipeline.coding.review_queue import Decision, ReviewQueue, draw_sample
from pipeline.coding.rules import answers, code, sentences
from pipeline.coding.sheet import CodedRow, corrections_after_review, rule_themes
from pipeline.coding.suggest import evidence_sentence, reviewed_in_waves
from pipeline.core.config import load_config
from pipeline.core.errors import PipelineError
from pipeline.core.schemas import NETWORKS, read_parquet, write_atomic
from pipeline.core.wave_files import (CORRECTION_COLUMNS, answer_sha, corrections_csv, load_corrections,
                                      load_reviews, load_sample, reviews_csv, sample_csv)
from pipeline.waves.wave import load_wave

HOST = "127.0.0.1"
STATIC = Path(__file__).with_name("review_static")
THEME_KEYS = "123456789abcdefghijklmpqrtvwxyz"   # n, o, s, u are the page's commands
SOURCE = "review in de browser"
MENTION = "genoemd bij"                         # reason of a code recorded from the other item's answer
DEFAULT_SEED = 2018


class Review:
    """A wave's review: the queue, the wave's files and what this run of the server did (for undo)."""

    def __init__(self, *, wave, config, blind: bool = False, sample: int | None = None, seed: int = DEFAULT_SEED,
                 say: Callable[[str], None] = print):
        self.wave, self.config, self.blind, self.say = wave, config, blind, say
        self.codebook = codebook = config.codebook
        path = wave.processed / "networks.parquet"
        if not path.exists():
            say(f"review     {path} not found; reading the export first (ingest, normalise)")
            run_pipeline(wave=wave, config=config, start=["ingest"], stop="normalise",
                         say=lambda line: say(line) if line.startswith("warning") else None)
        self.networks = read_parquet(path, schema=NETWORKS, extra_text_prefix="q",
                                     columns=["network_id", "response_key", "werkplaats", "name", *codebook.items])
        corrections = load_corrections(wave.corrections, codebook=codebook)
        coded = code(networks=self.networks, codebook=codebook, corrections=corrections)
        reviews = load_reviews(wave.reviews)
        self.rule_set = rule_themes(networks=self.networks, codebook=codebook)
        coded_answers = answers(self.networks, codebook.items)
        by_key = {(r.network_id, r.item): r for r in coded_answers.itertuples(index=False)}
        sampled = load_sample(wave.sample)
        if sample is not None:
            if len(sampled) and (len(sampled) != min(sample, len(by_key)) or set(sampled["seed"]) != {str(seed)}):
                raise PipelineError(
                    f"{wave.sample}: a sample of {len(sampled)} answers (seed {sampled['seed'].iloc[0]}) was already "
                    f"drawn for this wave; review it without --sample, or remove that file to draw another.")
            if not len(sampled):
                keys = draw_sample(list(by_key), sample, seed=seed)
                sampled = pd.DataFrame([{"position": str(i), "response_key": by_key[k].response_key, "item": k[1],
                                         "answer_sha": by_key[k].answer_sha, "network_id": k[0], "seed": str(seed)}
                                        for i, k in enumerate(keys, start=1)])
                write_atomic(wave.sample, sample_csv(sampled))
                say(f"review     drew {len(keys)} answers at random (seed {seed}) into {wave.sample}")
        self.sample = [(n, i) for n, i in zip(sampled["network_id"], sampled["item"])]
        done = {(r.response_key, r.item, r.answer_sha) for r in reviews.itertuples(index=False)}
        reviewed = {k for k, r in by_key.items() if (r.response_key, k[1], r.answer_sha) in done}
        training, notes = reviewed_in_waves(wave, config=config, networks=self.networks, codes=coded.codes,
                                            reviews=reviews)
        for note in notes:
            say(f"warning    {note}")
        self.queue = ReviewQueue(networks=self.networks, codes=coded.codes, codebook=codebook, reviewed=reviewed,
                                 training=training, sample=self.sample)
        self.evidence = {(r.network_id, r.item, r.theme): (r.origin, r.evidence)
                         for r in coded.codes.itertuples(index=False)}
        self.rows = self.networks.set_index("network_id")
        self.keys = list(by_key)
        self.lock = threading.Lock()
        self.skipped: list = []
        self.undo_stack: list = []
        self.mentioned: dict = {}            # (network_id, item) -> themes recorded from the other item's answer
        self.current = None
        self.token = secrets.token_urlsafe(24)

    # -- what the page shows ---------------------------------------------------------------------------

    def other_items(self, item: str) -> tuple[str, ...]:
        """The other coded items whose themes an answer to `item` may name: themes, not working methods."""
        methods = self.codebook.method_items
        return () if item in methods else tuple(i for i in self.codebook.items if i != item and i not in methods)

    def _order(self):
        ranked = [k for k in self.queue.order() if k not in self.skipped]
        return ranked + [k for k in self.skipped if not self.queue.is_reviewed(k)]

    def _current(self):
        if self.current is None or self.queue.is_reviewed(self.current):
            ranked = self._order()
            self.current = ranked[0] if ranked else None
        return self.current

    def _question(self, item: str) -> str:
        try:
            return self.config.instrument.item(item).plain_wording
        except KeyError:
            return item

    def _themes(self, item: str) -> list[dict]:
        return [{"code": t.code, "label": t.label, "definition": t.definition, "key": THEME_KEYS[i]}
                for i, t in enumerate(self.codebook.themes_for(item)) if i < len(THEME_KEYS)]

    def _text(self, key) -> str:
        value = self.rows.loc[key[0], key[1]]
        return "" if value is None or value != value else str(value)

    def state(self, message: str = "") -> dict:
        key = self._current()
        reviewed = sum(self.queue.is_reviewed(k) for k in self.keys)
        sample_done = sum(self.queue.is_reviewed(k) for k in self.sample)
        out = {"wave": self.wave.name, "blind": self.blind, "reviewed": reviewed, "total": len(self.keys),
               "sample": {"reviewed": sample_done, "total": len(self.sample)},
               "remaining": round(self.queue.expected_remaining(), 1), "can_undo": bool(self.undo_stack),
               "message": message, "answer": None}
        if key is None:
            return out
        nid, item = key
        text = self._text(key)
        parts = sentences(text)
        now = set(self.queue.codes_now(key)) | self.mentioned.get(key, set())
        codes, spans = [], []
        if not self.blind:
            for theme in sorted(now):
                origin, evidence = self.evidence.get((nid, item, theme), ("", ""))
                codes.append({"theme": theme, "origin": origin or "review", "evidence": evidence})
                sentence = evidence_sentence(evidence, parts) if evidence else None
                at = text.find(sentence) if sentence else -1
                if at >= 0:
                    spans.append([at, at + len(sentence), theme, "code"])
        suggestions = []
        if not self.blind:
            for theme, score, sentence in self.queue.suggestions(key):
                suggestions.append({"theme": theme, "score": round(score, 2), "sentence": sentence})
                at = text.find(sentence)
                if at >= 0:
                    spans.append([at, at + len(sentence), theme, "suggestion"])
        row = self.rows.loc[nid]
        others = []
        for other in self.other_items(item):
            answered = bool(self._text((nid, other)))
            others.append({"item": other, "question": self._question(other), "answered": answered,
                           "themes": self._themes(other),
                           "present": sorted(self.queue.codes_now((nid, other))) if answered and not self.blind
                           else []})
        out["answer"] = {"network_id": nid, "item": item, "name": str(row["name"]), "werkplaats": str(row["werkplaats"]),
                         "question": self._question(item), "text": text, "spans": spans, "codes": codes,
                         "marked": [] if self.blind else sorted(now), "suggestions": suggestions,
                         "themes": self._themes(item), "others": others, "in_sample": key in self.sample,
                         "reviewed_before": False}
        return out

    # -- decisions -------------------------------------------------------------------------------------

    def _files(self):
        return load_corrections(self.wave.corrections, codebook=self.codebook), load_reviews(self.wave.reviews)

    def _write(self, corrections, reviews) -> None:
        write_atomic(self.wave.corrections, corrections_csv(corrections))
        write_atomic(self.wave.reviews, reviews_csv(reviews))

    def decide(self, *, key, themes, mentions, note: str, coder: str) -> str:
        """Record the coder's decision on the answer `key`: its themes, the other item's themes it names
        ({item: [themes]}) and a note. Written to the wave's files before this returns."""
        coder = " ".join(str(coder or "").split())[:20]
        if not coder:
            raise PipelineError("give your initials first")
        if key not in self.queue.texts:
            raise PipelineError(f"{key[1]} of {key[0]} is not a coded answer of this wave")
        nid, item = key
        allowed = {t.code for t in self.codebook.themes_for(item)}
        chosen = frozenset(t for t in themes if t in allowed)
        suggested = {} if self.blind else {t: (s, sentence) for t, s, sentence in self.queue.suggestions(key)}
        corrections, reviews = self._files()
        self.undo_stack.append((key, corrections.copy(), reviews.copy(), dict(self.mentioned)))
        row = self.rows.loc[nid]
        coded = CodedRow(network_id=nid, response_key=str(row["response_key"]), item=item, text=self._text(key),
                         coder=coder, reason=" ".join(str(note or "").split()), themes=chosen, suggested=suggested)
        corrections = self._without_mentions_from(corrections, key)
        corrections, reviews, _, warnings = corrections_after_review(
            reviewed=[coded], networks=self.networks, codebook=self.codebook, existing=corrections, reviews=reviews,
            source=SOURCE, default_reason=SOURCE, rule_set=self.rule_set)
        added = []
        for other, named in (mentions or {}).items():
            if other not in self.other_items(item) or not self._text((nid, other)):
                continue
            valid = {t.code for t in self.codebook.themes_for(other)}
            for theme in sorted(set(named) & valid):
                if theme in self.queue.codes_now((nid, other)):
                    continue
                added.append({"response_key": str(row["response_key"]), "item": other,
                              "answer_sha": answer_sha(self._text((nid, other))), "theme": theme, "action": "add",
                              "coder": coder, "reason": f"{MENTION} {item}" + (f": {coded.reason}" if coded.reason else ""),
                              "network_id": nid, "evidence": ""})
                self.mentioned.setdefault((nid, other), set()).add(theme)
        if added:
            corrections = pd.concat([corrections, pd.DataFrame(added, columns=list(CORRECTION_COLUMNS))],
                                    ignore_index=True).astype(str)
        self._write(corrections, reviews)
        evidence = tuple((t, suggested[t][1]) for t in chosen if t in suggested)
        self.queue.decide(key, Decision(themes=chosen, evidence=evidence))
        self.mentioned.pop(key, None)
        if key in self.skipped:
            self.skipped.remove(key)
        self.current = None
        return " ".join(warnings) or "Opgeslagen."

    def _without_mentions_from(self, corrections, key):
        """The corrections without those an earlier decision on `key` recorded for the other items."""
        nid, item = key
        row = self.rows.loc[nid]
        ours = ((corrections["response_key"] == str(row["response_key"])) & corrections["item"].isin(self.other_items(item))
                & corrections["reason"].str.startswith(f"{MENTION} {item}"))
        return corrections[~ours]

    def skip(self, key) -> str:
        if key in self.queue.texts and key not in self.skipped:
            self.skipped.append(key)
        self.current = None
        return "Overgeslagen; het antwoord komt aan het eind terug."

    def undo(self) -> str:
        if not self.undo_stack:
            return "Er is in deze sessie nog niets om ongedaan te maken."
        key, corrections, reviews, mentioned = self.undo_stack.pop()
        self._write(corrections, reviews)
        self.mentioned = mentioned
        self.queue.undo(key)
        self.current = key
        return "Ongedaan gemaakt."


# ------------------------------------------------------------------------------------------ server

def _handler(review: Review, port_of: Callable[[], int]):
    class Handler(BaseHTTPRequestHandler):
        def _origin_ok(self) -> bool:
            port = port_of()
            allowed = {f"{HOST}:{port}", f"localhost:{port}"}
            if self.headers.get("Host", "") not in allowed:       # a page of another name (DNS rebinding)
                return False
            origin = self.headers.get("Origin")
            return origin is None or origin in {f"http://{a}" for a in allowed}

        def do_GET(self):
            if not self._origin_ok():
                return self.send_error(HTTPStatus.FORBIDDEN, "only this review's own page")
            path = self.path.split("?", 1)[0]
            if path == "/":
                page = (STATIC / "review.html").read_text(encoding="utf-8")
                return self._send(page.replace("{{token}}", review.token), "text/html; charset=utf-8")
            if path in ("/review.js", "/review.css"):
                kind = "text/javascript" if path.endswith(".js") else "text/css"
                return self._send((STATIC / path.lstrip("/")).read_text(encoding="utf-8"), f"{kind}; charset=utf-8")
            if path == "/api/state":
                with review.lock:
                    return self._json(review.state())
            return self.send_error(HTTPStatus.NOT_FOUND)

        def do_POST(self):
            if not self._origin_ok() or not secrets.compare_digest(self.headers.get("X-Review-Token", ""),
                                                                   review.token):
                return self.send_error(HTTPStatus.FORBIDDEN, "not this review's page (reload it)")
            if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
                return self.send_error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
            try:
                length = min(int(self.headers.get("Content-Length", "0")), 1_000_000)
                body = json.loads(self.rfile.read(length) or b"{}")
                key = tuple(body.get("key") or ("", ""))
                with review.lock:
                    if self.path == "/api/decide":
                        message = review.decide(key=key, themes=body.get("themes", []),
                                                mentions=body.get("mentions", {}), note=body.get("note", ""),
                                                coder=body.get("coder", ""))
                    elif self.path == "/api/skip":
                        message = review.skip(key)
                    elif self.path == "/api/undo":
                        message = review.undo()
                    else:
                        return self.send_error(HTTPStatus.NOT_FOUND)
                    state = review.state(message)
            except PipelineError as exc:
                with review.lock:
                    return self._json(review.state(f"Niet opgeslagen: {exc}"), HTTPStatus.BAD_REQUEST)
            except (ValueError, TypeError, AttributeError):
                return self.send_error(HTTPStatus.BAD_REQUEST)
            return self._json(state)

        def _json(self, value, status=HTTPStatus.OK):
            self._send(json.dumps(value, ensure_ascii=False), "application/json; charset=utf-8", status)

        def _send(self, text: str, kind: str, status=HTTPStatus.OK):
            body = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass
    return Handler


def serve(*, wave: str, waves: Path, config: Path, port: int = 8010, blind: bool = False, sample: int | None = None,
          seed: int = DEFAULT_SEED, say: Callable[[str], None] = print, stop: threading.Event | None = None) -> None:
    """Serve the review of `wave` on 127.0.0.1:`port` (0: any free port) until Ctrl-C or `stop`."""
    loaded = load_wave(wave, waves_dir=waves)
    review = Review(wave=loaded, config=load_config(config, **loaded.settings), blind=blind, sample=sample,
                    seed=seed, say=say)
    holder: dict = {}
    try:
        server = ThreadingHTTPServer((HOST, port), _handler(review, lambda: holder["port"]))
    except OSError as exc:
        raise PipelineError(f"review: port {port} on {HOST} cannot be used ({exc.strerror}); give another with "
                            "--port N, or --port 0 for any free one.")
    holder["port"] = server.server_address[1]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    state = review.state()
    say(f"review     wave {wave}: {state['reviewed']} of {state['total']} answers reviewed"
        + (" (blind)" if blind else "") + f"; decisions go to {loaded.corrections} and {loaded.reviews}")
    say(f"review     serving http://{HOST}:{holder['port']}/ (Ctrl-C stops)")
    stop = stop or threading.Event()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        say("review     stopped")

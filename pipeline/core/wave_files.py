"""The researcher's files in a wave folder, read and checked line by line, and written back: the coding
corrections (coding_corrections.csv), the reviewed answers (coding_reviews.csv), the random sample of answers
drawn for the review (coding_sample.csv), the quote decisions (quotes.csv) and the confirmed links to the
previous wave (network_links.csv).

A correction, review or quote decision names its answer by response key, item and `answer_sha`, so it
applies only to that answer, in that wave, while its text is unchanged."""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from pathlib import Path

import pandas as pd

from pipeline.core.codebook import Codebook, checked_theme
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.core.excel import csv_safe
from pipeline.core.schemas import write_atomic


CORRECTION_COLUMNS = ("response_key", "item", "answer_sha", "theme", "action", "coder", "reason", "network_id",
                      "evidence")


# evidence (the sentence an added code rests on, as for an accepted suggestion) came later: a file without
# it is read as having none.
OPTIONAL_CORRECTION_COLUMNS = ("evidence",)


LEGACY_COLUMNS = ("network_id", "item", "theme", "action", "coder", "reason")


CORRECTION_ACTIONS = ("add", "remove")


def answer_sha(text: str) -> str:
    """A short hash of an answer's text (Unicode NFC, whitespace collapsed): a correction applies only
    while the answer it was made for is unchanged."""
    plain = " ".join(unicodedata.normalize("NFC", text or "").split())
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()[:16]


def empty_corrections() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=str) for c in CORRECTION_COLUMNS})


def load_corrections(path: Path | None, *, codebook: Codebook) -> pd.DataFrame:
    """A wave's corrections; no file means none. Checks columns, actions and themes, line by line."""
    if path is None or not path.exists():
        return empty_corrections()
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"{path}: not a readable UTF-8 CSV ({exc.__class__.__name__}); save it as CSV UTF-8.")
    if list(frame.columns) == list(LEGACY_COLUMNS):
        if frame.empty:
            return empty_corrections()
        raise ConfigError(f"{path}: corrections keyed by network id only (the format before waves), which could "
                          "apply to another wave's answer of the same name; convert them with `python -m pipeline "
                          f"migrate-corrections {path} --wave NAME`.")
    for column in OPTIONAL_CORRECTION_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    missing = [c for c in CORRECTION_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}; "
                          f"the columns are {','.join(CORRECTION_COLUMNS)}.")
    frame = frame[list(CORRECTION_COLUMNS)].apply(lambda s: s.str.strip())
    for line, row in enumerate(frame.itertuples(index=False), start=2):
        where = f"{path}, line {line}"
        if row.action not in CORRECTION_ACTIONS:
            raise ConfigError(f"{where}: action {row.action!r} must be add or remove.")
        checked_theme(codebook, row.theme, row.item, where)
        if not row.coder:
            raise ConfigError(f"{where}: say who made the correction in the coder column.")
        if not row.response_key or not row.answer_sha:
            raise ConfigError(f"{where}: response_key and answer_sha name the answer corrected; write corrections "
                              "with `python -m pipeline coding-import`, which fills them in.")
    return frame


def corrections_csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame[list(CORRECTION_COLUMNS)].to_csv(buffer, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue().encode("utf-8")


REVIEW_COLUMNS = ("response_key", "item", "answer_sha", "coder", "network_id", "note")


# note (the coder's note on the answer: a workbook row's toelichting, the browser review's note) came later: a
# file without it is read as having none.
OPTIONAL_REVIEW_COLUMNS = ("note",)


def empty_reviews() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=str) for c in REVIEW_COLUMNS})


def _read_pipeline_csv(path: Path, columns: tuple[str, ...], *, written_by: str, unreadable: str,
                       optional: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV the pipeline writes, with its columns checked (an absent optional column reads as empty text);
    the errors say which command writes it."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise PipelineError(f"{path}: not a readable UTF-8 CSV ({exc.__class__.__name__}); it is written by "
                            f"{written_by}, {unreadable}")
    for column in optional:
        if column not in frame.columns:
            frame[column] = ""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PipelineError(f"{path}: missing column(s) {', '.join(missing)}; it is written by {written_by}.")
    return frame[list(columns)]


def load_reviews(path: Path | None) -> pd.DataFrame:
    """The answers a person has reviewed, in a coding sheet or the browser (REVIEW_COLUMNS); no file means none."""
    if path is None or not path.exists():
        return empty_reviews()
    return _read_pipeline_csv(path, REVIEW_COLUMNS, written_by="coding-import or review",
                              unreadable="restore it from your copy or delete it to start the review again.",
                              optional=OPTIONAL_REVIEW_COLUMNS)


def reviews_csv(frame: pd.DataFrame) -> bytes:
    frame = frame.assign(**{c: "" for c in OPTIONAL_REVIEW_COLUMNS if c not in frame.columns})
    return frame[list(REVIEW_COLUMNS)].to_csv(index=False, lineterminator="\n").encode("utf-8")


SAMPLE_COLUMNS = ("position", "response_key", "item", "answer_sha", "network_id", "seed")


def empty_sample() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=str) for c in SAMPLE_COLUMNS})


def load_sample(path: Path | None) -> pd.DataFrame:
    """The answers drawn at random for the review, in the order drawn (SAMPLE_COLUMNS); no file means none."""
    if path is None or not path.exists():
        return empty_sample()
    return _read_pipeline_csv(path, SAMPLE_COLUMNS, written_by="`python -m pipeline review --sample N`",
                              unreadable="restore it from your copy.")


def sample_csv(frame: pd.DataFrame) -> bytes:
    return frame[list(SAMPLE_COLUMNS)].to_csv(index=False, lineterminator="\n").encode("utf-8")


QUOTE_COLUMNS = ("kind", "item", "theme", "place", "decision", "quote", "replacement", "network_id", "werkplaats",
                 "name", "response_key", "answer_sha", "reviewer", "note")


QUOTE_DECISIONS = ("", "approve", "replace", "withhold")


NETWORK_DECISIONS = ("", "publish", "withhold")


KINDS = ("quote", "network")


def empty_quotes_file() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=str) for c in QUOTE_COLUMNS})


def read_quotes_file(path: Path | None) -> pd.DataFrame:
    """The rows of a quotes file (comma or semicolon separated, as Excel saves it); no file means none."""
    if path is None or not Path(path).exists():
        return empty_quotes_file()
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")      # Excel's "CSV (gescheiden door lijstscheidingsteken)" on Windows
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=delimiter)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"{path}: not a readable CSV ({exc.__class__.__name__}); save it as CSV UTF-8, or write "
                          "it anew with `python -m pipeline quotes --wave NAME`.")
    missing = [c for c in ("kind", "item", "theme", "decision", "quote", "replacement", "response_key", "answer_sha")
               if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}; the columns are {','.join(QUOTE_COLUMNS)} "
                          "(write the file with `python -m pipeline quotes --wave NAME`).")
    for column in QUOTE_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    return frame.apply(lambda s: s.str.strip())


def quotes_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows the accents; texts written as text (no formulas)."""
    buffer = io.StringIO()
    csv_safe(frame[list(QUOTE_COLUMNS)]).to_csv(buffer, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def write_quotes_file(path: Path, frame: pd.DataFrame) -> Path:
    write_atomic(path, quotes_csv(frame))
    return path


LINK_COLUMNS = ("vorige_werkplaats", "vorige_leernetwerk", "werkplaats", "leernetwerk", "besluit")


DECISIONS = ("zelfde", "ander")


def load_links(path: Path | None) -> pd.DataFrame:
    """The researcher's decisions on matches (LINK_COLUMNS; besluit zelfde or ander); no file, none."""
    if path is None or not path.exists():
        return pd.DataFrame(columns=list(LINK_COLUMNS), dtype=str)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"{path}: not a readable UTF-8 CSV ({exc.__class__.__name__}); save it as CSV UTF-8.")
    missing = [c for c in LINK_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}; the columns are {','.join(LINK_COLUMNS)}.")
    for line, decision in enumerate(frame["besluit"].str.strip().str.casefold(), start=2):
        if decision not in DECISIONS:
            raise ConfigError(f"{path}, line {line}: besluit {decision!r} must be zelfde or ander.")
    return frame


GROUP_DECISION_COLUMNS = ("label", "group", "who")


def group_label_key(label: str) -> str:
    """The form by which a decision finds its category label: NFC, case and whitespace ignored."""
    return " ".join(unicodedata.normalize("NFC", label or "").casefold().split())


def read_group_decisions(path: Path | None) -> pd.DataFrame:
    """The rows of a group decisions file (GROUP_DECISION_COLUMNS; comma or semicolon separated, as Excel saves
    it), stripped; no file means none."""
    if path is None or not Path(path).exists():
        return pd.DataFrame({c: pd.Series(dtype=str) for c in GROUP_DECISION_COLUMNS})
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")      # Excel's "CSV (gescheiden door lijstscheidingsteken)" on Windows
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=delimiter)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"{path}: not a readable CSV ({exc.__class__.__name__}); save it as CSV UTF-8 with the "
                          f"columns {','.join(GROUP_DECISION_COLUMNS)}.")
    missing = [c for c in GROUP_DECISION_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}; the columns are "
                          f"{','.join(GROUP_DECISION_COLUMNS)}.")
    frame = frame[list(GROUP_DECISION_COLUMNS)].apply(lambda s: s.str.strip())
    frame["label"] = frame["label"].str.replace(r"^'(?=[=+\-@])", "", regex=True)   # as csv_safe wrote it
    return frame


def load_group_decisions(path: Path | None, *, groups: tuple[str, ...]) -> dict[str, str]:
    """The researcher's participant group per category label (group_label_key -> group code), checked line by
    line. A line whose `who` is empty is a proposal (as `python -m pipeline groups` writes it) and decides
    nothing until someone puts their name there."""
    decided: dict[str, tuple[str, int]] = {}
    for line, row in enumerate(read_group_decisions(path).itertuples(index=False), start=2):
        where = f"{path}, line {line}"
        if not row.label:
            raise ConfigError(f"{where}: the label is empty; write the category label as the respondents typed it.")
        if row.group not in groups:
            raise ConfigError(f"{where}: group {row.group!r} is not a participant group; use one of "
                              f"{', '.join(groups)}.")
        if not row.who:
            continue
        key = group_label_key(row.label)
        if key in decided and decided[key][0] != row.group:
            raise ConfigError(f"{where}: {row.label!r} was given group {decided[key][0]} on line {decided[key][1]}; "
                              "keep one line per label.")
        decided[key] = (row.group, line)
    return {key: group for key, (group, _) in decided.items()}


def group_decisions_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows the accents; labels written as text (no formulas)."""
    buffer = io.StringIO()
    csv_safe(frame[list(GROUP_DECISION_COLUMNS)]).to_csv(buffer, index=False, lineterminator="\n",
                                                          quoting=csv.QUOTE_MINIMAL)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def add_group_proposals(path: Path, proposals: pd.DataFrame) -> int:
    """Add the labels of `proposals` (label, group) that `path` does not name yet, with `who` empty, below its
    lines, which stay as they are (a new file gets the header); gives the number added."""
    existing = read_group_decisions(path)
    known = {group_label_key(label) for label in existing["label"]}
    new = proposals[~proposals["label"].map(group_label_key).isin(known)].assign(who="")
    if new.empty:
        return 0
    rows = group_decisions_csv(new)
    if not path.exists():
        write_atomic(path, rows)
        return len(new)
    old = path.read_bytes()
    text = old.decode("utf-8-sig", errors="replace")
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    header = next(csv.reader([text.split("\n", 1)[0].strip("\r")], delimiter=delimiter))
    buffer = io.StringIO()     # in the file's own order of columns, the researcher's own columns left empty
    csv_safe(new.reindex(columns=[h.strip() for h in header], fill_value="")).to_csv(
        buffer, index=False, header=False, sep=delimiter,
                                                        lineterminator="\r\n" if b"\r\n" in old else "\n")
    joint = b"" if not old or old.endswith(b"\n") else (b"\r\n" if b"\r\n" in old else b"\n")
    encoding = "cp1252" if _not_utf8(old) else "utf-8"
    write_atomic(path, old + joint + buffer.getvalue().encode(encoding, errors="replace"))
    return len(new)


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8-sig")
        return False
    except UnicodeDecodeError:
        return True

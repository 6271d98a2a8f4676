"""The tables in data/processed/ are the contract between stages: checked when written and when read."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from pipeline.core.errors import PipelineError

# Metadata columns that must never reach data/processed or any output; the personal items of the instrument
# (personal: true in instrument.yaml) are named by the stages that write their tables.
FORBIDDEN_COLUMNS = frozenset({
    "response_id", "ip_address", "recipient_last_name", "recipient_first_name", "recipient_email",
    "external_reference", "location_latitude", "location_longitude", "location_accuracy", "legacy_name",
})

RESPONSES = {
    "response_key": "text", "source": "text", "row": "int",
    "start_date": "datetime", "end_date": "datetime", "recorded_date": "datetime",
    "progress": "text", "duration": "text", "distribution_channel": "text", "user_language": "text",
}
DROPS = {"row": "int", "response_key": "text", "reason": "text", "detail": "text"}


def check(frame: pd.DataFrame, *, schema: dict[str, str], name: str, extra_text_prefix: str | None = None,
          personal: frozenset[str] = frozenset()) -> None:
    """Raise PipelineError unless `frame` has the schema's columns with their kinds (and only text extras) and
    none of FORBIDDEN_COLUMNS or of `personal` (the instrument's personal fields)."""
    personal = sorted((FORBIDDEN_COLUMNS | personal) & set(frame.columns))
    if personal:
        raise PipelineError(f"{name}: personal data column(s) {', '.join(personal)} must not be written.")
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise PipelineError(f"{name}: missing column(s) {', '.join(missing)}; re-run the stage that writes it.")
    for column in frame.columns:
        kind = schema.get(column)
        if kind is None:
            if extra_text_prefix is None or not column.startswith(extra_text_prefix):
                raise PipelineError(f"{name}: unexpected column {column}.")
            kind = "text"
        series = frame[column]
        ok = {"text": pd.api.types.is_string_dtype(series) or series.dtype == object,
              "int": pd.api.types.is_integer_dtype(series),
              "datetime": isinstance(series.dtype, pd.DatetimeTZDtype)}[kind]
        if not ok:
            raise PipelineError(f"{name}: column {column} should hold {kind}, holds {series.dtype}.")


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def shared_mode(path: str | Path, *, folder: bool = False) -> None:
    """The permissions a file or folder made with open() or mkdir() would have: temporary files and
    folders are private (0600, 0700), which would keep colleagues on a shared drive out."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to a temporary file beside `path`, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        shared_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(frame: pd.DataFrame, path: Path, *, schema: dict[str, str], extra_text_prefix: str | None = None,
                  personal: frozenset[str] = frozenset()) -> None:
    check(frame, schema=schema, name=str(path), extra_text_prefix=extra_text_prefix, personal=personal)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        shared_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_parquet(path: Path, *, schema: dict[str, str], extra_text_prefix: str | None = None,
                 columns: list[str] | None = None) -> pd.DataFrame:
    """A processed table, checked against its schema; `columns` reads only those (and checks only those)."""
    if not path.exists():
        raise PipelineError(f"{path}: not found; run the earlier stages first (make report).")
    if columns is not None:
        import pyarrow.parquet as pq
        missing = [c for c in columns if c not in pq.read_schema(path).names]
        if missing:
            raise PipelineError(f"{path}: missing column(s) {', '.join(missing)}; re-run the stage that writes it.")
        schema = {c: kind for c, kind in schema.items() if c in columns}
    frame = pd.read_parquet(path, columns=columns)
    check(frame, schema=schema, name=str(path), extra_text_prefix=extra_text_prefix)
    return frame

NETWORKS = {
    "network_id": "text", "response_key": "text", "werkplaats": "text", "name": "text", "initiator": "text", "initiator_types": "text",
    "start_year": "int", "start_text": "text", "start_precision": "text", "status": "text", "stop_reason": "text",
    "source": "text",
}
INVOLVEMENT = {
    "network_id": "text", "row": "int", "category_label": "text", "category_text": "text", "head_count": "int",
    "participant_group": "text", "level": "int",
}
CODES = {"network_id": "text", "item": "text", "theme": "text", "origin": "text", "evidence": "text"}

"""The networks and involvement tables for SPSS and R: tables/networks.sav and tables/involvement.sav with
Dutch variable labels and value labels (pyreadstat), and a codebook of their variables (file, variable,
label, type, values), which aggregate writes like every table (tables/spss_codebook.csv and a sheet).

Categories are numbered in the order config/ declares them (status, source, participant groups, the
involvement scale), so a code means the same in every wave that keeps that order. Texts stay strings.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from pipeline.core.config import Instrument, Taxonomies
from pipeline.core.schemas import write_atomic

STATUS_VALUES = {"loopt": "Loopt", "gestopt": "Gestopt", "onbekend": "Onbekend"}
SOURCE_VALUES = {"survey": "Vragenlijst", "supplement": "Aanvulling (per e-mail)"}
CODEBOOK = "spss_codebook"
CODEBOOK_HEADERS = {"file": "Bestand", "variable": "Variabele", "label": "Label", "type": "Type", "values": "Waarden"}
# The creation date and time in a .sav header ("02 Dec 26" "00:21:09", after 92 bytes of fixed fields).
_STAMP = slice(92, 109)
_STAMP_PATTERN = re.compile(rb"\d\d [A-Z][a-z]{2} \d\d\d\d:\d\d:\d\d")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    values: dict[str, str] | None = None      # category code -> Dutch label, numbered 1.. in this order
    numeric: bool = False                      # a number as it is (start_year, level)
    scale: dict[int, str] | None = None        # value labels of a numeric variable


def variables(*, instrument: Instrument, taxonomies: Taxonomies) -> dict[str, tuple[Variable, ...]]:
    """The variables of each .sav file, in column order, with their labels."""
    involvement = instrument.the("involvement")
    groups = {c.code: c.label for c in taxonomies.participant_groups}
    return {
        "networks": (
            Variable("network_id", "Leernetwerk (id)"),
            Variable("werkplaats", "Werkplaats Sociaal Domein"),
            Variable("name", "Naam van het leernetwerk"),
            Variable("initiator", "Initiatiefnemer of opdrachtgever, zoals ingevuld"),
            Variable("initiator_types", "Typen initiatiefnemer (codes, gescheiden door ;)"),
            Variable("start_year", "Startjaar", numeric=True),
            Variable("start_text", "Start, zoals ingevuld"),
            Variable("status", "Bestaat het leernetwerk nog?", values=STATUS_VALUES),
            Variable("stop_reason", "Reden van stoppen, zoals ingevuld"),
            Variable("source", "Bron van de gegevens", values=SOURCE_VALUES),
        ),
        "involvement": (
            Variable("network_id", "Leernetwerk (id)"),
            Variable("category_label", "Deelnemerscategorie, zoals ingevuld"),
            Variable("participant_group", "Deelnemersgroep", values=groups),
            Variable("level", "Mate van betrokkenheid", numeric=True,
                     scale={c.value: c.label for c in involvement.scale}),
        ),
    }


def _coded(frame: pd.DataFrame, variable: Variable) -> tuple[pd.Series, dict[int, str]]:
    """A category column as numbers 1.. with their labels; codes the config does not list are added after."""
    codes = list(variable.values)
    codes += sorted(set(frame[variable.name].dropna().astype(str)) - set(codes) - {""})
    number = {code: i for i, code in enumerate(codes, start=1)}
    labels = {i: variable.values.get(code, code) for code, i in number.items()}
    series = frame[variable.name].astype(object).map(lambda v: number.get(v) if isinstance(v, str) else None)
    return pd.to_numeric(series, errors="coerce").astype("float64"), labels


def _sav(frame: pd.DataFrame, spec: tuple[Variable, ...]) -> tuple[pd.DataFrame, dict, dict, list[dict]]:
    data, value_labels, rows = {}, {}, []
    for v in spec:
        column = frame[v.name] if v.name in frame else pd.Series([None] * len(frame), index=frame.index)
        if v.values is not None:
            data[v.name], labels = _coded(frame.assign(**{v.name: column}), v)
            value_labels[v.name] = labels
        elif v.numeric:
            data[v.name] = pd.to_numeric(column, errors="coerce").astype("float64")
            labels = v.scale or {}
            if labels:
                value_labels[v.name] = labels
        else:
            data[v.name] = column.astype(object).where(column.notna(), "").astype(str)
            labels = {}
        rows.append({"variable": v.name, "label": v.label, "type": "numeric" if v.values is not None or v.numeric
                     else "string", "values": "; ".join(f"{k} = {t}" for k, t in labels.items())})
    return pd.DataFrame(data), value_labels, {v.name: v.label for v in spec}, rows


def _stamped(data: bytes, timestamp: datetime) -> bytes:
    """The file with `timestamp` as its creation time, so a rerun on the same data gives the same bytes."""
    if not _STAMP_PATTERN.fullmatch(data[_STAMP]):
        return data
    stamp = f"{timestamp:%d} {_MONTHS[timestamp.month - 1]} {timestamp:%y}{timestamp:%H:%M:%S}".encode("ascii")
    return data[:_STAMP.start] + stamp + data[_STAMP.stop:]


def _prepared(*, networks: pd.DataFrame, involvement: pd.DataFrame, instrument: Instrument,
              taxonomies: Taxonomies):
    spec = variables(instrument=instrument, taxonomies=taxonomies)
    return {name: _sav(frame.reset_index(drop=True), spec[name])
            for name, frame in (("networks", networks), ("involvement", involvement))}


def codebook(*, networks: pd.DataFrame, involvement: pd.DataFrame, instrument: Instrument,
             taxonomies: Taxonomies) -> pd.DataFrame:
    """The variables of the .sav files: file, variable, label, type (numeric or string), values
    ("1 = Loopt; 2 = Gestopt; ..."). Takes the contract tables, since codes the config does not list are
    numbered after its own."""
    prepared = _prepared(networks=networks, involvement=involvement, instrument=instrument, taxonomies=taxonomies)
    rows = [{"file": f"{name}.sav", **row} for name, (_, _, _, described) in prepared.items() for row in described]
    return pd.DataFrame(rows, columns=list(CODEBOOK_HEADERS))


def write_sav_files(*, networks: pd.DataFrame, involvement: pd.DataFrame, instrument: Instrument,
                    taxonomies: Taxonomies, folder: Path, timestamp: datetime) -> list[Path]:
    """Write folder/networks.sav and folder/involvement.sav. Takes the contract tables (the columns of
    tables/networks.csv and tables/involvement.csv); `timestamp` is the files' creation time (the data's,
    not the clock's). Gives the paths."""
    import pyreadstat

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    prepared = _prepared(networks=networks, involvement=involvement, instrument=instrument, taxonomies=taxonomies)
    for name, (data, value_labels, labels, _) in prepared.items():
        # pyreadstat writes to a path: a scratch file, then written in place in one step.
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            path = Path(scratch) / f"{name}.sav"
            pyreadstat.write_sav(data, str(path), column_labels=labels, variable_value_labels=value_labels,
                                 file_label=f"WSD leernetwerken: {name}")
            target = folder / f"{name}.sav"
            write_atomic(target, _stamped(path.read_bytes(), timestamp))
        written.append(target)
    return written

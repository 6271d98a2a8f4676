"""Which responses count: previews, tests, spam, unfinished responses and earlier duplicate submissions
are dropped with their reason, and the export's dates are read in the export's time zone."""

from __future__ import annotations

import re

import pandas as pd

from pipeline.core.config import Instrument


DROP_REASONS = ("preview", "test", "spam", "unfinished", "duplicate")


STATUS_TEXT = {"0": "IP Address", "1": "Survey Preview", "2": "Survey Test", "4": "Imported", "8": "Spam",
               "9": "Survey Preview Spam", "12": "Imported Spam", "16": "Offline",
               "17": "Offline Survey Preview", "32": "EX", "40": "EX Spam", "48": "EX Offline"}


def _status_reason(value: str) -> str | None:
    text = STATUS_TEXT.get(value.strip(), value).casefold()
    if "spam" in text:
        return "spam"
    if "preview" in text:
        return "preview"
    if "test" in text:
        return "test"
    return None


def _is_unfinished(value: str) -> bool:
    return value.strip().casefold() in ("false", "0", "onwaar", "nee")


MAX_DATE_CHARS = 40            # a longer cell is no date; dateutil would take long to say so
DATE_YEARS = (1900, 2200)      # a date outside these years is taken as unreadable, not as a response time
_UTC_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)


def _coerce_dates(text: pd.Series, **options) -> pd.Series:
    """pandas' date parser on untrusted text: NaT for what it cannot read, whatever it raises on."""
    try:
        return pd.to_datetime(text, errors="coerce", **options)
    except (ValueError, TypeError, OverflowError, NotImplementedError, pd.errors.OutOfBoundsDatetime):
        pass
    values = []
    for one in text:   # one date the vectorised parser could not take (mixed zones, odd forms): alone
        try:
            values.append(pd.Timestamp(pd.to_datetime(one, **options)))
        except (ValueError, TypeError, OverflowError, NotImplementedError, pd.errors.OutOfBoundsDatetime):
            values.append(pd.NaT)
    return pd.Series(values, index=text.index, dtype=object)


def _as_local(parsed: pd.Series, zone: str, index) -> pd.Series:
    """Timestamps (naive: wall time in `zone`; aware: converted to it) as one column in `zone`, in ns."""
    out = pd.Series(pd.NaT, index=index, dtype=f"datetime64[ns, {zone}]")
    if pd.api.types.is_datetime64_any_dtype(parsed.dtype):   # the vectorised parser's answer: one step
        try:
            inside = parsed.where(parsed.dt.year.between(*DATE_YEARS))
            local = inside.dt.tz_convert(zone) if parsed.dt.tz is not None else inside.dt.tz_localize(
                zone, ambiguous="NaT", nonexistent="shift_forward")
            return local.astype(out.dtype).set_axis(index)
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
            parsed = parsed.astype(object)
    for at, value in parsed.items():
        if value is pd.NaT or pd.isna(value):
            continue
        try:
            stamp = pd.Timestamp(value)
            if not DATE_YEARS[0] <= stamp.year <= DATE_YEARS[1]:
                continue
            stamp = stamp.tz_convert(zone) if stamp.tzinfo else stamp.tz_localize(
                zone, ambiguous="NaT", nonexistent="shift_forward")
            out[at] = stamp
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
            continue
    return out


def parse_dates(values: pd.Series, *, zone: str, day_first: bool) -> pd.Series:
    """Qualtrics date text (or an Excel rewrite of it, or ISO with Z or an offset) to timestamps in `zone`;
    unreadable, impossible or out-of-range dates -> NaT."""
    text = values.astype(str).str.strip()
    text = text.where(text.str.len().le(MAX_DATE_CHARS), "\x00")
    parsed = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    in_range = parsed.dt.year.between(*DATE_YEARS)
    local = parsed.where(in_range).dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    local = local.astype(f"datetime64[ns, {zone}]")
    rest = parsed.isna() & text.ne("")
    if rest.any():
        # Odd forms are rare and few: each part of the parser gets only its own kind of text.
        offset = rest & text.str.contains(_UTC_OFFSET)
        other = rest & ~offset
        if offset.any():
            local[offset] = _as_local(_coerce_dates(text[offset], format="ISO8601", utc=True), zone, text.index[offset])
        if other.any():
            local[other] = _as_local(_coerce_dates(text[other], format="mixed", dayfirst=day_first), zone,
                                     text.index[other])
    return local


# A spreadsheet that had the export open may have put a quote before a cell starting with =, +, - or @ (so
# it is not read as a formula), and a respondent may have typed one: neither makes it another network.
FORMULA_STARTS = "=+-@'"


def _folded(values: pd.Series) -> pd.Series:
    """Text as the duplicate check compares it: case and runs of white space folded, formula starts dropped."""
    return (values.astype(str).str.casefold().str.split().str.join(" ").str.lstrip(FORMULA_STARTS + " ")
            .str.split().str.join(" "))


def _respondent(frame: pd.DataFrame, instrument: Instrument) -> pd.Series:
    """Who answered: the name of the respondent item, else the recipient e-mail; empty when neither is known."""
    who = pd.Series("", index=frame.index)
    for column in ("recipient_email", *(it.id for it in instrument.with_role("respondent"))):
        if column in frame:
            value = _folded(frame[column])
            who = who.where(value.eq(""), value)
    return who


def _network(frame: pd.DataFrame, instrument: Instrument) -> pd.Series:
    """Which network an answer is about: its werkplaats and network name, folded."""
    columns = (instrument.the("werkplaats").id, instrument.the("network_name").id)
    parts = [_folded(frame[c]) if c in frame else "" for c in columns]
    return parts[0] + " | " + parts[1]


def filter_responses(*, responses: pd.DataFrame, keep_unfinished: bool, instrument: Instrument) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop previews, tests, spam, unfinished and earlier duplicates.

    Takes columns row, status, finished, recorded_date, response_id, the respondent, werkplaats and
    network name items of `instrument` (recipient_email when present); gives the kept rows and a drop log with row, response_id, reason and detail.
    """
    reason = responses["status"].map(_status_reason) if "status" in responses else pd.Series(None, index=responses.index)
    if not keep_unfinished and "finished" in responses:
        reason = reason.where(reason.notna() | ~responses["finished"].map(_is_unfinished), "unfinished")
    dropped = responses[reason.notna()]
    blank = pd.Series("", index=dropped.index)
    detail = ("Status = " + dropped.get("status", blank).astype(str)).where(
        reason[dropped.index].ne("unfinished"),
        "Finished = " + dropped.get("finished", blank).astype(str) + ", progress "
        + dropped.get("progress", blank).astype(str).replace("", "?") + "%")
    logs = [pd.DataFrame({"row": dropped["row"], "response_id": dropped["response_id"],
                          "reason": reason[dropped.index], "detail": detail})]

    kept = responses[reason.isna()]
    ordered = kept.sort_values(["recorded_date", "row"], na_position="first")
    # The same response id more than once: the latest is kept.
    rid = ordered["response_id"].astype(str)
    same_id = rid.ne("") & rid.duplicated(keep="last")
    latest = ordered.groupby(rid, sort=False)["row"].transform("last")
    logs.append(pd.DataFrame({"row": ordered["row"], "response_id": rid, "reason": "duplicate",
                              "detail": "same response id as data row " + latest.astype(str)})[same_id])
    # The same respondent about the same network more than once: the latest submission is kept.
    who, network = _respondent(ordered, instrument), _network(ordered, instrument)
    known = ~same_id & who.ne("") & ~network.str.startswith(" |") & ~network.str.endswith("| ")
    pair = (who + "\x00" + network)[known]
    earlier = pair.duplicated(keep="last")
    latest = ordered.loc[known, "row"].groupby(pair, sort=False).transform("last")
    logs.append(pd.DataFrame({
        "row": ordered.loc[known, "row"], "response_id": rid[known], "reason": "duplicate",
        "detail": "earlier submission about the same network by the same respondent; data row "
                  + latest.astype(str) + " is later and kept"})[earlier])

    kept = kept.drop(index=same_id.index[same_id].union(earlier.index[earlier]))
    log = pd.concat(logs).sort_values("row", kind="stable").reset_index(drop=True)
    log["row"] = log["row"].astype("int64")   # an empty log would otherwise have no integer row column
    return kept, log

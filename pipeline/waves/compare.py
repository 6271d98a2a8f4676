"""Compare a wave with the previous one: which networks are new, continue, stopped or were not reported
again, and how status, participant groups and themes moved, side by side with n for each wave.

Networks are matched by werkplaats and name, tolerant of the way respondents rewrite them ("Friesland"
and "WSD Friesland"; a name with or without an explanation in brackets). A match that is not certain is
listed for the researcher, who confirms or rejects it in the wave's network_links.csv; a decision there
always wins. Shares are only computed from at least `min_networks_compared` networks (settings).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd
from rapidfuzz import fuzz

from pipeline.core.wave_files import LINK_COLUMNS
from pipeline.language.formatting import rounded_percent

CHANGES = ("nieuw", "loopt door", "gestopt sinds vorige meting", "was al gestopt", "niet opnieuw gemeld")
STATUS_LABELS = {"loopt": "Loopt", "gestopt": "Gestopt", "onbekend": "Onbekend"}
# Words that say nothing about which werkplaats it is: "WSD Friesland" is "Friesland".
FILLER = {"wsd", "werkplaats", "werkplaatsen", "sociaal", "domein", "regio", "de", "het", "van"}
NAME_SIMILAR = 85        # rapidfuzz token_set_ratio of the names, for a match that is not certain
PLACE_SIMILAR = 80       # ... and of the werkplaatsen


def _plain(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", ascii_text.casefold()).strip()


def place_key(text: str) -> str:
    return " ".join(w for w in _plain(text).split() if w not in FILLER) or _plain(text)


def name_key(text: str) -> str:
    return _plain(re.sub(r"\([^)]*\)", " ", text or "")) or _plain(text)


@dataclass
class Comparison:
    networks: pd.DataFrame                  # one row per network of either wave
    suggestions: pd.DataFrame               # matches that are not certain, in LINK_COLUMNS
    warnings: list[str] = field(default_factory=list)


def match_networks(previous: pd.DataFrame, current: pd.DataFrame, links: pd.DataFrame) -> list[tuple[int, int, str]]:
    """(previous position, current position, how) for the matched networks; how is bevestigd (the links
    file), zeker (the same werkplaats and name, written alike) or waarschijnlijk (similar). Takes
    werkplaats and name of both."""
    def keys(frame):
        return [(place_key(w), name_key(n)) for w, n in zip(frame["werkplaats"], frame["name"])]
    before, now = keys(previous), keys(current)
    exact = {(_plain(w), _plain(n)): i for i, (w, n) in enumerate(zip(previous["werkplaats"], previous["name"]))}
    exact_now = {(_plain(w), _plain(n)): i for i, (w, n) in enumerate(zip(current["werkplaats"], current["name"]))}
    confirmed, forbidden = [], set()
    for link in links.itertuples(index=False):
        pair = (exact.get((_plain(link.vorige_werkplaats), _plain(link.vorige_leernetwerk))),
                exact_now.get((_plain(link.werkplaats), _plain(link.leernetwerk))))
        if None in pair:
            continue
        if link.besluit.strip().casefold() == "zelfde":
            confirmed.append((*pair, "bevestigd"))
        else:
            forbidden.add(pair)
    candidates = []
    for j, (place_now, name_now) in enumerate(now):
        for i, (place_before, name_before) in enumerate(before):
            if (i, j) in forbidden:
                continue
            if (place_now, name_now) == (place_before, name_before):
                candidates.append((200, i, j, "zeker"))
                continue
            place = fuzz.token_set_ratio(place_now, place_before)
            name = fuzz.token_set_ratio(name_now, name_before)
            if place >= PLACE_SIMILAR and name >= NAME_SIMILAR:
                candidates.append((place + name, i, j, "waarschijnlijk"))
    taken_before, taken_now, pairs = set(), set(), []
    for i, j, how in confirmed:
        if i not in taken_before and j not in taken_now:
            pairs.append((i, j, how))
            taken_before.add(i)
            taken_now.add(j)
    for _, i, j, how in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if i not in taken_before and j not in taken_now:
            pairs.append((i, j, how))
            taken_before.add(i)
            taken_now.add(j)
    return pairs


def _change(before: str | None, now: str | None) -> str:
    if before is None:
        return "nieuw"
    if now is None:
        return "niet opnieuw gemeld"
    if now == "gestopt":
        return "was al gestopt" if before == "gestopt" else "gestopt sinds vorige meting"
    return "loopt door"


def compare_networks(*, previous: pd.DataFrame, current: pd.DataFrame, links: pd.DataFrame,
                     previous_name: str) -> Comparison:
    """One row per network of either wave: network_id, previous_network_id, werkplaats, name,
    status_before, status_now, change (one of CHANGES), match (how it was matched, or empty). Takes
    network_id, werkplaats, name and status of both waves."""
    previous, current = previous.reset_index(drop=True), current.reset_index(drop=True)
    pairs = match_networks(previous, current, links)
    by_now = {j: (i, how) for i, j, how in pairs}
    matched_before = {i for i, _, _ in pairs}
    rows = []
    for j, n in current.iterrows():
        i, how = by_now.get(j, (None, ""))
        before = previous.loc[i] if i is not None else None
        rows.append({"network_id": n["network_id"], "previous_network_id": before["network_id"] if i is not None else "",
                     "werkplaats": n["werkplaats"], "name": n["name"],
                     "status_before": STATUS_LABELS[before["status"]] if i is not None else "",
                     "status_now": STATUS_LABELS[n["status"]],
                     "change": _change(before["status"] if i is not None else None, n["status"]), "match": how})
    for i, p in previous.iterrows():
        if i not in matched_before:
            rows.append({"network_id": "", "previous_network_id": p["network_id"], "werkplaats": p["werkplaats"],
                         "name": p["name"], "status_before": STATUS_LABELS[p["status"]], "status_now": "",
                         "change": _change(p["status"], None), "match": ""})
    networks = pd.DataFrame(rows, columns=["network_id", "previous_network_id", "werkplaats", "name", "status_before",
                                           "status_now", "change", "match"])
    unsure = [(previous.loc[i], current.loc[j]) for i, j, how in pairs if how == "waarschijnlijk"]
    suggestions = pd.DataFrame([{"vorige_werkplaats": p["werkplaats"], "vorige_leernetwerk": p["name"],
                                 "werkplaats": c["werkplaats"], "leernetwerk": c["name"], "besluit": ""}
                                for p, c in unsure], columns=list(LINK_COLUMNS))
    warnings = []
    if len(suggestions):
        warnings.append(f"{len(suggestions)} network(s) were matched with wave {previous_name} by a similar, not the "
                        "same, werkplaats and name; check them in processed/network_links_suggested.csv and put "
                        "your decision (zelfde or ander) in the wave's network_links.csv.")
    return Comparison(networks=networks, suggestions=suggestions, warnings=warnings)


def share(part: int, whole: int, minimum: int) -> float | None:
    """A percentage, or None when `whole` is below the threshold for comparing."""
    return rounded_percent(part, whole) if whole >= max(1, minimum) else None


def side_by_side_status(previous: pd.DataFrame, current: pd.DataFrame, minimum: int) -> pd.DataFrame:
    """Per status: label, networks and percent in each wave (status of both)."""
    rows = []
    for status, label in STATUS_LABELS.items():
        before, now = int((previous["status"] == status).sum()), int((current["status"] == status).sum())
        rows.append({"status": status, "label": label, "networks_before": before,
                     "percent_before": share(before, len(previous), minimum), "networks_now": now,
                     "percent_now": share(now, len(current), minimum)})
    return pd.DataFrame(rows)


def side_by_side_counts(before: pd.DataFrame, now: pd.DataFrame, n_before: int, n_now: int,
                        minimum: int) -> pd.DataFrame:
    """Two count tables (label, networks) of the same kind side by side: this wave's rows in its order,
    then the labels only the previous wave has; the unknown ("Onbekend") last."""
    labels = list(dict.fromkeys([*now["label"], *before["label"]]))
    labels = [l for l in labels if l != "Onbekend"] + (["Onbekend"] if "Onbekend" in labels else [])
    b, n = dict(zip(before["label"], before["networks"])), dict(zip(now["label"], now["networks"]))
    return pd.DataFrame([{"label": label, "networks_before": int(b.get(label, 0)),
                          "percent_before": share(int(b.get(label, 0)), n_before, minimum),
                          "networks_now": int(n.get(label, 0)),
                          "percent_now": share(int(n.get(label, 0)), n_now, minimum)} for label in labels])


def side_by_side_groups(previous: pd.DataFrame, current: pd.DataFrame, n_before: int, n_now: int,
                        groups, minimum: int) -> pd.DataFrame:
    """Per participant group: networks naming it in each wave, and their share (involvement of both)."""
    rows = []
    for group in groups:
        before = int(previous.loc[previous["participant_group"] == group.code, "network_id"].nunique())
        now = int(current.loc[current["participant_group"] == group.code, "network_id"].nunique())
        rows.append({"group": group.code, "label": group.label, "networks_before": before,
                     "percent_before": share(before, n_before, minimum), "networks_now": now,
                     "percent_now": share(now, n_now, minimum)})
    return pd.DataFrame(rows)


def side_by_side_themes(previous_codes: pd.DataFrame, codes: pd.DataFrame, answered_before: dict[str, int],
                        answered_now: dict[str, int], codebook, minimum: int) -> pd.DataFrame:
    """Per theme of every coded item: networks naming it in each wave and their share of the networks
    that answered the item (codes of both)."""
    rows = []
    for item in codebook.items:
        for theme in codebook.themes_for(item):
            def count(frame):
                hit = frame[(frame["item"] == item) & (frame["theme"] == theme.code)]
                return int(hit["network_id"].nunique())
            before, now = count(previous_codes), count(codes)
            rows.append({"item": item, "category_label": codebook.categories[theme.category]["label"],
                         "theme": theme.code, "theme_label": theme.label, "networks_before": before,
                         "percent_before": share(before, answered_before.get(item, 0), minimum),
                         "networks_now": now, "percent_now": share(now, answered_now.get(item, 0), minimum)})
    return pd.DataFrame(rows)

"""Compare a wave with the previous one: which networks are new, continue, stopped or were not reported
again, and how status, participant groups and themes moved, side by side with n for each wave.

Networks are matched by werkplaats and name, tolerant of the way respondents rewrite them ("Friesland"
and "WSD Friesland"; a name with or without an explanation in brackets). A match that is not certain is
listed for the researcher, who confirms or rejects it in the wave's network_links.csv; a decision there
always wins. Shares are only computed from at least `min_networks_compared` networks (settings).

The themes of the two waves are compared as their codes were made: where one wave's answers were
reviewed by a person and the other's markedly less (REVIEW_DIFFERENCE), the comparison says how each was
coded, and a theme's change that the difference in unreviewed answers could explain is marked as within
the coding's uncertainty instead of standing as a finding.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd
from rapidfuzz import fuzz

from pipeline.core.wave_files import LINK_COLUMNS
from pipeline.language.formatting import percent, rounded_percent

CHANGES = ("nieuw", "loopt door", "weer gestart", "opnieuw gemeld, status onbekend", "gestopt sinds vorige meting",
           "was al gestopt", "niet opnieuw gemeld")
STATUS_LABELS = {"loopt": "Loopt", "gestopt": "Gestopt", "onbekend": "Onbekend"}
# Words that say nothing about which werkplaats it is: "WSD Friesland" is "Friesland".
FILLER = {"wsd", "werkplaats", "werkplaatsen", "sociaal", "domein", "regio", "de", "het", "van"}
NAME_SIMILAR = 85        # rapidfuzz token_set_ratio of the names, for a match that is not certain
PLACE_SIMILAR = 80       # ... and of the werkplaatsen
# Two waves whose shares of reviewed answers differ by this much (a fraction) were not coded the same way.
REVIEW_DIFFERENCE = 0.2
WITHIN_UNCERTAINTY = "binnen de onzekerheid van de codering"
UNSURE_MATCH = "waarschijnlijk"   # how a link by a similar, not the same, werkplaats and name is marked


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
                candidates.append((place + name, i, j, UNSURE_MATCH))
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
    if now == "onbekend":       # reported again, but not said to run: "loopt door" would claim more than is known
        return "opnieuw gemeld, status onbekend"
    return "weer gestart" if before == "gestopt" else "loopt door"


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
    unsure = [(previous.loc[i], current.loc[j]) for i, j, how in pairs if how == UNSURE_MATCH]
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


@dataclass(frozen=True)
class Review:
    """How a wave's codes (of one item, or of all) were made: the coded answers, and how many of them a
    person reviewed; the others carry the codebook's rules alone."""

    reviewed: int
    coded: int

    @property
    def share(self) -> float:
        return self.reviewed / self.coded if self.coded else 0.0

    def __add__(self, other: "Review") -> "Review":
        return Review(self.reviewed + other.reviewed, self.coded + other.coded)


NOT_KNOWN = Review(0, 0)


def coded_alike(before: Review, now: Review) -> bool:
    """Whether two waves' codes were made the same way: their shares of reviewed answers are close."""
    return abs(before.share - now.share) < REVIEW_DIFFERENCE


def explained_by_coding(percent_before: float, percent_now: float, before: Review, now: Review) -> float:
    """The change of a theme's share (percentage points) that the coding alone could explain: the rules
    may miss or wrongly give a theme in any answer no person reviewed, so a wave with a larger unreviewed
    share may lack (or gain) up to that share more of the networks naming the theme."""
    return abs(before.share - now.share) * max(percent_before, percent_now)


def side_by_side_themes(previous_codes: pd.DataFrame, codes: pd.DataFrame, answered_before: dict[str, int],
                        answered_now: dict[str, int], codebook, minimum: int,
                        review_before: dict[str, Review] | None = None,
                        review_now: dict[str, Review] | None = None) -> pd.DataFrame:
    """Per theme of every coded item: networks naming it in each wave and their share of the networks
    that answered the item (codes of both); `coding`: WITHIN_UNCERTAINTY where the item was not coded
    alike in both waves (`review_before`, `review_now`: per item) and the change is no larger than the
    coding could explain, else empty. Items in the codebook's order, each item's themes from the most
    named in this wave down (then in the previous wave, then the codebook's order): the table shows no
    categories, so the codebook's order would mean nothing to its reader."""
    rows = []
    for item in codebook.items:
        before_review = (review_before or {}).get(item, NOT_KNOWN)
        now_review = (review_now or {}).get(item, NOT_KNOWN)
        alike = review_before is None or review_now is None or coded_alike(before_review, now_review)
        for theme in codebook.themes_for(item):
            def count(frame):
                hit = frame[(frame["item"] == item) & (frame["theme"] == theme.code)]
                return int(hit["network_id"].nunique())
            before, now = count(previous_codes), count(codes)
            percent_before = share(before, answered_before.get(item, 0), minimum)
            percent_now = share(now, answered_now.get(item, 0), minimum)
            within = not alike and percent_before is not None and percent_now is not None and \
                abs(percent_now - percent_before) <= explained_by_coding(percent_before, percent_now, before_review,
                                                                         now_review)
            rows.append({"item": item, "category_label": codebook.categories[theme.category]["label"],
                         "theme": theme.code, "theme_label": theme.label, "networks_before": before,
                         "percent_before": percent_before, "networks_now": now, "percent_now": percent_now,
                         "coding": WITHIN_UNCERTAINTY if within else ""})
    order = {item: at for at, item in enumerate(codebook.items)}
    rows.sort(key=lambda row: (order[row["item"]], -row["networks_now"], -row["networks_before"]))
    return pd.DataFrame(rows, columns=["item", "category_label", "theme", "theme_label", "networks_before",
                                       "percent_before", "networks_now", "percent_now", "coding"])


def side_by_side_coding(previous_name: str, review_before: Review, review_now: Review, *,
                        now: str = "deze meting") -> pd.DataFrame:
    """Per wave (the previous one first): wave (its label), coded answers, reviewed answers, percent_reviewed,
    and alike (the same for both rows: whether the two waves were coded the same way)."""
    alike = coded_alike(review_before, review_now)
    return pd.DataFrame([{"wave": label, "coded": r.coded, "reviewed": r.reviewed,
                          "percent_reviewed": rounded_percent(r.reviewed, r.coded) if r.coded else None,
                          "alike": alike}
                         for label, r in ((f"Meting {previous_name}", review_before),
                                          (now[0].upper() + now[1:], review_now))])


def _how_coded(review: Review) -> str:
    if review.coded == 0:
        return "is geen antwoord gecodeerd"
    if review.reviewed == 0:
        return (f"is geen van de {review.coded} gecodeerde antwoorden door een persoon nagekeken: de codes komen "
                "alleen van de regels van het codeboek")
    if review.reviewed == review.coded:
        return f"zijn alle {review.coded} gecodeerde antwoorden door een persoon nagekeken"
    return (f"zijn {review.reviewed} van de {review.coded} gecodeerde antwoorden "
            f"({percent(rounded_percent(review.reviewed, review.coded))}) door een persoon nagekeken, de andere "
            "alleen door de regels van het codeboek gecodeerd")


def coding_note(previous_name: str, review_before: Review, review_now: Review, *, now: str = "deze meting") -> str:
    """In plain Dutch, how each wave was coded, and what that means for the comparison of themes (`now`:
    how the text names this wave)."""
    how_before, how_now = _how_coded(review_before), _how_coded(review_now)
    # The same words twice read as a machine's; one clause for both says it once.
    if how_before == how_now:
        how = f"In beide metingen {how_now}."
    elif review_before.coded and review_now.coded and not review_before.reviewed and not review_now.reviewed:
        how = (f"In geen van beide metingen is een gecodeerd antwoord door een persoon nagekeken "
               f"({review_before.coded} in meting {previous_name}, {review_now.coded} in {now}): de codes komen "
               "alleen van de regels van het codeboek.")
    else:
        how = f"In meting {previous_name} {how_before}; in {now} {how_now}."
    if coded_alike(review_before, review_now):
        return f"{how} De codes van beide metingen zijn dus op dezelfde manier gemaakt."
    return (f"{how} De codes van de twee metingen zijn dus niet op dezelfde manier gemaakt. De regels kunnen in "
            "een antwoord dat niemand nakeek een thema missen of ten onrechte geven; een verschil dat het verschil "
            f"in nagekeken antwoorden kan verklaren, staat in de tabel als '{WITHIN_UNCERTAINTY}' en is geen "
            "bevinding.")

"""Aggregate: every table of the report from the networks, involvement and codes tables.

Each table is a typed frame with English column names (numbers as numbers, per-network tables keyed by
network_id) and the Dutch headers of the columns people see. The headers are applied only where a table
is written for people: tables/<name>.csv and a sheet of tables.xlsx. The typed frames go to charts and
render as they are (typed/<name>.parquet in data/processed). The items and their tables come from the
instrument's declarations, so a new item needs no code here.

Over 500 lines: one function per kind of table of the report, which are read side by side when a table
is compared with the 2019 report; the comparison with the previous wave is pipeline.waves.compare's.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from pipeline.core.codebook import Codebook
from pipeline.core.config import Config, Instrument, Item, Taxonomies
from pipeline.core.errors import PipelineError
from pipeline.analysis.coding_accuracy import ACCURACY_SUMMARY, accuracy_summary
from pipeline.coding.quotes import NOT_PUBLISHED, QUOTES, QUOTES_SUMMARY, Decisions, Quote, choose, load_decisions, select
from pipeline.core.schemas import CODES, INVOLVEMENT, NETWORKS, read_parquet, write_atomic
from pipeline.core.stage import Context
from pipeline.core.wave_files import empty_reviews, load_links, load_reviews, load_sample
from pipeline.analysis import spss
from pipeline.language.formatting import rounded_percent
from pipeline.core.excel import StreamedWorkbook, csv_safe
from pipeline.coding.rules import answers
from pipeline.waves.compare import (CHANGES, Review, coded_alike, coding_note, compare_networks, side_by_side_coding,
                                    side_by_side_counts, side_by_side_groups, side_by_side_status, side_by_side_themes)

NOT_GIVEN = "Niet ingevuld"
STATUS_LABELS = {"loopt": "Loopt", "gestopt": "Gestopt", "onbekend": "Onbekend"}
SOURCE_LABELS = {"survey": "vragenlijst", "supplement": "aanvulling"}
ANSWER_LABELS = {"ja": "Ja", "nee": "Nee", "": NOT_GIVEN}
TYPED_FOLDER = "typed"


@dataclass
class Table:
    """One table of the report. `frame` is typed, with English columns; `headers` maps the columns people
    see to their Dutch headers, in the order they are shown (other columns, such as network_id, are kept
    for joins and left out of what is written for people). `long_text` columns are wrapped and given a
    wide column in Excel, `wrapped` ones only wrapped."""

    name: str
    title: str
    frame: pd.DataFrame
    headers: dict[str, str]
    note: str = ""
    base: int | None = None      # the number of networks percentages are taken of
    item: str | None = None
    long_text: tuple[str, ...] = ()
    wrapped: tuple[str, ...] = ()
    percent: tuple[str, ...] = field(default=())
    sheet: pd.DataFrame | None = None   # what tables.xlsx shows, when it differs from the CSV (contract tables)

    def __post_init__(self):
        if not self.percent:
            self.percent = tuple(c for c in self.headers if c.startswith("percent"))

    def for_people(self) -> pd.DataFrame:
        """The shown columns under their Dutch headers."""
        return self.frame[list(self.headers)].rename(columns=self.headers)

    def describe(self) -> dict:
        """Title, note, base, item and the column headers, for tables.json."""
        return {"name": self.name, "title": self.title, "note": self.note, "base": self.base, "item": self.item,
                "headers": self.headers, "percent": list(self.percent)}


def question(item: Item) -> str:
    """How the report names an item: "vraag 19", as its text does (never the item code q19)."""
    return f"vraag {item.number}"


def _title(item: Item) -> str:
    """An item table's title: its declared title with the question it counts."""
    return f"{item.report.title} ({question(item)})"


def _because(reason: str) -> str:
    """A stop reason after the status: ", omdat ..." where the respondent wrote the conjunction, else
    "; reden: ..." (an answer may be a main clause, "het netwerk was ...", which "omdat" would make wrong Dutch)."""
    if reason.casefold().startswith(("omdat", "want", "doordat", "door ")):
        return f", {reason}"
    return f"; reden: {reason}"


def overview(networks: pd.DataFrame) -> pd.DataFrame:
    """Section 3.2: one row per network. Takes network_id, werkplaats, name, initiator, start_text, status,
    stop_reason, source; gives those with start_shown, status_shown and source_shown for people."""
    status = [STATUS_LABELS[s] + (_because(r) if r else "") for s, r in zip(networks["status"], networks["stop_reason"])]
    return pd.DataFrame({"network_id": networks["network_id"], "werkplaats": networks["werkplaats"],
                         "name": networks["name"], "initiator": networks["initiator"],
                         "start_shown": networks["start_text"].replace("", "-"), "status_shown": status,
                         "source_shown": networks["source"].map(SOURCE_LABELS), "status": networks["status"],
                         "source": networks["source"]})


def by_status(networks: pd.DataFrame) -> pd.DataFrame:
    """Networks per status: status (code), label, networks, percent."""
    counts = networks["status"].value_counts()
    rows = [(s, STATUS_LABELS[s], int(counts.get(s, 0))) for s in STATUS_LABELS]
    return pd.DataFrame({"status": [r[0] for r in rows], "label": [r[1] for r in rows],
                         "networks": [r[2] for r in rows], "percent": [rounded_percent(r[2], len(networks)) for r in rows]})


def by_start_year(networks: pd.DataFrame) -> pd.DataFrame:
    """Networks per start year, every year from the first to the last, then the unknown start:
    year (or empty), label, networks, percent."""
    years = networks["start_year"].dropna().astype(int)
    counts = years.value_counts()
    # Years between the first and the last without a network still get a row, so the time axis has no gaps.
    span = range(int(years.min()), int(years.max()) + 1) if len(years) else range(0)
    frame = pd.DataFrame({"label": [str(y) for y in span], "networks": [int(counts.get(y, 0)) for y in span]})
    unknown = int(networks["start_year"].isna().sum())
    frame.loc[len(frame)] = ["Onbekend", unknown]
    frame.insert(0, "year", pd.array(list(span) + [None], dtype="Int64"))
    frame["percent"] = [rounded_percent(n, len(networks)) for n in frame["networks"]]
    return frame


def by_initiator_type(networks: pd.DataFrame, taxonomies: Taxonomies) -> pd.DataFrame:
    """Networks per initiator type (a network with several types counts for each): type, label,
    networks, percent."""
    types = networks["initiator_types"].str.split(";").explode()
    counts = types[types.ne("")].value_counts()
    unknown = int(networks["initiator_types"].eq("").sum())
    rows = [(c.code, c.label, int(counts.get(c.code, 0))) for c in taxonomies.initiator_types]
    # Most named first, as in the figure; ties keep the taxonomy's order, and the unknown stay last.
    rows = sorted(rows, key=lambda r: -r[2]) + [("onbekend", "Onbekend", unknown)]
    return pd.DataFrame({"type": [r[0] for r in rows], "label": [r[1] for r in rows],
                         "networks": [r[2] for r in rows], "percent": [rounded_percent(r[2], len(networks)) for r in rows]})


def involvement_by_group(involvement: pd.DataFrame, taxonomies: Taxonomies, item: Item) -> pd.DataFrame:
    """Per participant group: group, label, networks naming it, categories, level_<value> per scale point
    of the item, not_given, percent_high (share hoog or zeer hoog of the categories with a level)."""
    top = [c.value for c in item.scale][-2:]
    records = []
    for group in taxonomies.participant_groups:
        rows = involvement[involvement["participant_group"] == group.code]
        levels = rows["level"].dropna().astype(int)
        record = {"group": group.code, "label": group.label, "networks": int(rows["network_id"].nunique()),
                  "categories": len(rows)}
        for point in item.scale:
            record[f"level_{point.value}"] = int((levels == point.value).sum())
        record["not_given"] = int(rows["level"].isna().sum())
        record["percent_high"] = rounded_percent(int(levels.isin(top).sum()), len(levels))
        records.append(record)
    return pd.DataFrame(records)


def yes_no_summary(networks: pd.DataFrame, items: tuple[Item, ...]) -> pd.DataFrame:
    """Per yes/no item: item, question (its number), topic, yes, no, not_given, answered, percent_yes (of those who answered)."""
    records = []
    for item in items:
        answers = networks[item.id] if item.id in networks else pd.Series([""] * len(networks))
        ja, nee = int(answers.eq("ja").sum()), int(answers.eq("nee").sum())
        records.append({"item": item.id, "question": item.number, "topic": item.report.title, "yes": ja, "no": nee,
                        "not_given": len(networks) - ja - nee, "answered": ja + nee,
                        "percent_yes": rounded_percent(ja, ja + nee)})
    return pd.DataFrame(records)


def yes_no_detail(networks: pd.DataFrame, item: str) -> pd.DataFrame:
    """One row per network with its answer to a yes/no item and the text given with it:
    network_id, werkplaats, name, answer (ja, nee or ""), answer_shown, explanation."""
    text = networks.get(f"{item}_text", pd.Series([""] * len(networks), index=networks.index))
    answers = networks[item] if item in networks else pd.Series([""] * len(networks), index=networks.index)
    return pd.DataFrame({"network_id": networks["network_id"], "werkplaats": networks["werkplaats"],
                         "name": networks["name"], "answer_shown": answers.replace(ANSWER_LABELS),
                         "explanation": text.fillna(""), "answer": answers})


def _answered(networks: pd.DataFrame, item: str) -> int:
    return int(networks[item].fillna("").ne("").sum()) if item in networks else 0


def themes(codes: pd.DataFrame, networks: pd.DataFrame, codebook: Codebook, item: str,
           quotes: dict[str, list[Quote]] | None = None) -> pd.DataFrame:
    """Per theme of `item`: category, category_label, theme_label, theme, networks naming it, percent of
    the networks that answered, quote_1..3 (see pipeline.coding.quotes; chosen without decisions when not given)."""
    answered = _answered(networks, item)
    item_codes = codes[codes["item"] == item]
    if quotes is None:
        quotes = choose(codes=codes, networks=networks, codebook=codebook, item=item, decisions=Decisions())
    records = []
    for theme in codebook.themes_for(item):
        rows = item_codes[item_codes["theme"] == theme.code]
        shown = [q.candidate.sentence for q in quotes.get(theme.code, [])]
        record = {"category": theme.category, "category_label": codebook.categories[theme.category]["label"],
                  "theme_label": theme.label, "theme": theme.code, "networks": int(rows["network_id"].nunique()),
                  "percent": rounded_percent(int(rows["network_id"].nunique()), answered)}
        for i in range(QUOTES):
            record[f"quote_{i + 1}"] = shown[i] if i < len(shown) else ""
        records.append(record)
    columns = ["category", "category_label", "theme_label", "theme", "networks", "percent",
               *(f"quote_{i + 1}" for i in range(QUOTES))]
    return pd.DataFrame(records, columns=columns)


def themes_by_network(codes: pd.DataFrame, networks: pd.DataFrame, codebook: Codebook, item: str) -> pd.DataFrame:
    """Per network the themes of `item` coded (in codebook order) and the answer itself:
    network_id, werkplaats, name, themes (labels joined by "; "), answer."""
    order = {t.code: i for i, t in enumerate(codebook.themes_for(item))}
    labels = {t.code: t.label for t in codebook.themes_for(item)}
    coded = codes[codes["item"] == item]
    coded = coded.assign(order=coded["theme"].map(order), label=coded["theme"].map(labels)).dropna(subset=["order"])
    named = coded.sort_values(["network_id", "order"]).groupby("network_id")["label"].agg("; ".join)
    return pd.DataFrame({"network_id": networks["network_id"], "werkplaats": networks["werkplaats"],
                         "name": networks["name"],
                         "themes": networks["network_id"].map(named).astype(object).fillna("").astype(str),
                         "answer": networks.get(item, pd.Series([""] * len(networks))).fillna("")})


def _scale_headers(item: Item) -> dict[str, str]:
    missing = [c.label for c in item.scale if not c.heading]
    if missing:
        raise PipelineError(f"config/instrument.yaml: scale point {missing[0]!r} of {item.id} needs a heading "
                            "(the column heading of the involvement table, such as 'Zeer laag').")
    return {f"level_{c.value}": c.heading for c in item.scale}


@dataclass
class Previous:
    """The previous wave's tables, for the comparison: its name, networks, involvement and codes, and
    the researcher's decisions on matches (network_links.csv)."""

    name: str
    networks: pd.DataFrame
    involvement: pd.DataFrame
    codes: pd.DataFrame
    links: pd.DataFrame
    reviews: pd.DataFrame = field(default_factory=empty_reviews)   # its coding_reviews.csv
    this_wave: str | None = None   # the name of the wave compared with it, which the tables name too


def reviews_by_item(networks: pd.DataFrame, codebook: Codebook, reviews: pd.DataFrame) -> dict[str, Review]:
    """Per coded item, its coded answers and how many of them a person reviewed (a review counts while
    its answer is unchanged). Takes response_key, network_id and the coded items of `networks`."""
    coded = answers(networks, codebook.items)
    done = set(zip(reviews["response_key"], reviews["item"], reviews["answer_sha"]))
    coded["reviewed"] = [key in done for key in zip(coded["response_key"], coded["item"], coded["answer_sha"])]
    return {item: Review(reviewed=int(coded.loc[coded["item"] == item, "reviewed"].sum()),
                         coded=int((coded["item"] == item).sum())) for item in codebook.items}


def _years_side_by_side(previous: pd.DataFrame, current: pd.DataFrame, minimum: int) -> pd.DataFrame:
    """Start years of both waves on one time axis: every year from the earliest to the latest of either."""
    both = pd.concat([previous[["start_year"]], current[["start_year"]]])
    years = by_start_year(both)
    axis = years.loc[years["year"].notna(), "label"].tolist()

    def on_axis(frame):
        counts = by_start_year(frame).set_index("label")["networks"]
        return pd.DataFrame({"label": [*axis, "Onbekend"],
                             "networks": [int(counts.get(label, 0)) for label in [*axis, "Onbekend"]]})
    return side_by_side_counts(on_axis(previous), on_axis(current), len(previous), len(current), minimum)


def comparison_tables(*, networks, involvement, codes, previous: Previous, codebook: Codebook,
                      taxonomies: Taxonomies, minimum: int, review_now: dict[str, Review] | None = None,
                      instrument: Instrument | None = None):
    """The tables comparing this wave with the previous one, and the comparison (its suggestions);
    `review_now`: how this wave's codes were made (reviews_by_item; none: no answer reviewed). Both waves
    are named by their names ("meting 2018", "n 2025"), the questions as the report names them."""
    before = previous.name
    # "meting 2025" where the wave is known, else "deze meting" ("nu" in a column header)
    now, now_short = (f"meting {previous.this_wave}", previous.this_wave) if previous.this_wave \
        else ("deze meting", "nu")
    review_before = reviews_by_item(previous.networks, codebook, previous.reviews)
    review_now = review_now or reviews_by_item(networks, codebook, empty_reviews())
    alike = all(coded_alike(review_before[item], review_now[item]) for item in codebook.items)
    total_before, total_now = sum(review_before.values(), Review(0, 0)), sum(review_now.values(), Review(0, 0))
    compared = compare_networks(previous=previous.networks, current=networks, links=previous.links,
                                previous_name=before)
    counts = compared.networks["change"].value_counts()
    changes = pd.DataFrame({"change": list(CHANGES), "label": [c[0].upper() + c[1:] for c in CHANGES],
                            "networks": [int(counts.get(c, 0)) for c in CHANGES]})
    # The minimum is of the networks a percentage is taken of (a wave's, or those that answered), not of
    # the networks counted: a percentage of one network of twenty is given.
    basis = (f"een percentage staat er alleen als het berekend is over ten minste {minimum} netwerken (die van "
             "de meting, of die de vraag beantwoordden)")
    note = f"n: aantal netwerken. {now[0].upper() + now[1:]} vergeleken met meting {before}; {basis}."
    side = {"networks_before": f"n {before}", "percent_before": f"% {before}", "networks_now": f"n {now_short}",
            "percent_now": f"% {now_short}"}
    answered_before = {item: _answered(previous.networks, item) for item in codebook.items}
    answered_now = {item: _answered(networks, item) for item in codebook.items}
    tables = [
        Table("vergelijking_netwerken", f"Leernetwerken in meting {before} en in {now}", compared.networks,
              {"werkplaats": "Werkplaats", "name": "Leernetwerk", "status_before": f"Status {before}",
               "status_now": f"Status {now_short}", "change": "Verandering"},
              "De netwerken van beide metingen zijn gekoppeld op werkplaats en naam, ook als die iets anders "
              "geschreven zijn.", wrapped=("name",)),
        Table("vergelijking_verandering", f"Verandering ten opzichte van meting {before}", changes,
              {"label": "Verandering", "networks": "Netwerken"}, note),
        Table("vergelijking_status", f"Huidige status in meting {before} en in {now}",
              side_by_side_status(previous.networks, networks, minimum), {"label": "Status", **side}, note),
        Table("vergelijking_startjaren", f"Startjaren in meting {before} en in {now}",
              _years_side_by_side(previous.networks, networks, minimum), {"label": "Startjaar", **side}, note),
        Table("vergelijking_initiatiefnemers", f"Typen initiatiefnemer in meting {before} en in {now}",
              side_by_side_counts(by_initiator_type(previous.networks, taxonomies), by_initiator_type(networks, taxonomies),
                                  len(previous.networks), len(networks), minimum),
              {"label": "Type initiatiefnemer", **side},
              note + " Een netwerk kan meer typen initiatiefnemer hebben."),
        Table("vergelijking_deelnemers", f"Deelnemersgroepen in meting {before} en in {now}",
              side_by_side_groups(previous.involvement, involvement, len(previous.networks), len(networks),
                                  taxonomies.participant_groups, minimum),
              {"label": "Deelnemersgroep", **side}, note + " Percentage van alle netwerken van de meting."),
        Table("vergelijking_codering", f"Hoe de codes zijn gemaakt in meting {before} en in {now}",
              side_by_side_coding(before, total_before, total_now, now=now),
              {"wave": "Meting", "coded": "Gecodeerde antwoorden", "reviewed": "Nagekeken door een persoon",
               "percent_reviewed": "% nagekeken"}, coding_note(before, total_before, total_now, now=now)),
        Table("vergelijking_themas", f"Thema's van de open vragen in meting {before} en in {now}",
              _named_questions(side_by_side_themes(previous.codes, codes, answered_before, answered_now, codebook,
                                                   minimum, review_before=review_before, review_now=review_now),
                               instrument),
              {"question": "Vraag", "theme_label": "Thema", **side, **({} if alike else {"coding": "Codering"})},
              f"n: netwerken die het thema noemen; percentage van de netwerken die de vraag beantwoordden. "
              f"{now[0].upper() + now[1:]} vergeleken met meting {before}; {basis}."
              + ("" if alike else " Codering: of het verschil binnen de onzekerheid van de codering valt "
                                  "(zie de vorige tabel).")),
    ]
    return tables, compared


def _named_questions(themes: pd.DataFrame, instrument: Instrument | None) -> pd.DataFrame:
    """The themes side by side with `question`: each item as the report names it ("vraag 23")."""
    named = {it.id: question(it) for it in instrument.items} if instrument is not None else {}
    return themes.assign(question=themes["item"].map(lambda item: named.get(item, item)))


def withhold_answers(*, networks: pd.DataFrame, codes: pd.DataFrame, instrument: Instrument,
                     unpublished: set[str] | frozenset[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The networks and codes tables with the typed answers of the `unpublished` networks (ids) replaced by
    NOT_PUBLISHED: the text and coded items, the texts of the yes/no items, the evidence of codes; their
    stop reason emptied. Counts stay as they were (an answer withheld is still an answer)."""
    if not unpublished:
        return networks, codes
    hidden = networks["network_id"].isin(unpublished).to_numpy(dtype=bool)
    networks = networks.copy()
    columns = [it.id for it in instrument.with_role("text", "coded")] + \
        [f"{it.id}_text" for it in instrument.with_role("yes_no")]
    for column in (c for c in columns if c in networks):
        given = networks[column].fillna("").ne("").to_numpy(dtype=bool)
        networks.loc[hidden & given, column] = NOT_PUBLISHED
    networks.loc[hidden, "stop_reason"] = ""
    codes = codes.copy()
    codes.loc[codes["network_id"].isin(unpublished), "evidence"] = NOT_PUBLISHED
    return networks, codes


def aggregate(*, networks: pd.DataFrame, involvement: pd.DataFrame, codes: pd.DataFrame, codebook: Codebook,
              taxonomies: Taxonomies, instrument: Instrument, previous: Previous | None = None,
              minimum: int = 5, quotes: dict[str, dict[str, list[Quote]]] | None = None,
              unpublished: frozenset[str] = frozenset(), reviews: pd.DataFrame | None = None) -> list[Table]:
    """Every table of the report, in report order, from the instrument's declarations (and, with the
    previous wave's tables, the comparison).

    Takes the networks, involvement and codes tables of the processed folder, the quotes per item and
    theme (see pipeline.coding.quotes.select; chosen without decisions when not given) and the ids of the
    networks whose answers are not for publication; gives Table objects."""
    if quotes is None:
        quotes = select(codes=codes, networks=networks, codebook=codebook, decisions=Decisions())[0]
    # Before the answers not for publication are withheld: a review belongs to the answer as it was given.
    review_now = reviews_by_item(networks, codebook, reviews if reviews is not None else empty_reviews()) \
        if previous is not None else None
    networks, codes = withhold_answers(networks=networks, codes=codes, instrument=instrument, unpublished=unpublished)
    n = len(networks)
    status, start, initiator, matrix = (instrument.the(r) for r in ("status", "start", "initiator", "involvement"))
    tables = [
        Table("overzicht", "Werkplaats, initiatiefnemer, opstart en huidige status per leernetwerk", overview(networks),
              {"werkplaats": "Werkplaats", "name": "Leernetwerk", "initiator": "Initiatiefnemer",
               "start_shown": "Opstart", "status_shown": "Huidige status", "source_shown": "Bron"},
              long_text=("initiator",), wrapped=("name", "status_shown")),
        Table(status.report.table, status.report.title, by_status(networks),
              {"label": "Status", "networks": "Netwerken", "percent": "Percentage"}, f"n = {n} netwerken",
              item=status.id),
        Table(start.report.table, start.report.title, by_start_year(networks),
              {"label": "Startjaar", "networks": "Netwerken", "percent": "Percentage"}, f"n = {n} netwerken",
              item=start.id),
        Table(initiator.report.table, initiator.report.title, by_initiator_type(networks, taxonomies),
              {"label": "Type initiatiefnemer", "networks": "Netwerken", "percent": "Percentage"},
              "Een netwerk kan meer typen initiatiefnemers hebben; percentages tellen daarom op tot meer dan 100.",
              item=initiator.id),
        Table(matrix.report.table, matrix.report.title, involvement_by_group(involvement, taxonomies, matrix),
              {"label": "Deelnemersgroep", "networks": "Netwerken", "categories": "Categorieën",
               **_scale_headers(matrix), "not_given": NOT_GIVEN, "percent_high": "Percentage hoog of zeer hoog"},
              "Aantallen deelnemerscategorieën per niveau van betrokkenheid; het percentage hoog of zeer hoog is "
              "berekend over de categorieën waarvoor een niveau is ingevuld.", item=matrix.id),
    ]
    yes_no = instrument.with_role("yes_no")
    tables.append(Table("ja_nee_vragen", "Antwoorden op de ja/nee-vragen", yes_no_summary(networks, yes_no),
                        {"question": "Vraag", "topic": "Onderwerp", "yes": "Ja", "no": "Nee", "not_given": NOT_GIVEN,
                         "percent_yes": "Percentage ja"},
                        "Percentage ja over de netwerken die de vraag beantwoordden."))
    for item in yes_no:
        tables.append(Table(item.report.table, _title(item), yes_no_detail(networks, item.id),
                            {"werkplaats": "Werkplaats", "name": "Leernetwerk", "answer_shown": "Antwoord",
                             "explanation": "Toelichting"}, item=item.id, long_text=("explanation",),
                            wrapped=("name",)))
    quote_headers = {f"quote_{i + 1}": f"Citaat {i + 1}" for i in range(QUOTES)}
    coded = instrument.with_role("coded")
    # The report's order of the coded items: that of the codebook's categories.
    for item_id in codebook.items:
        item = instrument.item(item_id)
        answered = _answered(networks, item.id)
        tables.append(Table(item.report.table, _title(item), themes(codes, networks, codebook, item.id, quotes.get(item.id, {})),
                            {"category_label": "Categorie", "theme_label": "Thema", "theme": "Code",
                             "networks": "Netwerken", "percent": "Percentage", **quote_headers},
                            f"Percentage van de {answered} netwerken die {question(item)} beantwoordden.", base=answered,
                            item=item.id, long_text=tuple(quote_headers)))
    for item in coded:
        per_network = item.report.per_network
        if per_network:
            tables.append(Table(per_network["table"], per_network["title"],
                                themes_by_network(codes, networks, codebook, item.id),
                                {"werkplaats": "Werkplaats", "name": "Leernetwerk", "themes": per_network["heading"],
                                 "answer": f"{item.report.appendix or 'Antwoord'} ({question(item)})"},
                                item=item.id, long_text=("answer",), wrapped=("name",)))
    for item in instrument.with_role("text"):
        if item.report.table:   # a text item whose answers the report shows as a table
            answered = networks[networks[item.id].fillna("").str.strip() != ""]
            tables.append(Table(item.report.table, item.report.title,
                                answered[["network_id", "werkplaats", "name", item.id]]
                                .rename(columns={item.id: "answer"}).reset_index(drop=True),
                                {"werkplaats": "Werkplaats", "name": "Leernetwerk",
                                 "answer": item.report.appendix or "Antwoord"},
                                item=item.id, long_text=("answer",), wrapped=("name",)))
    if previous is not None:
        tables += comparison_tables(networks=networks, involvement=involvement, codes=codes, previous=previous,
                                    codebook=codebook, taxonomies=taxonomies, minimum=minimum, review_now=review_now,
                                    instrument=instrument)[0]
    tables += contract_tables(networks=networks, involvement=involvement, codes=codes, instrument=instrument,
                              taxonomies=taxonomies, labels=_contract_labels(codebook, taxonomies, matrix))
    return tables


# The contract tables' columns as tables.xlsx shows them; their CSVs keep the contract's English names.
CONTRACT_SHEET_HEADERS = {
    "network_id": "Netwerk (id)", "werkplaats": "Werkplaats", "name": "Leernetwerk", "initiator": "Initiatiefnemer",
    "initiator_types": "Typen initiatiefnemer", "start_year": "Startjaar", "start_text": "Opstart (zoals ingevuld)",
    "status": "Status", "stop_reason": "Reden van stoppen", "source": "Bron", "category_label": "Categorie (zoals ingevuld)",
    "participant_group": "Deelnemersgroep", "level": "Betrokkenheid", "item": "Vraag", "theme": "Thema",
    "origin": "Toegekend door", "evidence": "Zin waarop de code berust"}


def _contract_labels(codebook: Codebook, taxonomies: Taxonomies, matrix: Item) -> dict[str, dict]:
    """The Dutch words for the codes in the contract tables, per column."""
    return {"initiator_types": {c.code: c.label for c in taxonomies.initiator_types},
            "participant_group": {c.code: c.label for c in taxonomies.participant_groups},
            "level": {c.value: c.label for c in matrix.scale},
            "theme": {t.code: t.label for t in codebook.themes},
            "source": {"survey": "vragenlijst", "supplement": "aanvulling"}}


def _dutch_sheet(frame: pd.DataFrame, labels: dict[str, dict]) -> pd.DataFrame:
    sheet = frame.copy()
    for column, words in labels.items():
        if column not in sheet:
            continue
        if column == "initiator_types":
            sheet[column] = sheet[column].map(lambda v: "; ".join(words.get(c, c) for c in str(v or "").split(";") if c))
        else:
            sheet[column] = sheet[column].map(lambda v: words.get(v, v) if not pd.isna(v) else v)
    if "origin" in sheet:
        sheet["origin"] = sheet["origin"].map(lambda v: "onderzoeker" if v == "manual" else f"zoekregel {v}")
    return sheet.rename(columns=CONTRACT_SHEET_HEADERS)


def contract_tables(*, networks, involvement, codes, instrument: Instrument, taxonomies: Taxonomies,
                    labels: dict[str, dict] | None = None) -> list[Table]:
    """The tables of the output contract, with its column names, and the codebook of their SPSS files;
    the contract tables' sheets in tables.xlsx have Dutch headers and the Dutch words for the codes
    (`labels`, column -> code -> word)."""
    def same(columns):
        return {c: c for c in columns}
    out = networks[["network_id", "werkplaats", "name", "initiator", "initiator_types", "start_year", "start_text",
                    "status", "stop_reason", "source"]].reset_index(drop=True)
    people = involvement[["network_id", "category_label", "participant_group", "level"]].reset_index(drop=True)
    coded = codes[["network_id", "item", "theme", "origin", "evidence"]].reset_index(drop=True)
    labels = labels or {}
    return [
        Table("networks", "Netwerken (gegevens)", out, same(out.columns), long_text=("stop_reason",),
              wrapped=("name", "initiator", "initiator_types"), sheet=_dutch_sheet(out, labels)),
        Table("involvement", "Deelnemerscategorieën (gegevens)", people, same(people.columns),
              sheet=_dutch_sheet(people, labels)),
        Table("codes", "Codes van de open antwoorden (gegevens)", coded, same(coded.columns), long_text=("evidence",),
              sheet=_dutch_sheet(coded, labels)),
        Table(spss.CODEBOOK, "Variabelen van networks.sav en involvement.sav (SPSS, R)",
              spss.codebook(networks=out, involvement=people, instrument=instrument, taxonomies=taxonomies),
              spss.CODEBOOK_HEADERS, "Waarden: de codes van de categorieën met hun label, zoals in de .sav-bestanden.",
              long_text=("values",)),
    ]


# Sheet names of tables.xlsx where the table's name (its CSV's, a contract) is English or holds an item code.
SHEET_NAMES = {"networks": "Netwerken", "involvement": "Deelnemerscategorieën", "codes": "Codes",
               spss.CODEBOOK: "SPSS-codeboek", "ja_nee_vragen": "Ja-nee-vragen"}
CONTENTS_SHEET = "Inhoud"


def sheet_name(table: Table, instrument: Instrument | None = None) -> str:
    """A table's sheet in tables.xlsx: a Dutch name without item codes, at most 31 characters (Excel's
    limit): "Thema's vraag 17" for themas_q17, "Centrale vragen" for centrale_vragen."""
    if table.name in SHEET_NAMES:
        return SHEET_NAMES[table.name]
    if table.name.startswith("themas_") and table.item:
        number = table.item.lstrip("q") if instrument is None else str(instrument.item(table.item).number)
        return f"Thema's vraag {number}"
    words = table.name.replace("_", " ")
    return (words[:1].upper() + words[1:])[:31]


def _for_sheet(frame: pd.DataFrame, percent_headers: list[str]) -> pd.DataFrame:
    """The percentages (0-100) as fractions, so that the sheet's percentage format shows them as they are;
    rounded, so that 43.8 is 0.438 in the cell and not 0.43799999999999994."""
    if not percent_headers:
        return frame
    frame = frame.copy()
    for header in percent_headers:
        frame[header] = (pd.to_numeric(frame[header], errors="coerce") / 100).round(6)
    return frame


def table_csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    csv_safe(frame).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def write_tables(tables: list[Table], out_dir: str | Path, *, timestamp: datetime,
                 instrument: Instrument | None = None) -> list[Path]:
    """For people: tables/<name>.csv for each table and tables.xlsx with one sheet each (named by
    sheet_name, percentages in a percentage format), under Dutch headers; for charts and render:
    typed/<name>.parquet and tables.json (titles, notes, headers). Returns the paths."""
    out = Path(out_dir)
    written = []
    wb = StreamedWorkbook()
    sheets = [sheet_name(t, instrument) for t in tables]
    contents = pd.DataFrame({"Blad": sheets, "Tabel": [t.title for t in tables],
                             "Toelichting": [t.note for t in tables]})
    wb.add(CONTENTS_SHEET, contents, wrap=("Toelichting",), widths={"Toelichting": 60, "Tabel": 50}, links="Blad")
    for table, sheet in zip(tables, sheets):
        shown = table.for_people()
        path = out / "tables" / f"{table.name}.csv"
        write_atomic(path, table_csv(shown))
        written.append(path)
        sheet_headers = CONTRACT_SHEET_HEADERS if table.sheet is not None else table.headers
        long_text = [sheet_headers[c] for c in table.long_text]
        percent_headers = [table.headers[c] for c in table.percent]
        wb.add(sheet, _for_sheet(shown, percent_headers) if table.sheet is None else table.sheet,
               wrap=tuple(sheet_headers[c] for c in table.headers if c in table.long_text or c in table.wrapped),
               widths={c: 50 for c in long_text}, number_formats={h: "0.0%" for h in percent_headers},
               repeat_columns=2 if {"werkplaats", "name"} <= set(table.headers)
               or {"category_label", "theme_label"} <= set(table.headers) else 1)
        typed = out / TYPED_FOLDER / f"{table.name}.parquet"
        typed.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        table.frame.reset_index(drop=True).to_parquet(buffer, index=False)
        write_atomic(typed, buffer.getvalue())
    xlsx = out / "tables.xlsx"
    write_atomic(xlsx, wb.bytes(timestamp=timestamp))
    index = out / "tables.json"
    write_atomic(index, (json.dumps([t.describe() for t in tables], indent=2, ensure_ascii=False) + "\n")
                 .encode("utf-8"))
    return written + [xlsx, index]


def read_tables(processed: Path) -> list[Table]:
    """The typed tables aggregate wrote to `processed` (tables.json and typed/<name>.parquet)."""
    index = processed / "tables.json"
    if not index.exists():
        raise PipelineError(f"{index}: not found; run the aggregate stage first (make report).")
    tables = []
    for entry in json.loads(index.read_text(encoding="utf-8")):
        path = processed / TYPED_FOLDER / f"{entry['name']}.parquet"
        if not path.exists():
            raise PipelineError(f"{path}: not found; run the aggregate stage again (make report).")
        tables.append(Table(entry["name"], entry["title"], pd.read_parquet(path), entry["headers"], entry["note"],
                            entry["base"], entry["item"], percent=tuple(entry["percent"])))
    return tables


def data_time(processed: Path) -> datetime:
    """The time the outputs carry inside (workbook properties): the last response, so reruns give equal bytes."""
    path = processed / "ingest.json"
    last = json.loads(path.read_text(encoding="utf-8")).get("last_response") if path.exists() else None
    moment = datetime.fromisoformat(last) if last else datetime(2000, 1, 1, tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def previous_tables(wave) -> Previous | None:
    """The previous wave's tables (from its processed folder), or None when the wave names none."""
    before = wave.previous_wave() if wave is not None else None
    if before is None:
        return None
    for name in ("networks.parquet", "involvement.parquet", "codes.parquet"):
        if not (before.processed / name).exists():
            raise PipelineError(f"wave {wave.name} is compared with wave {before.name}, whose tables are not built "
                                f"yet ({before.processed / name}); build it first: make report WAVE={before.name}.")
    return Previous(name=before.name,
                    networks=read_parquet(before.processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q"),
                    involvement=read_parquet(before.processed / "involvement.parquet", schema=INVOLVEMENT),
                    codes=read_parquet(before.processed / "codes.parquet", schema=CODES),
                    links=load_links(wave.links), reviews=load_reviews(before.reviews), this_wave=wave.name)


def run(ctx: Context) -> None:
    """The stage: every table from the frames of normalise and code (or the processed folder's), written
    to the processed folder; gives the frame `tables`."""
    processed = ctx.processed
    networks = ctx.frame("networks", lambda: read_parquet(processed / "networks.parquet", schema=NETWORKS,
                                                          extra_text_prefix="q"))
    involvement = ctx.frame("involvement", lambda: read_parquet(processed / "involvement.parquet", schema=INVOLVEMENT))
    codes = ctx.frame("codes", lambda: read_parquet(processed / "codes.parquet", schema=CODES))
    previous = previous_tables(ctx.wave)
    reviews = load_reviews(ctx.wave.reviews if ctx.wave else None)
    tables, written, notes = tables_of(ctx.config, networks=networks, involvement=involvement, codes=codes,
                                       processed=processed, timestamp=data_time(processed), previous=previous,
                                       quotes=ctx.quotes, reviews=reviews)
    accuracy = processed / ACCURACY_SUMMARY
    summary = accuracy_summary(networks=networks, codebook=ctx.config.codebook, codes=codes,
                               sample=load_sample(ctx.wave.sample if ctx.wave else None), reviews=reviews)
    write_atomic(accuracy, (json.dumps(summary, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    written.append(accuracy)
    ctx.tell(f"aggregate  {len(tables)} tables" + (f", compared with wave {previous.name}" if previous else ""))
    ctx.warn(notes)
    ctx.wrote(written)
    ctx.give(tables=tables)


def tables_of(config: Config, *, networks: pd.DataFrame, involvement: pd.DataFrame, codes: pd.DataFrame,
              processed: Path, timestamp: datetime, previous: Previous | None = None,
              quotes: Path | None = None, reviews: pd.DataFrame | None = None) -> tuple[list[Table], list[Path], list[str]]:
    """Every table from the given frames, written to `processed`, with the quotes chosen under
    the decisions of the `quotes` file (a wave's quotes.csv; none: not reviewed) and processed/quotes.json
    (what render says about them); with a previous wave, also processed/network_links_suggested.csv (the
    matches to check). Gives the tables, the paths, warnings."""
    minimum = config.settings.min_networks_compared
    decisions = load_decisions(quotes, codebook=config.codebook, networks=networks, codes=codes)
    chosen, review = select(codes=codes, networks=networks, codebook=config.codebook, decisions=decisions)
    tables = aggregate(networks=networks, involvement=involvement, codes=codes, codebook=config.codebook,
                       taxonomies=config.taxonomies, instrument=config.instrument, previous=previous,
                       minimum=minimum, quotes=chosen, unpublished=frozenset(review.unpublished), reviews=reviews)
    written = write_tables(tables, processed, timestamp=timestamp, instrument=config.instrument)
    warnings = list(review.warnings)
    summary = processed / QUOTES_SUMMARY
    write_atomic(summary, (json.dumps(review.summary(), indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    written.append(summary)
    contract = {t.name: t.frame for t in tables}
    written += spss.write_sav_files(networks=contract["networks"], involvement=contract["involvement"],
                               instrument=config.instrument, taxonomies=config.taxonomies,
                               folder=processed / "tables", timestamp=timestamp)
    suggested = processed / "network_links_suggested.csv"
    if previous is not None:
        _, compared = comparison_tables(networks=networks, involvement=involvement, codes=codes, previous=previous,
                                        codebook=config.codebook, taxonomies=config.taxonomies, minimum=minimum,
                                        instrument=config.instrument)
        write_atomic(suggested, table_csv(compared.suggestions))
        written.append(suggested)
        warnings += compared.warnings
    else:
        suggested.unlink(missing_ok=True)
    return tables, written, warnings

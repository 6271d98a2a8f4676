"""Aggregate: every table of the report from the networks, involvement and codes tables.

Each table has Dutch headers and a title; tables/<name>.csv and one sheet of tables.xlsx each. The three
contract tables (networks, involvement, codes) keep the column names of the output contract.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from pipeline.coding import Codebook
from pipeline.config import Instrument, Taxonomies
from pipeline.schemas import write_atomic
from pipeline.workbook import StreamedWorkbook, csv_safe

LEVELS = {1: "Zeer laag", 2: "Laag", 3: "Gemiddeld", 4: "Hoog", 5: "Zeer hoog"}
NOT_GIVEN = "Niet ingevuld"
STATUS_LABELS = {"loopt": "Loopt", "gestopt": "Gestopt", "onbekend": "Onbekend"}
# The yes/no items and the tables they give: (table name, Dutch title)
YES_NO_TABLES = {
    "q13": ("competenties", "Gevraagde competenties van deelnemers (q13)"),
    "q14": ("procesbegeleiding", "Personen aangetrokken voor procesbegeleiding (q14)"),
    "q15": ("inhoudelijke_begeleiding", "Personen aangetrokken voor inhoudelijke begeleiding (q15)"),
    "q16": ("samenwerking", "Samenwerking tussen praktijken, disciplines, professionals en burgers (q16)"),
    "q18": ("ervaringen", "Geïnventariseerde ervaringen van deelnemers (q18)"),
    "q20": ("hulpmiddelen", "Gebruikte hulpmiddelen (q20)"),
    "q21": ("kosten", "Kosten voor deelnemers en wie ze betaalt (q21)"),
    "q22": ("evaluaties", "Uitgevoerde evaluaties (q22)"),
    "q24": ("vervolgonderzoek", "Bereidheid tot medewerking aan vervolgonderzoek (q24)"),
}
QUOTES = 3
QUOTE_LENGTH = 160


@dataclass
class Table:
    name: str
    title: str
    frame: pd.DataFrame
    note: str = ""
    base: int | None = None   # the number of networks percentages are taken of


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def overview(networks: pd.DataFrame) -> pd.DataFrame:
    """Section 3.2: one row per network. Takes werkplaats, name, initiator, start_text, status, stop_reason."""
    status = [STATUS_LABELS[s] + (f": {r}" if r else "") for s, r in zip(networks["status"], networks["stop_reason"])]
    return pd.DataFrame({"Werkplaats": networks["werkplaats"], "Leernetwerk": networks["name"],
                         "Initiatiefnemer": networks["initiator"],
                         "Opstart": networks["start_text"].replace("", "-"), "Huidige status": status,
                         "Bron": networks["source"].map({"survey": "vragenlijst", "supplement": "aanvulling"})})


def by_status(networks: pd.DataFrame) -> pd.DataFrame:
    counts = networks["status"].value_counts()
    rows = [(STATUS_LABELS[s], int(counts.get(s, 0))) for s in STATUS_LABELS]
    return pd.DataFrame({"Status": [r[0] for r in rows], "Netwerken": [r[1] for r in rows],
                         "Percentage": [_percent(r[1], len(networks)) for r in rows]})


def by_start_year(networks: pd.DataFrame) -> pd.DataFrame:
    years = networks["start_year"].dropna().astype(int)
    counts = years.value_counts()
    # Years between the first and the last without a network still get a row, so the time axis has no gaps.
    span = range(int(years.min()), int(years.max()) + 1) if len(years) else range(0)
    frame = pd.DataFrame({"Startjaar": [str(y) for y in span], "Netwerken": [int(counts.get(y, 0)) for y in span]})
    unknown = int(networks["start_year"].isna().sum())
    frame.loc[len(frame)] = ["Onbekend", unknown]
    frame["Percentage"] = [_percent(n, len(networks)) for n in frame["Netwerken"]]
    return frame


def by_initiator_type(networks: pd.DataFrame, taxonomies: Taxonomies) -> pd.DataFrame:
    """Networks per initiator type; a network with several types counts for each."""
    types = networks["initiator_types"].str.split(";").explode()
    counts = types[types.ne("")].value_counts()
    unknown = int(networks["initiator_types"].eq("").sum())
    rows = [(c.label, int(counts.get(c.code, 0))) for c in taxonomies.initiator_types] + [("Onbekend", unknown)]
    return pd.DataFrame({"Type initiatiefnemer": [r[0] for r in rows], "Netwerken": [r[1] for r in rows],
                         "Percentage": [_percent(r[1], len(networks)) for r in rows]})


def involvement_by_group(involvement: pd.DataFrame, taxonomies: Taxonomies) -> pd.DataFrame:
    """Per participant group: networks naming it, categories, the level distribution, share (zeer) hoog."""
    records = []
    for group in taxonomies.participant_groups:
        rows = involvement[involvement["participant_group"] == group.code]
        levels = rows["level"].dropna().astype(int)
        record = {"Deelnemersgroep": group.label, "Netwerken": int(rows["network_id"].nunique()),
                  "Categorieën": len(rows)}
        for value, label in LEVELS.items():
            record[label] = int((levels == value).sum())
        record[NOT_GIVEN] = int(rows["level"].isna().sum())
        record["Percentage hoog of zeer hoog"] = _percent(int((levels >= 4).sum()), len(levels))
        records.append(record)
    return pd.DataFrame(records)


def yes_no_summary(networks: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    records = []
    for item, (_, title) in YES_NO_TABLES.items():
        answers = networks[item] if item in networks else pd.Series([""] * len(networks))
        ja, nee = int(answers.eq("ja").sum()), int(answers.eq("nee").sum())
        records.append({"Vraag": item, "Onderwerp": title.rsplit(" (", 1)[0], "Ja": ja, "Nee": nee,
                        NOT_GIVEN: len(networks) - ja - nee, "Percentage ja": _percent(ja, ja + nee)})
    return pd.DataFrame(records)


def yes_no_detail(networks: pd.DataFrame, item: str) -> pd.DataFrame:
    """One row per network with its answer to a yes/no item and the text given with it."""
    text = networks.get(f"{item}_text", pd.Series([""] * len(networks), index=networks.index))
    return pd.DataFrame({"Werkplaats": networks["werkplaats"], "Leernetwerk": networks["name"],
                         "Antwoord": networks[item].replace({"ja": "Ja", "nee": "Nee", "": NOT_GIVEN}),
                         "Toelichting": text.fillna("")})


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_LENGTH else text[:QUOTE_LENGTH - 1].rsplit(" ", 1)[0] + " …"


def _quotes(evidence: pd.Series) -> list[str]:
    """The QUOTES shortest distinct evidence sentences, whitespace collapsed and cut at QUOTE_LENGTH."""
    quotes = pd.Series(evidence.unique(), dtype=str).str.split().str.join(" ")
    long = (quotes.str.len() > QUOTE_LENGTH).to_numpy(dtype=bool)
    quotes[long] = [_short(q) for q in quotes[long]]
    ranked = pd.DataFrame({"quote": quotes, "length": quotes.str.len()}).drop_duplicates("quote")
    return ranked.sort_values(["length", "quote"])["quote"].head(QUOTES).tolist()


def themes(codes: pd.DataFrame, networks: pd.DataFrame, codebook: Codebook, item: str) -> pd.DataFrame:
    """Per theme of `item`: networks naming it, percentage of networks that answered, up to three quotes
    (the shortest distinct evidence sentences of rule codes)."""
    answered = int(networks[item].fillna("").ne("").sum()) if item in networks else 0
    item_codes = codes[codes["item"] == item]
    records = []
    for theme in codebook.themes_for(item):
        rows = item_codes[item_codes["theme"] == theme.code]
        quotes = _quotes(rows.loc[rows["origin"] != "manual", "evidence"])
        record = {"Categorie": codebook.categories[theme.category]["label"], "Thema": theme.label,
                  "Code": theme.code, "Netwerken": int(rows["network_id"].nunique()),
                  "Percentage": _percent(int(rows["network_id"].nunique()), answered)}
        for i in range(QUOTES):
            record[f"Citaat {i + 1}"] = quotes[i] if i < len(quotes) else ""
        records.append(record)
    return pd.DataFrame(records)


def methods_by_network(codes: pd.DataFrame, networks: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """q19 per network: the working methods coded (in codebook order) and the answer itself."""
    order = {t.code: i for i, t in enumerate(codebook.themes_for("q19"))}
    labels = {t.code: t.label for t in codebook.themes_for("q19")}
    q19 = codes[codes["item"] == "q19"]
    q19 = q19.assign(order=q19["theme"].map(order), label=q19["theme"].map(labels)).dropna(subset=["order"])
    named = q19.sort_values(["network_id", "order"]).groupby("network_id")["label"].agg("; ".join)
    return pd.DataFrame({"Werkplaats": networks["werkplaats"], "Leernetwerk": networks["name"],
                         "Werkvormen": networks["network_id"].map(named).astype(object).fillna("").astype(str),
                         "Werkwijze (q19)": networks.get("q19", pd.Series([""] * len(networks))).fillna("")})


def aggregate(*, networks: pd.DataFrame, involvement: pd.DataFrame, codes: pd.DataFrame, codebook: Codebook,
              taxonomies: Taxonomies, instrument: Instrument) -> list[Table]:
    """Every table of the report, in report order.

    Takes the networks, involvement and codes tables of data/processed; gives Table(name, title, frame)."""
    n = len(networks)
    tables = [
        Table("overzicht", "Overzicht van de leernetwerken (paragraaf 3.2)", overview(networks)),
        Table("status", "Leernetwerken naar huidige status", by_status(networks), f"n = {n} netwerken"),
        Table("startjaren", "Leernetwerken naar startjaar", by_start_year(networks), f"n = {n} netwerken"),
        Table("initiatiefnemers", "Leernetwerken naar type initiatiefnemer", by_initiator_type(networks, taxonomies),
              "Een netwerk kan meer typen initiatiefnemers hebben; percentages tellen daarom op tot meer dan 100."),
        Table("betrokkenheid", "Deelnemersgroepen en hun betrokkenheid (q12)", involvement_by_group(involvement, taxonomies),
              "Aantallen deelnemerscategorieën per niveau van betrokkenheid; het percentage hoog of zeer hoog is "
              "berekend over de categorieën waarvoor een niveau is ingevuld."),
        Table("ja_nee_vragen", "Antwoorden op de ja/nee-vragen", yes_no_summary(networks, instrument),
              "Percentage ja over de netwerken die de vraag beantwoordden."),
    ]
    for item, (name, title) in YES_NO_TABLES.items():
        tables.append(Table(name, title, yes_no_detail(networks, item)))
    titles = {"q23": "Werkzame elementen en randvoorwaarden (q23)", "q17": "Kansen en uitdagingen (q17)",
              "q19": "Werkvormen en methodieken (q19)"}
    for item in codebook.items:
        answered = int(networks[item].fillna("").ne("").sum()) if item in networks else 0
        tables.append(Table(f"themas_{item}", titles.get(item, f"Thema's van {item}"),
                            themes(codes, networks, codebook, item),
                            f"Percentage van de {answered} netwerken die {item} beantwoordden.", base=answered))
    tables.append(Table("werkvormen", "Werkvormen per leernetwerk (q19)", methods_by_network(codes, networks, codebook)))
    tables += contract_tables(networks=networks, involvement=involvement, codes=codes)
    return tables


def contract_tables(*, networks, involvement, codes) -> list[Table]:
    """The tables of the output contract, with its column names."""
    out = networks[["network_id", "werkplaats", "name", "initiator", "initiator_types", "start_year", "start_text",
                    "status", "stop_reason", "source"]]
    return [
        Table("networks", "Netwerken (gegevens)", out.reset_index(drop=True)),
        Table("involvement", "Deelnemerscategorieën (gegevens)",
              involvement[["network_id", "category_label", "participant_group", "level"]].reset_index(drop=True)),
        Table("codes", "Codes van de open antwoorden (gegevens)",
              codes[["network_id", "item", "theme", "origin", "evidence"]].reset_index(drop=True)),
    ]


def table_csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    csv_safe(frame).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def write_tables(tables: list[Table], out_dir: str | Path, *, timestamp: datetime) -> list[Path]:
    """tables/<name>.csv for each table, tables.xlsx with one sheet each, and tables.json with their titles
    and notes (for the report); returns the paths."""
    out = Path(out_dir)
    written = []
    wb = StreamedWorkbook()
    contents = pd.DataFrame({"Blad": [t.name for t in tables], "Tabel": [t.title for t in tables],
                             "Toelichting": [t.note for t in tables]})
    wb.add("inhoud", contents, wrap=("Toelichting",), widths={"Toelichting": 70, "Tabel": 60})
    for table in tables:
        path = out / "tables" / f"{table.name}.csv"
        write_atomic(path, table_csv(table.frame))
        written.append(path)
        wrap = tuple(c for c in table.frame.columns if c in ("Toelichting", "Werkwijze (q19)", "evidence", "Initiatiefnemer",
                                                          "Leernetwerk", "Huidige status")
                     or c.startswith("Citaat"))
        wb.add(table.name, table.frame, wrap=wrap,
                     widths={c: 50 for c in wrap if c not in ("Leernetwerk", "Huidige status")},
                     number_formats={c: "0.0" for c in table.frame.columns if c.startswith("Percentage")})
    xlsx = out / "tables.xlsx"
    write_atomic(xlsx, wb.bytes(timestamp=timestamp))
    index = out / "tables.json"
    write_atomic(index, (json.dumps([{"name": t.name, "title": t.title, "note": t.note, "base": t.base}
                                     for t in tables], indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return written + [xlsx, index]

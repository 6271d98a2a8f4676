"""The template context: everything report.html shows, read from the processed folder (the typed tables,
charts.json, the stage summaries) and the config, computing nothing the earlier stages did not; and
whether the report is a draft (ReportStatus). templates/CONTEXT.md describes every key."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from datetime import date, timezone
from pathlib import Path

import pandas as pd

from pipeline import __version__
from pipeline.analysis.aggregate import Table, read_tables
from pipeline.core.config import Config, Instrument
from pipeline.core.errors import PipelineError
from pipeline.analysis.coding_accuracy import ACCURACY_SUMMARY
from pipeline.coding.quotes import QUOTES_SUMMARY
from pipeline.core.schemas import INVOLVEMENT, NETWORKS, read_parquet
from pipeline.core.style import Style, load_style, style_path
from pipeline.waves.compare import UNSURE_MATCH, WITHIN_UNCERTAINTY
from pipeline.waves.publication import Author, Publication
from pipeline.waves.wave import inherited_from
from pipeline.language.citation import suggested_citation
from pipeline.coding.sheet import reviewed_share
from pipeline.core.wave_files import load_reviews
from pipeline.core.files import DEFAULT_TEXTS
from pipeline.publishing.inherited import paragraphs_to_check, subject_vocabulary
from pipeline.publishing.texts import inline_markup, text_files, read_questionnaire_texts


DEFAULT_TITLE = "Rapport leernetwerken Werkplaatsen Sociaal Domein"
DEFAULT_SUBTITLE = "Inventarisatie van de leernetwerken van de Werkplaatsen Sociaal Domein"
DEFAULT_AUTHOR = "Werkgroep Lerende Praktijken van de Werkplaatsen Sociaal Domein"
DEFAULT_KEYWORDS = ("leernetwerken", "lerende praktijken", "Werkplaatsen Sociaal Domein")
MAX_ANSWER = 4000   # characters of one answer shown in the report; longer ones are cut with a note
DROP_LABELS = {"preview": "voorbeeldweergave (preview)", "test": "testantwoord", "spam": "als spam gemarkeerd",
               "unfinished": "niet afgemaakt", "duplicate": "eerdere inzending van hetzelfde netwerk"}


class TableNumbers:
    """The numbers of the report's tables, given in the order the template first names a table (in a
    reference or its caption), so that "Tabel 5" in the text and the caption of that table agree."""

    def __init__(self):
        self.numbers: dict[str, int] = {}

    def __call__(self, key: str) -> int:
        return self.numbers.setdefault(key, len(self.numbers) + 1)


class FigureNumbers:
    """The numbers of the figures the report shows, in the order the template first names a figure; a
    figure the report leaves to figures/ gets none, so the numbers have no gaps. The number is also written
    into the figure's entry of `figures`, where the figure macro and the Word edition read it."""

    def __init__(self, figures: dict[str, dict]):
        self.figures = figures
        self.numbers: dict[str, int] = {}

    def __call__(self, name: str) -> int:
        number = self.numbers.setdefault(name, len(self.numbers) + 1)
        self.figures[name]["number"] = number
        return number


@dataclass
class ReportStatus:
    """Whether the report is a draft, and why: texts carried over from another wave unchanged, codes
    no person has reviewed. `final` is the wave's own say (final: true in wave.yaml)."""

    draft: bool
    final: bool
    inherited: list[dict]
    reviewed: int
    coded: int
    warnings: list[str]


def report_status(config: Config, *, processed: Path, wave=None, texts: Path | None = None) -> ReportStatus:
    """Takes the texts in use, the wave's reviews and the coded answers in `processed`."""
    folders = [f for f in (texts, DEFAULT_TEXTS) if f]
    inherited, to_check = [], []
    vocabulary = subject_vocabulary(config)
    for name, path in text_files(folders).items():
        source = inherited_from(path.read_text(encoding="utf-8"))
        if source:
            inherited.append({"text": name, "from": source})
            to_check += paragraphs_to_check(path, name, config, waves_dir=wave.folder.parent if wave else None,
                                            vocabulary=vocabulary)
    items = list(config.codebook.items)
    networks = read_parquet(processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q",
                            columns=["network_id", "response_key", *items])
    reviewed, coded = reviewed_share(networks=networks, codebook=config.codebook,
                                     reviews=load_reviews(wave.reviews if wave else None))
    final = bool(wave and wave.final)
    if final:
        quotes = processed / QUOTES_SUMMARY
        quotes = json.loads(quotes.read_text(encoding="utf-8")) if quotes.exists() else {}
        wave.check_final(reviewed=reviewed, coded=coded, quotes_chosen=quotes.get("quotes_reviewed", 0),
                         quotes_shown=quotes.get("quotes_shown", 0))
    draft = not final and (bool(inherited) or reviewed < coded)
    warnings = []
    if not final:
        for entry in inherited:
            where = "the starting text" if entry["from"] == "sjabloon" else f"wave {entry['from']}"
            warnings.append(f"{entry['text']}.md is {where}, not yet rewritten for this wave (remove its first "
                            "line when it is).")
        if reviewed < coded:
            warnings.append(f"{coded - reviewed} of {coded} coded answers have not been reviewed by a person "
                            f"(python -m pipeline review --wave {wave.name if wave else 'NAME'}, or coding-sheet and "
                            "coding-import).")
        if draft:
            warnings.append("the report is marked as a draft (concept) until then; wave.yaml's final: true is "
                            "accepted once every coded answer is reviewed and every quote chosen.")
    if final and wave.publication.published is None:
        warnings.append(f"{wave.folder / 'wave.yaml'} has no published date, so the cover and the suggested citation "
                        "give none (z.d.); set published: YYYY-MM-DD, the day the report comes out.")
    # Even in a report its wave calls final, a paragraph another wave wrote about what its tables measured
    # may now say what this wave's tables contradict.
    warnings += to_check
    return ReportStatus(draft=draft, final=final, inherited=inherited, reviewed=reviewed, coded=coded,
                        warnings=warnings)


def _plain(value):
    """A typed cell as the template sees it: numbers as numbers, missing as None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _table_context(table: Table) -> dict:
    shown = list(table.headers)
    frame = table.frame
    records = [{k: _plain(v) for k, v in zip(frame.columns, row)} for row in frame.itertuples(index=False)]
    return {"name": table.name, "title": table.title, "note": table.note, "item": table.item, "base": table.base,
            "columns": [table.headers[c] for c in shown],
            "percent_columns": [table.headers[c] for c in table.percent],
            "rows": [[r[c] for c in shown] for r in records], "records": records,
            "wide_column": _wide_column(table, records),
            "csv": f"tables/{table.name}.csv"}


def _wide_column(table: Table, records: list[dict]) -> str | None:
    """The header of the column with the longest value, when that value is a long text (over 100
    characters): the layout gives that column room, so the short columns beside it do not squeeze it."""
    longest = {c: max((len(str(r[c])) for r in records if r[c] is not None), default=0) for c in table.headers}
    column = max(longest, key=longest.get, default=None)
    return table.headers[column] if column is not None and longest[column] > 100 else None


def _instrument_context(instrument: Instrument) -> list[dict]:
    items = []
    for item in instrument.items:
        wording = inline_markup(item.wording)
        items.append({"id": item.id, "number": item.number, "type": item.type, "role": item.role,
                      "wording_html": wording, "personal": item.personal,
                      "choices": [{"value": c.value, "label": c.label, "text_entry": c.text_entry} for c in item.choices],
                      "rows": [r.label for r in item.rows],
                      "scale": [{"value": c.value, "label": c.label, "short": c.short, "heading": c.heading}
                                for c in item.scale]})
    return items


def _appendix_sections(instrument: Instrument) -> list[dict]:
    """What Bijlage 2 shows of each network, in its declared order: text answers, the participants, the
    explanations of yes answers."""
    kinds = {"text": "text", "coded": "text", "involvement": "participants", "yes_no": "yes_no"}
    declared = [it for it in instrument.items if it.report.appendix and it.role in kinds]
    declared.sort(key=lambda it: (it.report.appendix_order if it.report.appendix_order is not None
                                  else 1000 + it.number))
    return [{"kind": kinds[it.role], "item": it.id, "heading": it.report.appendix} for it in declared]


def _figures(processed: Path) -> dict[str, dict]:
    path = processed / "charts.json"
    if not path.exists():
        raise PipelineError(f"{path}: not found; run the charts stage first (make report).")
    return {f["name"]: {"name": f["name"], "number": f["number"], "item": f["item"], "caption": f["caption"],
                        "description": f["description"], **f["files"]}
            for f in json.loads(path.read_text(encoding="utf-8"))}


def build_context(*, processed: Path, config: Config, texts: dict, run_date: date,
                  tables: list[Table] | None = None, wave=None, status: ReportStatus | None = None,
                  style: Style | None = None) -> dict:
    """Everything the templates show; see templates/CONTEXT.md for each key. Reads the typed tables
    (unless given), charts.json and the stage summaries of `processed`; computes nothing the earlier
    stages did not. `style` is the house style (config/style.yaml if none)."""
    style = style or load_style(style_path(wave_folder=None, config_folder=config.folder))
    instrument, codebook, taxonomies = config.instrument, config.codebook, config.taxonomies

    def summary(name):
        path = processed / name
        if not path.exists():
            raise PipelineError(f"{path}: not found; run the earlier stages first (make report).")
        return json.loads(path.read_text(encoding="utf-8"))

    ingest, normalise_summary, coding = summary("ingest.json"), summary("normalise.json"), summary("coding.json")
    quotes = summary(QUOTES_SUMMARY)
    unpublished = set(quotes["unpublished"])
    text_items = [it.id for it in instrument.with_role("text", "coded")]
    networks = read_parquet(processed / "networks.parquet", schema=NETWORKS, extra_text_prefix="q")
    involvement = read_parquet(processed / "involvement.parquet", schema=INVOLVEMENT)
    typed = {t.name: t for t in (tables if tables is not None else read_tables(processed))}
    table_context = {name: _table_context(t) for name, t in typed.items()}
    group_labels = {c.code: c.label.split(" (")[0] for c in taxonomies.participant_groups}
    scale = instrument.the("involvement").scale
    marks = {c.value: c.short or str(c.value) for c in scale}
    yes_no_items = instrument.with_role("yes_no")
    per_network = [(it, it.report.per_network) for it in instrument.with_role("coded") if it.report.per_network]
    facts = {it.id: dict(zip(typed[spec["table"]].frame["network_id"], typed[spec["table"]].frame["themes"]))
             for it, spec in per_network}

    long_answers = []

    def shown(network_id: str, item: str, text: str) -> str:
        if len(text) <= MAX_ANSWER:
            return text
        long_answers.append(f"{item} of {network_id} has {len(text):,} characters; the report shows the first "
                            f"{MAX_ANSWER:,} (the whole answer is in data/processed/networks.parquet).")
        return text[:MAX_ANSWER].rsplit(" ", 1)[0] + f" … [ingekort: {len(text):,} tekens]".replace(",", ".")

    status_shown = dict(zip(typed["overzicht"].frame["network_id"], typed["overzicht"].frame["status_shown"]))
    people_by_network = {key: group.sort_values("row") for key, group in involvement.groupby("network_id", sort=False)}
    no_people = involvement.iloc[:0]
    network_list = []
    for n in networks.to_dict(orient="records"):
        people = people_by_network.get(n["network_id"], no_people)
        published = n["network_id"] not in unpublished
        if not published:
            # Not for publication: no answer of it reaches the report, here or in a table that lists answers.
            n = {**n, "stop_reason": "", **{item: "" for item in text_items},
                 **{f"{it.id}_text": "" for it in yes_no_items}}
        network_list.append({
            "id": n["network_id"], "werkplaats": n["werkplaats"], "name": n["name"], "initiator": n["initiator"],
            "start_text": n["start_text"] or "-", "status": n["status"], "stop_reason": n["stop_reason"],
            "status_shown": status_shown.get(n["network_id"], n["status"]),
            "source": n["source"], "published": published,
            "text": {item: shown(n["network_id"], item, n.get(item, "") or "") for item in text_items},
            "participants": [{"label": p["category_label"],
                              "head_count": None if pd.isna(p["head_count"]) else int(p["head_count"]),
                              "group": group_labels.get(p["participant_group"], p["participant_group"]),
                              "level": None if pd.isna(p["level"]) else marks.get(int(p["level"]))}
                             for p in people.to_dict(orient="records")],
            "yes_no": {it.id: {"item": it.id, "question": it.report.title, "answer": n.get(it.id, ""),
                               "text": shown(n["network_id"], it.id, n.get(f"{it.id}_text", "") or "")}
                       for it in yes_no_items},
            "coded_facts": [{"item": it.id, "heading": spec["heading"], "value": facts[it.id].get(n["network_id"], "")}
                            for it, spec in per_network],
        })

    figures = _figures(processed)
    for _, spec in config.instrument.figures:
        if spec.name in figures:
            figures[spec.name]["in_report"] = spec.in_report
    dropped = [{"reason": r, "label": DROP_LABELS.get(r, r), "count": c} for r, c in ingest["dropped"].items() if c]
    coded_items = []
    accuracy = summary(ACCURACY_SUMMARY)
    for item_id in codebook.items:
        item = instrument.item(item_id)
        table = table_context[item.report.table]
        coded_items.append({
            "item": item.id, "title": item.report.title, "section": item.report.section, "table": item.report.table,
            "figure": item.report.figure.name if item.report.figure else None,
            "categories": [c["label"] for c in codebook.categories.values() if c["item"] == item.id],
            # Most named first within each category, as the item's figure orders its bars.
            "themes": sorted((t for t in table["records"] if t["networks"]),
                             key=lambda t: (-t["networks"], t["theme_label"])),
            "top": sorted((t for t in table["records"] if t["networks"]),
                          key=lambda t: (-t["networks"], t["theme_label"]))[:3],
            "intervals": {c["theme"]: {"low": c["low"], "high": c["high"]} for c in accuracy["counts"]
                          if c["item"] == item.id},
        })
    yes_no_sections = [{"item": it.id, "title": _item_title(it), "table": it.report.table,
                        "figure": it.report.figure.name if it.report.figure else None}
                       for it in sorted((it for it in yes_no_items if it.report.results_order is not None),
                                        key=lambda it: it.report.results_order)]
    summary_rows = table_context["ja_nee_vragen"]["records"]
    status = status or report_status(config, processed=processed, wave=wave)
    return {
        "comparison": _comparison(typed, table_context),
        "meta": {
            **_publication_meta(wave, draft=status.draft),
            "wave": wave.name if wave else None, "year": wave.year if wave else None,
            "draft": status.draft, "inherited_texts": status.inherited,
            "run_date": run_date, "pipeline_version": __version__, "codebook_version": coding["codebook_version"],
            "python_version": platform.python_version(),
            "export": ingest["export_file"], "supplement": ingest.get("supplement_file"),
        },
        "method": {
            "first_response": _date(ingest.get("first_response")), "last_response": _date(ingest.get("last_response")),
            "responses_in_file": ingest["responses"], "kept": ingest["kept"], "dropped": dropped,
            "dropped_total": sum(d["count"] for d in dropped),
            "networks": len(networks), "survey_networks": int((networks["source"] == "survey").sum()),
            "supplement_networks": int((networks["source"] == "supplement").sum()),
            "items_mapped": ingest["items_mapped"], "items_missing": ingest["items_missing"],
            "format": ingest["format"], "fetched": _fetched(wave),
            "notes": len(ingest["warnings"] + normalise_summary["warnings"] + coding["warnings"] + quotes["warnings"]
                         + long_answers),
            "groups_uncertain": normalise_summary.get("uncertain_labels", 0),
            "codes": coding["codes"], "manual_codes": coding["manual"],
            "corrections_applied": coding.get("applied", 0), "corrections_stale": coding.get("stale", 0),
            "codes_added": coding.get("added", 0), "codes_removed": coding.get("removed", 0),
            "reviewed_answers": status.reviewed, "coded_answers": status.coded,
            "accuracy": accuracy,
            "quotes_shown": quotes["quotes_shown"], "quotes_reviewed": quotes["quotes_reviewed"],
            "quotes_withheld": quotes.get("quotes_withheld", 0),
            "quotes_stale": quotes["stale"], "unpublished_networks": len(unpublished),
            "distinct_networks": bool(networks[["werkplaats", "name"]].apply(
                lambda c: c.str.casefold().str.split().str.join(" ")).drop_duplicates().shape[0] == len(networks)),
        },
        "texts": texts,
        "tables": table_context,
        "figures": figures,
        "themes": {c["item"]: c["themes"] for c in coded_items},
        "coded_items": coded_items,
        "coded_sections": {c["section"]: c for c in coded_items if c["section"]},
        "yes_no": {r["item"]: r for r in summary_rows},
        # By the table name instrument.yaml gives the item, so that a template survives a renumbered item.
        "yes_no_by_table": {it.report.table: r for it in yes_no_items if it.report.table
                            for r in summary_rows if r["item"] == it.id},
        "text_item_by_table": {it.report.table: {"item": it.id, "number": it.number}
                               for it in instrument.with_role("text", "coded") if it.report.table},
        "yes_no_sections": yes_no_sections,
        "categories": {code: c["label"] for code, c in codebook.categories.items()},
        "networks": network_list,
        "werkplaatsen": list(dict.fromkeys(n["werkplaats"] for n in network_list)),
        "participant_groups": [{"code": c.code, "label": c.label} for c in taxonomies.participant_groups],
        "level_marks": [{"mark": marks[c.value], "label": c.label, "column": f"level_{c.value}"} for c in scale],
        "appendix_sections": _appendix_sections(instrument),
        "instrument": _instrument_context(instrument),
        "questionnaire": read_questionnaire_texts(config.folder),
        "style": style.context(),
        "table_number": TableNumbers(),
        "figure_number": FigureNumbers(figures),
    }


LARGEST_CHANGES = 3


def _publication_meta(wave, *, draft: bool) -> dict:
    """The report as a publication (wave.yaml; defaults without a wave): title, authors and institutions,
    date, commissioning body, publisher, contact, licence, version, keywords and the suggested citation."""
    title = wave.title if wave else DEFAULT_TITLE
    subtitle = wave.subtitle if wave else DEFAULT_SUBTITLE
    authors = list(wave.authors) if wave and wave.authors else [Author(DEFAULT_AUTHOR)]
    listed = list(wave.institutions) if wave else []
    own = [a.institution for a in authors if a.institution]
    publication = wave.publication if wave else Publication()
    licence = publication.licence
    citation = suggested_citation(authors=[a.cite_as or a.name for a in authors],
                                  year=publication.published.year if publication.published else None,
                                  title=title, subtitle=subtitle, version=publication.version, draft=draft,
                                  place=publication.place, publisher=publication.publisher)
    return {
        "title": title, "subtitle": subtitle, "description": subtitle or title,
        "authors": [a.name for a in authors],
        "author_details": [{"name": a.name, "institution": a.institution} for a in authors],
        "institutions": list(dict.fromkeys(own + listed)),
        "more_institutions": [i for i in dict.fromkeys(listed) if i not in own],
        "published": publication.published,
        "commissioner": publication.commissioner, "publisher": publication.publisher, "place": publication.place,
        "contact": publication.contact, "version": publication.version,
        "licence": {"name": licence.name, "text": licence.text, "url": licence.url} if licence else None,
        "keywords": list(publication.keywords or DEFAULT_KEYWORDS),
        "citation": {"authors": citation.authors, "year": citation.year, "title": citation.title,
                     "after_title": citation.after_title, "text": citation.text},
    }


def _fetched(wave) -> dict | None:
    """When and from which survey the export in use was fetched from Qualtrics (None when given by hand)."""
    fetched = wave.fetched if wave else None
    if fetched is None:
        return None
    moment = fetched.exported_at.astimezone(timezone.utc)
    return {"survey": fetched.survey, "date": moment.date(), "time": moment.strftime("%H:%M"),
            "since": _date(fetched.since)}


def _comparison(typed: dict[str, Table], table_context: dict) -> dict | None:
    """How the comparison's themes may be read: whether both waves were coded alike, and the themes whose
    share changed most among those whose change the coding cannot explain (alike, and none, without a
    previous wave)."""
    if "vergelijking_codering" not in typed:
        return {"coded_alike": True, "previous_label": None, "current_label": None,
                "within_uncertainty": WITHIN_UNCERTAINTY, "largest_changes": [], "unchecked_links": 0}
    coding = typed["vergelijking_codering"].frame
    shifted = [r for r in table_context["vergelijking_themas"]["records"]
               if r["percent_before"] is not None and r["percent_now"] is not None and not r["coding"]
               and r["percent_now"] != r["percent_before"]]
    largest = sorted(shifted, key=lambda r: (-abs(r["percent_now"] - r["percent_before"]), r["theme_label"]))
    return {"coded_alike": bool(coding["alike"].all()), "previous_label": str(coding["wave"].iloc[0]),
            "current_label": str(coding["wave"].iloc[-1]),
            "within_uncertainty": WITHIN_UNCERTAINTY, "largest_changes": largest[:LARGEST_CHANGES],
            "unchecked_links": _unchecked_links(typed)}


def _unchecked_links(typed: dict[str, Table]) -> int:
    """How many networks were linked to one of the previous wave by a similar, not the same, werkplaats and
    name, with no researcher's decision on it (network_links.csv)."""
    networks = typed["vergelijking_netwerken"].frame if "vergelijking_netwerken" in typed else None
    if networks is None or "match" not in networks.columns:
        return 0
    return int((networks["match"] == UNSURE_MATCH).sum())


def _item_title(item) -> str:
    return item.report.title


def _date(value: str | None) -> date | None:
    return pd.Timestamp(value).date() if value else None

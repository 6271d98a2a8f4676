"""Charts: the report's figures from the aggregated tables, for print and for papers.

The figures are those config/instrument.yaml declares (report.figure of an item); what is drawn follows
from the item's role. Every figure is drawn at a fixed size with Dutch labels in the house style
(pipeline.core.style: the accent colour for bars, the scale's five colours, light to dark, for the levels of
involvement, the headings font), and written as PNG (300 dpi), SVG and PDF with editable text, plus a CSV
of exactly the data plotted, and a second SVG drawn 9 cm wide for phones (<name>.smal.svg: the same data,
its text about twice as large on a narrow screen). charts.json gives each figure a description with its
main numbers, the alternative text of the HTML, PDF and Word. Equal input gives equal bytes.
"""

from __future__ import annotations

import io
from contextlib import nullcontext
import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from pipeline.analysis.aggregate import NOT_GIVEN, Table, read_tables
from pipeline.core.background import Job, start_method
from pipeline.core.config import FigureSpec, Instrument, Item
from pipeline.language.formatting import percent as dutch_percent, rounded_percent
from pipeline.core.errors import PipelineError
from pipeline.core.schemas import write_atomic
from pipeline.core.stage import Context
from pipeline.core.style import Style, label_colour
from pipeline.publishing.pdf_fonts import lean_pdf_fonts

WIDTH_CM = 16.0      # print: the text width of the A4 page
PHONE_WIDTH_CM = 9.0  # the phone variant, shown below 600 px
GRID = "#d9d9d9"
LINE_PT = 8.5 * 1.2   # one line of the figures' text (font.size 8.5, matplotlib's line spacing 1.2)
SEGMENT_PADDING_PT = 1.5  # room a segment's percentage keeps on either side
LINE_CM = LINE_PT / 72 * 2.54
# The room the printed page gives a figure (templates/report.css, figure img: max-height). A print figure
# is drawn to fit it where it can, its labels on longer lines and its bars closer, since a taller one is
# shrunk on the page, its text with it.
PRINT_HEIGHT_CM = 8.5
PRINT_WRAP = 56


@dataclass(frozen=True)
class Look:
    """How a figure is drawn: the house style's colours and font, and the width (print or phone)."""

    style: Style
    width_cm: float = WIDTH_CM

    @property
    def wrap(self) -> int:
        """Characters per line of a bar's label."""
        return 40 if self.width_cm >= WIDTH_CM else 22

    def rc(self) -> dict:
        return {"font.family": self.style.heading_font, "font.size": 8.5, "axes.titlesize": 9.5,
                "axes.labelsize": 8.5, "axes.edgecolor": "#555555", "axes.linewidth": 0.6,
                "xtick.color": self.style.ink, "ytick.color": self.style.ink, "text.color": self.style.ink,
                "axes.labelcolor": self.style.ink, "svg.fonttype": "none", "pdf.fonttype": 42,
                "svg.hashsalt": "wsd-leernetwerken", "figure.dpi": 100, "savefig.dpi": 300}


@dataclass
class Figure:
    name: str
    title: str
    data: pd.DataFrame
    figure: object   # matplotlib.figure.Figure
    caption: str = ""
    item: str = ""
    description: str = ""
    unlabelled: list[str] = field(default_factory=list)   # segments too narrow for their number, in words


def _cm(value: float) -> float:
    return value / 2.54


def _new(look: Look, height_cm: float, rows: int = 1, height_ratios=None):
    from matplotlib.figure import Figure as MplFigure
    fig = MplFigure(figsize=(_cm(look.width_cm), _cm(height_cm)), layout="constrained")
    axes = fig.subplots(rows, 1, squeeze=False, sharex=True, gridspec_kw={"height_ratios": height_ratios}
                        if height_ratios else None)[:, 0]
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(length=2)
    return fig, axes


def _count_axis(ax, maximum: int, label: str) -> None:
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max(1, maximum) * 1.12)
    ax.set_xlabel(label)
    ax.grid(axis="x", color=GRID, linewidth=0.5)
    ax.set_axisbelow(True)


def _axis_label(look: Look, text: str) -> str:
    """An axis label whose lines fit the figure's width."""
    width = 80 if look.width_cm >= WIDTH_CM else 28
    return "\n".join(_wrapped(line, width) for line in text.split("\n"))


def _hbars(ax, look: Look, labels: list[str], values: list[int], wrap: int) -> None:
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, values, color=look.style.accent, height=0.62)
    ax.set_yticks(positions, [_wrapped(label, wrap) for label in labels])
    ax.tick_params(axis="y", length=0)
    for y, v in zip(positions, values):
        ax.text(v, y, f" {v}", va="center", ha="left", color=look.style.ink)


def _lines(labels, wrap: int) -> int:
    """The most lines any of the labels takes, wrapped as a bar's label is."""
    return max((_wrapped(label, wrap).count("\n") + 1 for label in labels), default=1)


def _prints(look: Look) -> bool:
    return look.width_cm >= WIDTH_CM


def _counts(labels, values) -> str:
    return "; ".join(f"{label}: {value}" for label, value in zip(labels, values))


def count_chart(look: Look, name: str, title: str, labels: list[str], values: list[int], *, axis_label: str, n: int,
                height_cm: float = 7.0, columns=("Categorie", "Netwerken")) -> Figure:
    """Horizontal bars of counts, in the order given, each bar labelled with its count; `n` is the networks
    counted, which the axis label carries. The figure grows where its labels' lines need it."""
    wrap = look.wrap
    height = max(height_cm, 2.8 + len(labels) * (_lines(labels, wrap) * LINE_CM + 0.2))
    if _prints(look) and height > PRINT_HEIGHT_CM:
        wrap = PRINT_WRAP
        height = max(height_cm, min(height, 2.8 + len(labels) * (_lines(labels, wrap) * LINE_CM + 0.1)))
    fig, (ax,) = _new(look, height)
    _hbars(ax, look, labels, values, wrap)
    _count_axis(ax, max(values, default=0), _axis_label(look, axis_label))
    description = f"Staafdiagram, aantal netwerken per {columns[0].lower()} (n = {n}): {_counts(labels, values)}."
    return Figure(name, title, pd.DataFrame({columns[0]: labels, columns[1]: values}), fig, description=description)


def _wrapped(label: str, width: int = 30) -> str:
    return "\n".join(textwrap.wrap(label, width, break_long_words=False)) or label


def _crowded(fig, labels, *, gap_pt: float = 1) -> bool:
    """Whether neighbouring tick labels, laid out as the figure will be, touch or come within gap_pt."""
    fig.draw_without_rendering()
    gap = gap_pt * fig.dpi / 72
    boxes = [label.get_window_extent() for label in labels if label.get_text()]
    return any(left.x1 + gap > right.x0 for left, right in zip(boxes, boxes[1:]))


def _uncrowded_years(fig, ax, labels: list[str]) -> None:
    """Year labels that do not collide: side by side while they fit, else upright, else smaller, else every
    second (third, ...) year and the last column labelled, the others left to the bars' order and the table."""
    if not _crowded(fig, ax.get_xticklabels()):
        return
    ax.tick_params(axis="x", labelrotation=90)
    if not _crowded(fig, ax.get_xticklabels()):
        return
    ax.tick_params(axis="x", labelsize=6.5)
    step = 1
    while _crowded(fig, [t for t in ax.get_xticklabels() if t.get_text()]) and step < len(labels):
        step += 1
        ax.set_xticks(range(len(labels)), [label if i % step == 0 or i == len(labels) - 1 else ""
                                           for i, label in enumerate(labels)])


def year_chart(look: Look, name: str, title: str, years: pd.DataFrame, *, n: int) -> Figure:
    """Columns of networks per start year, in time order, with the unknown start apart at the end.
    Takes label and networks."""
    fig, (ax,) = _new(look, 6.5)
    labels, values = years["label"].tolist(), years["networks"].tolist()
    colours = [look.style.accent if label.isdigit() else look.style.unknown for label in labels]
    ax.bar(range(len(labels)), values, color=colours, width=0.62)
    ax.set_xticks(range(len(labels)), labels)
    ax.tick_params(axis="x", length=0)
    for x, v in enumerate(values):
        ax.text(x, v, str(v), ha="center", va="bottom", color=look.style.ink)
    from matplotlib.ticker import MaxNLocator
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(max(values, default=0), 1) * 1.15)
    ax.set_ylabel("Aantal netwerken")
    ax.set_xlabel(f"Startjaar (n = {n} netwerken)")
    ax.grid(axis="y", color=GRID, linewidth=0.5)
    ax.set_axisbelow(True)
    _uncrowded_years(fig, ax, labels)
    description = (f"Kolommen, aantal netwerken per startjaar (n = {n}): "
                   + "; ".join(f"{label}: {value}" for label, value in zip(labels, values) if value) + ".")
    return Figure(name, title, pd.DataFrame({"Startjaar": labels, "Netwerken": values}), fig, description=description)


def _segment_labels(fig, ax, segments) -> list:
    """Keeps the percentage of each segment that it fits into with room on either side and removes the others;
    returns the segments that lost theirs. Each segment is (text, x0, width, what)."""
    fig.draw_without_rendering()
    padding = 2 * SEGMENT_PADDING_PT * fig.dpi / 72
    lost = []
    for text, x0, width, what in segments:
        left, right = ax.transData.transform([(x0, 0), (x0 + width, 0)])[:, 0]
        if text.get_window_extent().width + padding > right - left:
            text.remove()
            lost.append(what)
    return lost


def involvement_chart(look: Look, name: str, title: str, table: pd.DataFrame, levels: dict[str, str]) -> Figure:
    """100% stacked bars of involvement per participant group, n in every label, each segment with its
    percentage where it fits (the others named in the description); white rules part the segments. In print the
    categories without a level are counted in a separate grey panel, so they neither vanish nor pose as a scale
    point; on a phone, where the bars need the whole width, each group's name stands above its bar and says
    how many have no level.
    Takes label, categories, not_given and the level columns named in `levels` (column -> heading)."""
    from matplotlib.figure import Figure as MplFigure
    colours = look.style.scale
    if len(levels) != len(colours):
        raise PipelineError(f"figure {name}: the involvement scale has {len(levels)} points; the style's colours "
                            f"({look.style.source}, colours.scale) are made for {len(colours)}.")
    shown = table[table["categories"] > 0].copy()
    shown["n"] = shown[list(levels)].sum(axis=1)
    group_names = [g.split(" (")[0] for g in shown["label"]]
    missing = shown["not_given"].tolist()
    phone = look.width_cm < WIDTH_CM
    if phone:
        names = [_wrapped(f"{g} (n = {n}" + (f"; {m} {NOT_GIVEN.lower()})" if m else ")"), 42)
                 for g, n, m in zip(group_names, shown["n"], missing)]
        # in lines of text: each group's name above its bar (1.4 lines high), with half a line to spare
        pitches = [name.count("\n") + 1 + 1.4 + 0.8 for name in names]
        tops = [sum(pitches[:i]) for i in range(len(pitches))]
        positions = [-(top + pitch - 0.4 - 0.7) for top, pitch in zip(tops, pitches)]   # the bars' centres
        height = 0.8 + sum(pitches) * LINE_CM + 3.4
        fig = MplFigure(figsize=(_cm(look.width_cm), _cm(height)), layout="constrained")
        ax = fig.subplots()
        side = None
        bar_height = 1.4
    else:
        names = [f"{_wrapped(g, 44)} (n = {n})" for g, n in zip(group_names, shown["n"])]
        # the legend above and the axis below take about 1.9 cm; neighbouring bars stand as far apart as
        # their names' lines need
        lines = [name.count("\n") + 1 for name in names]
        pitch = max(0.55, max(((a + b) / 2 for a, b in zip(lines, lines[1:])), default=1) * LINE_CM + 0.2)
        height = min(11.0, max(PRINT_HEIGHT_CM if len(names) > 6 else 5.0, 1.9 + len(names) * pitch))
        fig = MplFigure(figsize=(_cm(look.width_cm), _cm(height)), layout="constrained")
        ax, side = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [7, 1.2]})
        positions = list(range(len(shown)))[::-1]
        bar_height = 0.66
    left = [0.0] * len(shown)
    segments = []
    for colour, (column, label) in zip(colours, levels.items()):
        shares = [100 * c / n if n else 0 for c, n in zip(shown[column], shown["n"])]
        ax.barh(positions, shares, left=left, color=colour, height=bar_height, label=label, edgecolor="white",
                linewidth=1.0)
        ink = label_colour(colour, look.style.ink)
        for y, x0, share, count, n, group in zip(positions, left, shares, shown[column], shown["n"], group_names):
            if share > 0:
                text = ax.text(x0 + share / 2, y, f"{share:.0f}%", ha="center", va="center", fontsize=7, color=ink)
                segments.append((text, x0, share, f"{group} {label.lower()} {share:.0f}% ({count} van {n})"))
        left = [a + b for a, b in zip(left, shares)]
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, 100)
    ticks = range(0, 101, 25)
    ax.set_xticks(ticks, [f"{v}%" for v in ticks])
    ax.set_xlabel(_wrapped("Aandeel van de categorieën met een ingevuld niveau", 44 if phone else 80))
    ax.spines[["top", "right"]].set_visible(False)
    legend = dict(frameon=False, fontsize=7, handlelength=1.0, handletextpad=0.4, columnspacing=0.9)
    if phone:
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_ylim(-sum(pitches), 0)
        for name_lines, y in zip(names, positions):
            ax.annotate(name_lines, (0, y + bar_height / 2), xytext=(0, 2), textcoords="offset points",
                        ha="left", va="bottom", annotation_clip=False)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside upper left", ncols=3, **legend)
    else:
        ax.set_yticks(positions, names)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside upper right", ncols=5, **legend)
        side.barh(positions, missing, color=look.style.unknown, height=bar_height)
        for y, m in zip(positions, missing):
            side.text(m, y, f" {m}", va="center", ha="left", fontsize=7, color=look.style.ink)
        side.set_xlim(0, max(max(missing, default=0), 1) * 1.6)
        side.set_xticks([])
        side.set_title(_wrapped(NOT_GIVEN.lower(), 9), fontsize=7, color="#555555")
        side.spines[["top", "right", "bottom"]].set_visible(False)
        side.tick_params(axis="y", length=0)
    unlabelled = _segment_labels(fig, ax, segments)
    data = pd.DataFrame({"Deelnemersgroep": group_names, "n met niveau": shown["n"].to_numpy()})
    for column, label in levels.items():
        data[label] = shown[column].to_numpy()
        data[f"{label} (%)"] = [rounded_percent(int(c), int(n)) for c, n in zip(shown[column], shown["n"])]
    data[NOT_GIVEN] = missing
    high = list(levels)[-2:]
    description = ("Gestapelde staven, per deelnemersgroep de verdeling van de betrokkenheid over vijf niveaus, "
                   "van zeer laag tot zeer hoog. Aandeel hoog of zeer hoog: "
                   + "; ".join(f"{g} {dutch_percent(rounded_percent(int(shown.loc[i, high].sum()), int(shown.loc[i, 'n'])))} "
                               f"(n = {int(shown.loc[i, 'n'])})"
                               for g, i in zip(group_names, shown.index) if shown.loc[i, "n"]) + ".")
    return Figure(name, title, data, fig, description=description, unlabelled=unlabelled)


def theme_chart(look: Look, name: str, title: str, table: pd.DataFrame, *, answered: int,
                counted: str = "het thema") -> Figure:
    """Bars of the themes named at least once, one panel per category, most named first.
    Takes category_label, theme_label, networks and percent."""
    named = table[table["networks"] > 0]
    categories = list(dict.fromkeys(named["category_label"]))
    sizes = [int((named["category_label"] == c).sum()) for c in categories] or [1]
    per_bar = 0.8 if _prints(look) else 1.5
    wrap = look.wrap
    labels = [named.loc[named["category_label"] == c, "theme_label"] for c in categories]
    # a panel's bars stand as far apart as its longest label needs: a label of four lines must not touch the next
    pitches = [max(per_bar, _lines(part, wrap) * LINE_CM + 0.2) for part in labels] or [per_bar]
    if _prints(look) and 3.0 + sum(size * pitch for size, pitch in zip(sizes, pitches)) > PRINT_HEIGHT_CM:
        wrap, room = PRINT_WRAP, (PRINT_HEIGHT_CM - 3.0) / sum(sizes)
        pitches = [max(_lines(part, wrap) * LINE_CM + 0.1, min(per_bar, room)) for part in labels] or [per_bar]
    heights = [size * pitch for size, pitch in zip(sizes, pitches)]
    fig, axes = _new(look, 3.0 + sum(heights), rows=max(1, len(categories)), height_ratios=heights)
    maximum = int(named["networks"].max()) if len(named) else 0
    parts = []
    for ax, category in zip(axes, categories):
        part = named[named["category_label"] == category].sort_values(["networks", "theme_label"],
                                                                      ascending=[False, True], kind="stable")
        _hbars(ax, look, part["theme_label"].tolist(), part["networks"].tolist(), wrap)
        ax.set_title(category, loc="left", fontweight="bold")
        parts.append(part)
    _count_axis(axes[-1], maximum, _axis_label(look, f"Aantal netwerken dat {counted} noemt\n"
                                                     f"(n = {answered} netwerken met een antwoord)"))
    for ax in axes[:-1]:
        ax.grid(axis="x", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
    shown = {"category_label": "Categorie", "theme_label": "Thema", "networks": "Netwerken", "percent": "Percentage"}
    data = pd.concat(parts, ignore_index=True)[list(shown)].rename(columns=shown) if parts else \
        pd.DataFrame(columns=list(shown.values()))
    description = (f"Staafdiagram, per thema het aantal netwerken dat {counted} noemt (n = {answered}). "
                   + " ".join(f"{p['category_label'].iloc[0]}: {_counts(p['theme_label'], p['networks'])}."
                              for p in parts) if parts else f"Geen netwerk noemde een thema (n = {answered}).")
    return Figure(name, title, data, fig, description=description)


def _figure(look: Look, item: Item, spec: FigureSpec, table: Table, *, n: int) -> Figure:
    """The figure an item declares, drawn from its table as the item's role asks."""
    frame, title = table.frame, item.report.title
    axis = f"Aantal netwerken (n = {n})"
    if item.role == "involvement":
        levels = {c: h for c, h in table.headers.items() if c.startswith("level_")}
        return involvement_chart(look, spec.name, title, frame, levels)
    if item.role == "start":
        return year_chart(look, spec.name, title, frame, n=n)
    if item.role == "status":
        return count_chart(look, spec.name, title, frame["label"].tolist(), frame["networks"].tolist(), axis_label=axis,
                           n=n, height_cm=5.0, columns=("Status", "Netwerken"))
    if item.role == "initiator":
        named = frame[frame["networks"] > 0].sort_values("networks", ascending=False, kind="stable")
        return count_chart(look, spec.name, title, named["label"].tolist(), named["networks"].tolist(),
                           axis_label=f"{axis}\neen netwerk kan meer typen initiatiefnemer hebben", n=n, height_cm=7.0,
                           columns=("Type initiatiefnemer", "Netwerken"))
    if item.role == "coded":
        return theme_chart(look, spec.name, title, frame, answered=table.base or 0, counted=item.report.counted)
    if item.role == "yes_no":
        labels = list(dict.fromkeys(["Ja", "Nee", NOT_GIVEN]))
        counts = frame["answer_shown"].value_counts()
        return count_chart(look, spec.name, title, labels, [int(counts.get(label, 0)) for label in labels],
                           axis_label=axis, n=n, height_cm=4.5, columns=("Antwoord", "Netwerken"))
    raise PipelineError(f"config/instrument.yaml: item {item.id} has a figure, but items of role {item.role} "
                        "have no figure to draw; remove report.figure there.")


def charts(tables: list[Table], instrument: Instrument, look: Look) -> list[Figure]:
    """Every figure the instrument declares, in report order, from the aggregated tables."""
    by_name = {t.name: t for t in tables}
    n = len(by_name["networks"].frame)
    figures = []
    for item, spec in instrument.figures:
        table = by_name.get(item.report.table)
        if table is None:
            raise PipelineError(f"figure {spec.name}: its table {item.report.table} was not made; run the "
                                "aggregate stage again (make report).")
        figure = _figure(look, item, spec, table, n=n)
        figure.caption, figure.item = spec.caption, item.id
        figures.append(figure)
    changes = by_name.get("vergelijking_verandering")
    if changes is not None:   # a wave compared with the previous one
        frame = changes.frame
        compared = int(frame["networks"].sum())   # every network of either wave has one change
        figure = count_chart(look, "vergelijking", changes.title, frame["label"].tolist(), frame["networks"].tolist(),
                             axis_label=f"Aantal netwerken (n = {compared} netwerken van een van beide metingen)",
                             n=compared, height_cm=5.5, columns=("Verandering", "Netwerken"))
        figure.caption = f"{changes.title}: aantal netwerken per verandering."
        figures.append(figure)
    return figures


def _with_unlabelled(figure: Figure, phone: Figure) -> str:
    """The figure's description, naming the segments that carry no number in its print or phone version."""
    unlabelled = list(dict.fromkeys(figure.unlabelled + phone.unlabelled))
    if not unlabelled:
        return figure.description
    return f"{figure.description} Te smal voor hun percentage in de figuur: {'; '.join(unlabelled)}."


def _rendered(figure: Figure, fmt: str, look: Look) -> bytes:
    from matplotlib import rc_context
    metadata = {"svg": {"Date": None, "Creator": None}, "pdf": {"CreationDate": None, "ModDate": None,
                "Creator": None, "Producer": None}, "png": {"Software": None}}[fmt]
    buffer = io.BytesIO()
    with rc_context(look.rc()), (lean_pdf_fonts() if fmt == "pdf" else nullcontext()):
        figure.figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def _laid_out(figure: Figure, look: Look) -> None:
    """Lays the figure out once, at the PNG's resolution, and keeps that layout for every format. Left on,
    the layout engine would lay the figure out again at each save, starting from the save before, so
    each format's bytes would depend on the order of saving, and every save would pay for a layout."""
    from matplotlib import rc_context
    rc = look.rc()
    with rc_context(rc):
        dpi = figure.figure.dpi
        figure.figure.set_dpi(rc["savefig.dpi"])
        try:
            figure.figure.draw_without_rendering()
        finally:
            figure.figure.set_dpi(dpi)
    figure.figure.set_layout_engine("none")


def check_font(style: Style) -> None:
    """The style's headings font must be installed: matplotlib would fall back to another one silently."""
    from matplotlib import font_manager
    try:
        font_manager.findfont(font_manager.FontProperties(family=style.heading_font), fallback_to_default=False)
    except ValueError:
        raise PipelineError(f"{style.source}: fonts.headings {style.heading_font} is not installed on this computer, "
                            "and the figures need it; install it or name an installed font (such as DejaVu Sans).")


def draw_and_write(tables: list[Table], out_dir: str | Path, *, instrument: Instrument, style: Style,
                   defer: Callable[[Callable[[], None]], None] | None = None) -> list[Path]:
    """figures/<name>.png|svg|pdf|csv and <name>.smal.svg (for phones) for every figure, and charts.json,
    which names them in report order with their number, title, caption and description (render takes the
    figures from it); returns the paths.
    With `defer`, the PNG and PDF files are not written here but handed to it, at once, as a function
    that writes them from the figures as they are at that moment (the runner writes them in a forked
    second process while this one goes on with the SVG and the report, which shows the SVG)."""
    from matplotlib import rc_context
    check_font(style)
    folder = Path(out_dir) / "figures"
    written = []
    wide, narrow = Look(style), Look(style, PHONE_WIDTH_CM)
    with rc_context(wide.rc()):
        figures = charts(tables, instrument, wide)
    with rc_context(narrow.rc()):
        phone = charts(tables, instrument, narrow)
    for figure, small in zip(figures, phone):
        figure.description = _with_unlabelled(figure, small)

    for figure in figures:
        _laid_out(figure, wide)
    for figure in phone:
        _laid_out(figure, narrow)

    def write_png_and_pdf() -> None:
        for figure in figures:
            write_atomic(folder / f"{figure.name}.png", _rendered(figure, "png", wide))
            write_atomic(folder / f"{figure.name}.pdf", _rendered(figure, "pdf", wide))
    if defer is not None:
        defer(write_png_and_pdf)
    else:
        write_png_and_pdf()
    for figure, small in zip(figures, phone):
        write_atomic(folder / f"{figure.name}.svg", _rendered(figure, "svg", wide))
        write_atomic(folder / f"{figure.name}.smal.svg", _rendered(small, "svg", narrow))
        path = folder / f"{figure.name}.csv"
        write_atomic(path, figure.data.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        written += [folder / f"{figure.name}.{fmt}" for fmt in ("png", "svg", "pdf", "smal.svg", "csv")]
    summary = Path(out_dir) / "charts.json"
    record = [{"name": f.name, "number": number, "item": f.item, "title": f.title, "caption": f.caption,
               "description": f.description,
               "files": {**{fmt: f"figures/{f.name}.{fmt}" for fmt in ("png", "svg", "pdf", "csv")},
                         "phone_svg": f"figures/{f.name}.smal.svg"}}
              for number, f in enumerate(figures, start=1)]
    write_atomic(summary, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return written + [summary]


def run(ctx: Context) -> None:
    """The stage: every declared figure from the typed tables (of aggregate, or the processed folder's), in
    the house style, written to the processed folder. The PNG and PDF files are written by a background
    job while render lays out the report, or handed to ctx.defer (see draw_and_write)."""
    tables = ctx.frame("tables", lambda: read_tables(ctx.processed))
    if ctx.defer is not None:
        defer = ctx.defer
    elif start_method() == "fork":
        defer = lambda write: ctx.background.append(Job(write, what="writing the figures"))  # noqa: E731
    else:   # the work is a closure over the figures: only a forked copy could take it, so it is done here
        defer = None
    written = draw_and_write(tables, ctx.processed, instrument=ctx.config.instrument, style=ctx.style, defer=defer)
    ctx.tell(f"charts     {sum(p.suffix == '.pdf' for p in written)} figures, each as PNG, SVG, PDF and CSV")
    ctx.wrote(written)

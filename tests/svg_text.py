"""Where the text of a matplotlib SVG stands: the ink box of every line of text, measured from the font.

matplotlib writes editable text (svg.fonttype none) as one <text> element per line, placed by x/y or a
transform, with its font in the style attribute. The box of a line runs from the left of its first glyph's
advance to the right of its last, and from its lowest glyph's bottom to its highest glyph's top (the glyph
outlines of the font file matplotlib used), so two boxes that overlap are text printed over text.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Box:
    text: str
    group: str          # the id of the artist's group: the lines of one label share it
    x0: float
    y0: float
    x1: float
    y1: float

    def gap(self, other: "Box") -> float:
        """The distance between the boxes; negative when they overlap (by the smaller of the two depths)."""
        dx = max(other.x0 - self.x1, self.x0 - other.x1)
        dy = max(other.y0 - self.y1, self.y0 - other.y1)
        return max(dx, dy)


@lru_cache(maxsize=None)
def _font(family: str, weight: str):
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager
    path = font_manager.findfont(font_manager.FontProperties(family=family, weight=weight), fallback_to_default=False)
    font = TTFont(path)
    return font, font.getBestCmap(), font["hmtx"], font["glyf"], font["head"].unitsPerEm


def _extent(text: str, family: str, weight: str, size: float) -> tuple[float, float, float]:
    """Width, top (above the baseline) and bottom (below it) of a line's ink, in the font size's units."""
    font, cmap, hmtx, glyf, units = _font(family, weight)
    width, top, bottom = 0.0, 0.0, 0.0
    for char in text:
        name = cmap.get(ord(char), ".notdef")
        advance, _ = hmtx[name]
        glyph = glyf[name]
        if getattr(glyph, "numberOfContours", 0):
            top, bottom = max(top, glyph.yMax), min(bottom, glyph.yMin)
        width += advance
    scale = size / units
    return width * scale, top * scale, -bottom * scale


def _matrix(transform: str) -> tuple[float, ...]:
    """The affine matrix (a, b, c, d, e, f) of an SVG transform list of translate, rotate and scale."""
    a, b, c, d, e, f = 1.0, 0.0, 0.0, 1.0, 0.0, 0.0
    for name, args in re.findall(r"(\w+)\(([^)]*)\)", transform or ""):
        values = [float(v) for v in re.split(r"[ ,]+", args.strip()) if v]
        if name == "translate":
            step = (1, 0, 0, 1, values[0], values[1] if len(values) > 1 else 0)
        elif name == "scale":
            step = (values[0], 0, 0, values[-1], 0, 0)
        elif name == "rotate":
            angle = math.radians(values[0])
            cx, cy = (values[1], values[2]) if len(values) == 3 else (0.0, 0.0)
            cos, sin = math.cos(angle), math.sin(angle)
            step = (cos, sin, -sin, cos, cx - cos * cx + sin * cy, cy - sin * cx - cos * cy)
        else:
            raise ValueError(f"transform {name} not understood")
        a, b, c, d, e, f = (a * step[0] + c * step[1], b * step[0] + d * step[1], a * step[2] + c * step[3],
                            b * step[2] + d * step[3], a * step[4] + c * step[5] + e, b * step[4] + d * step[5] + f)
    return a, b, c, d, e, f


def _style(element) -> dict[str, str]:
    return {k.strip(): v.strip().strip("'\"") for k, _, v in
            (part.partition(":") for part in (element.get("style") or "").split(";") if ":" in part)}


def text_boxes(svg: Path) -> tuple[list[Box], list[Box], tuple[float, float]]:
    """The boxes of the text lines outside any legend, the boxes of the legends (their texts and swatches
    together) and the canvas's width and height."""
    root = ET.parse(svg).getroot()
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    texts, legends = [], []

    def walk(element, group: str, legend: list | None) -> None:
        ident = element.get("id") or ""
        if ident.startswith("legend"):
            legend = []
            for child in element:
                walk(child, ident, legend)
            legends.append(Box("legend", ident, min(b.x0 for b in legend), min(b.y0 for b in legend),
                               max(b.x1 for b in legend), max(b.y1 for b in legend)))
            return
        group = ident or group
        if element.tag == f"{SVG}text" and (element.text or "").strip():
            (legend if legend is not None else texts).append(_box(element, group))
        elif element.tag == f"{SVG}path" and legend is not None:
            numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", element.get("d") or "")]
            xs, ys = numbers[0::2], numbers[1::2]
            if xs:
                legend.append(Box("swatch", group, min(xs), min(ys), max(xs), max(ys)))
        for child in element:
            walk(child, group, legend)

    walk(root, "", None)
    return texts, legends, (width, height)


def _box(element, group: str) -> Box:
    style = _style(element)
    size = float(style["font-size"].removesuffix("px"))
    width, top, bottom = _extent(element.text, style["font-family"], style.get("font-weight", "normal"), size)
    shift = {"middle": width / 2, "end": width}.get(style.get("text-anchor", "start"), 0.0)
    x, y = float(element.get("x", 0)), float(element.get("y", 0))
    a, b, c, d, e, f = _matrix(element.get("transform", ""))
    corners = [(x - shift + dx, y + dy) for dx in (0, width) for dy in (-top, bottom)]
    points = [(a * px + c * py + e, b * px + d * py + f) for px, py in corners]
    return Box(element.text, group, min(p[0] for p in points), min(p[1] for p in points),
               max(p[0] for p in points), max(p[1] for p in points))


def collisions(svg: Path, *, across: float = 3.0, above: float = 5.5) -> list[str]:
    """Every pair of texts of different labels that stand side by side closer than `across` (about a word
    space) or one above the other closer than `above` (more than the lines of one label are apart, so that
    two labels never read as one), lines of one label that overlap, text that near a legend, and text outside
    the canvas; each said in words. Distances in the SVG's units (points)."""
    texts, legends, (width, height) = text_boxes(svg)
    found = []

    def near(one: Box, other: Box, x: float, y: float) -> bool:
        return max(other.x0 - one.x1, one.x0 - other.x1) < x and max(other.y0 - one.y1, one.y0 - other.y1) < y

    for i, one in enumerate(texts):
        if one.x0 < 0 or one.y0 < 0 or one.x1 > width or one.y1 > height:
            found.append(f"{one.text!r} runs off the canvas")
        for other in texts[i + 1:]:
            same = other.group == one.group
            if near(one, other, 0 if same else across, 0 if same else above):
                found.append(f"{one.text!r} and {other.text!r} are {one.gap(other):.1f} pt apart")
        for legend in legends:
            if near(one, legend, across, above):
                found.append(f"{one.text!r} is {one.gap(legend):.1f} pt from the legend")
    return found

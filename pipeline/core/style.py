"""The house style: colours, fonts and logo of the report, from one file used by charts, HTML, PDF and Word.

A wave's own `waves/<name>/style.yaml` wins; without it, `config/style.yaml` (the calm blue default).
The file is checked when it is read: every colour a #rrggbb value, text colours readable on white
(contrast 4.5:1, WCAG 2.1 AA), every colour a figure fills a bar or segment with visible on white
(3:1, WCAG 2.1 1.4.11), the five colours of the involvement scale falling in lightness from light to dark
(so the order survives greyscale printing and colour blindness) and each carrying its percentages in
white or in the ink colour at 4.5:1, and the logo an existing PNG, JPEG or SVG file with an alternative
text. The cover's authors and institutions are not here but in
wave.yaml: they belong to one wave's report, where the style is the institution's, copied unchanged
from wave to wave.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.files import CONFIG_DIR, read_yaml
from pipeline.core.errors import ConfigError

STYLE_FILE = "style.yaml"
KEYS = ("colours", "fonts", "logo")
COLOUR_KEYS = ("accent", "ink", "muted", "line", "tint", "scale")
OPTIONAL_COLOUR_KEYS = ("unknown",)   # a style file written before it came keeps working
DEFAULT_UNKNOWN = "#858585"           # grey, 3.7:1 on white
FONT_KEYS = ("text", "headings")
WORD_FONT_KEYS = ("word_text", "word_headings")   # optional: the reference document's fonts stay otherwise
LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
HEX = re.compile(r"#[0-9a-fA-F]{6}")
MIN_CONTRAST = 4.5          # WCAG 2.1 AA for body text
MIN_GRAPHIC_CONTRAST = 3.0  # WCAG 2.1 1.4.11 for the bars and segments of a figure against its white
WHITE = "#ffffff"
MIN_SCALE_STEP = 0.04       # relative luminance between two neighbouring scale colours


@dataclass(frozen=True)
class Logo:
    path: Path
    alt: str

    @property
    def data_uri(self) -> str:
        """The logo inline, so report.html opens offline from its folder without a copy of the file."""
        data = base64.b64encode(self.path.read_bytes()).decode("ascii")
        return f"data:{LOGO_TYPES[self.path.suffix.lower()]};base64,{data}"


@dataclass(frozen=True)
class Style:
    """Checked values of a style file; `source` is the file they came from."""

    source: Path
    accent: str            # headings, chart bars, the rule under table headers
    ink: str               # text
    muted: str             # notes, captions
    line: str              # table rules
    tint: str              # table header background
    scale: tuple[str, ...]  # five colours of the involvement scale, light to dark
    text_font: str
    heading_font: str
    word_text_font: str | None = None      # the Word edition's, when they differ (None: the reference's)
    word_heading_font: str | None = None
    logo: Logo | None = None
    unknown: str = DEFAULT_UNKNOWN   # bars of what is not a value (no level given, unknown start year)

    @property
    def files(self) -> list[Path]:
        """The files the style is made of (for the manifest)."""
        return [self.source] + ([self.logo.path] if self.logo else [])

    def context(self) -> dict:
        """The style as the templates see it (see templates/CONTEXT.md)."""
        return {"accent": self.accent, "ink": self.ink, "muted": self.muted, "line": self.line, "tint": self.tint,
                "scale": list(self.scale), "text_font": self.text_font, "heading_font": self.heading_font,
                "word_text_font": self.word_text_font, "word_heading_font": self.word_heading_font,
                "logo": {"src": self.logo.data_uri, "alt": self.logo.alt} if self.logo else None}


def luminance(colour: str) -> float:
    """Relative luminance of a #rrggbb colour (WCAG 2.1)."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def label_colour(fill: str, ink: str) -> str:
    """The colour of text on a bar or segment filled with `fill`: white or `ink`, whichever stands out more."""
    return WHITE if contrast(fill, WHITE) >= contrast(fill, ink) else ink


def style_path(*, wave_folder: Path | None, config_folder: Path = CONFIG_DIR) -> Path:
    """The style file a run uses: the wave's style.yaml if it has one, else the config folder's."""
    if wave_folder is not None and (Path(wave_folder) / STYLE_FILE).is_file():
        return Path(wave_folder) / STYLE_FILE
    return Path(config_folder) / STYLE_FILE


def load_style(path: Path) -> Style:
    """The style of `path`, checked; every problem is one message naming the file, the key and the fix."""
    path = Path(path)
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with {', '.join(KEYS)}.")
    _known(raw, KEYS, path, "")
    colours, fonts = raw.get("colours") or {}, raw.get("fonts") or {}
    for name, value in (("colours", colours), ("fonts", fonts)):
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {name} must be a mapping, such as {name}: {{{(COLOUR_KEYS if name == 'colours' else FONT_KEYS)[0]}: ...}}.")
    _known(colours, COLOUR_KEYS + OPTIONAL_COLOUR_KEYS, path, "colours.")
    _known(fonts, FONT_KEYS + WORD_FONT_KEYS, path, "fonts.")
    missing = [f"colours.{k}" for k in COLOUR_KEYS if k not in colours] + [f"fonts.{k}" for k in FONT_KEYS if k not in fonts]
    if missing:
        raise ConfigError(f"{path}: {', '.join(missing)} missing; copy them from config/{STYLE_FILE}.")
    unknown = colours.get("unknown", DEFAULT_UNKNOWN)
    for key in COLOUR_KEYS[:-1]:
        _colour(colours[key], path, f"colours.{key}")
    _colour(unknown, path, "colours.unknown")
    for key in ("ink", "muted", "accent"):
        ratio = contrast(colours[key], "#ffffff")
        if ratio < MIN_CONTRAST:
            raise ConfigError(f"{path}: colours.{key} {colours[key]} has a contrast of {ratio:.1f}:1 on white; text "
                              f"needs at least {MIN_CONTRAST}:1 (WCAG 2.1 AA): choose a darker colour.")
    scale = colours["scale"]
    if not isinstance(scale, list) or len(scale) != 5:
        raise ConfigError(f"{path}: colours.scale must be a list of five colours, light to dark, one per level of "
                          "involvement (zeer laag .. zeer hoog).")
    for i, value in enumerate(scale):
        _colour(value, path, f"colours.scale[{i + 1}]")
    for i in range(1, len(scale)):
        step = luminance(scale[i - 1]) - luminance(scale[i])
        if step < MIN_SCALE_STEP:
            raise ConfigError(f"{path}: colours.scale[{i + 1}] {scale[i]} is not clearly darker than {scale[i - 1]} "
                              "before it; the five colours must go from light to dark so that the order survives "
                              "greyscale printing and colour blindness.")
    for key, value in [*((f"scale[{i + 1}]", c) for i, c in enumerate(scale)), ("unknown", unknown)]:
        ratio = contrast(value, WHITE)
        if ratio < MIN_GRAPHIC_CONTRAST:
            raise ConfigError(f"{path}: colours.{key} {value} has a contrast of {_failing_ratio(ratio, MIN_GRAPHIC_CONTRAST)}:1 on white; a bar or "
                              f"segment of a figure needs at least {MIN_GRAPHIC_CONTRAST:.0f}:1 (WCAG 2.1, 1.4.11): "
                              "choose a darker colour.")
    for i, value in enumerate(scale):
        best = max(contrast(value, WHITE), contrast(value, colours["ink"]))
        if best < MIN_CONTRAST:
            raise ConfigError(f"{path}: colours.scale[{i + 1}] {value} carries its percentages at {best:.1f}:1 at "
                              f"best (in white or colours.ink); text needs {MIN_CONTRAST}:1: choose a lighter or "
                              "darker colour.")
    for key in (k for k in FONT_KEYS + WORD_FONT_KEYS if k in fonts):
        if not isinstance(fonts[key], str) or not fonts[key].strip() or not re.fullmatch(r"[\w .-]+", fonts[key]):
            raise ConfigError(f"{path}: fonts.{key} {fonts[key]!r} is not a font name, such as DejaVu Sans.")
    return Style(source=path, accent=colours["accent"].lower(), ink=colours["ink"].lower(),
                 muted=colours["muted"].lower(), line=colours["line"].lower(), tint=colours["tint"].lower(),
                 scale=tuple(c.lower() for c in scale), text_font=fonts["text"].strip(),
                 heading_font=fonts["headings"].strip(), word_text_font=(fonts.get("word_text") or "").strip() or None,
                 word_heading_font=(fonts.get("word_headings") or "").strip() or None, logo=_logo(raw.get("logo"), path),
                 unknown=unknown.lower())


def _failing_ratio(ratio: float, minimum: float) -> str:
    """A failing contrast ratio to two decimals, rounded down where rounding would reach the minimum
    (2.996 must not read as the 3.00 it fails)."""
    shown = f"{ratio:.2f}"
    return shown if float(shown) < minimum else f"{math.floor(ratio * 100) / 100:.2f}"


def _known(raw: dict, keys, path: Path, prefix: str) -> None:
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(prefix + k for k in unknown)}; known are "
                          f"{', '.join(prefix + k for k in keys)}.")


def _colour(value, path: Path, key: str) -> None:
    if not isinstance(value, str) or not HEX.fullmatch(value):
        raise ConfigError(f"{path}: {key} is {value!r}; write a colour as \"#rrggbb\" (in quotes), such as \"#2f5f8a\".")


def _logo(raw, path: Path) -> Logo | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, dict) or set(raw) - {"file", "alt"} or not raw.get("file"):
        raise ConfigError(f"{path}: logo must be a mapping with file (relative to {path.name}) and alt (what the "
                          "logo shows, for screen readers), such as logo: {file: logo.png, alt: Logo van Hogeschool X}.")
    file = Path(raw["file"])
    file = file if file.is_absolute() else path.parent / file
    if file.suffix.lower() not in LOGO_TYPES:
        raise ConfigError(f"{path}: logo.file {raw['file']}: use a PNG, JPEG or SVG file.")
    if not file.is_file():
        raise ConfigError(f"{path}: logo.file {file} not found; put the logo there or correct the path.")
    alt = raw.get("alt")
    if not isinstance(alt, str) or not alt.strip():
        raise ConfigError(f"{path}: logo.alt is missing; say what the logo shows (such as Logo van Hogeschool X), "
                          "for readers who cannot see it.")
    return Logo(path=file.resolve(), alt=alt.strip())

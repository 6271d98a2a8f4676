"""Fonts embedded in the figures' PDFs without the tables a PDF viewer never reads.

matplotlib embeds a subset of each font in every PDF it writes (TrueType, so the text stays text), made with
fontTools. Most of that work goes into the font's OpenType layout tables (GSUB, GPOS, GDEF: ligatures,
kerning, positioning), which matplotlib itself has already applied: a PDF places every glyph where the page
says, so no viewer reads them. Leaving them out makes each subset about three times cheaper and the figures
look exactly the same; only the embedded font files are smaller.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

# OpenType tables that only text shaping reads (substitution, positioning, their definitions, kerning, the
# maths layout, justification and baselines)
LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "kern", "MATH", "JSTF", "BASE")


class _LeanSubsetting:
    """fontTools.subset as matplotlib calls it, but every font it loads for a subset is told to drop the
    layout tables (the same options object then goes to the Subsetter)."""

    def __init__(self, subset_module):
        self._module = subset_module

    def load_font(self, fontfile, options, *args, **kwargs):
        options.drop_tables = list(dict.fromkeys([*options.drop_tables, *LAYOUT_TABLES]))
        options.layout_closure = False   # no glyphs reached only through substitutions: no viewer substitutes
        return self._module.load_font(fontfile, options, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._module, name)


@contextmanager
def lean_pdf_fonts() -> Iterator[None]:
    """While active, PDFs saved by matplotlib embed their fonts without the layout tables. Should a matplotlib
    version subset fonts some other way, nothing changes but the speed (a test watches for that)."""
    try:
        from matplotlib.backends import _backend_pdf_ps as pdf_fonts
    except ImportError:
        yield
        return
    subset_module = getattr(pdf_fonts, "subset", None)
    if subset_module is None or not hasattr(subset_module, "load_font"):
        yield
        return
    pdf_fonts.subset = _LeanSubsetting(subset_module)
    try:
        yield
    finally:
        pdf_fonts.subset = subset_module

"""The ticket's two Source Sans Pro faces, prepared once per process so a ticket renders fast.

fpdf2 handles a TrueType font in two expensive steps, and would repeat both for every ticket:
`TTFFont.__init__` parses the whole TTF with fontTools (about 2,000 glyphs, GSUB/GPOS
included), and `output()` subsets the parsed font to the glyphs used and compiles it again.
Together that was about nine tenths of a ticket's time. Here both are done once per process,
with fpdf2's and fontTools' own code:

1. fontTools cuts each face down to the characters of a `Cut` (the letters, digits,
   punctuation and symbols a ticket can hold). That small font is what a ticket embeds, whole.
2. fpdf2 parses the small font into a template `TTFFont`, whose SubsetMap is then filled with
   every glyph in one fixed order: each character gets the same code in every document.
3. fpdf2's own `OutputProducer` outputs the fonts of a specimen document filled the same way,
   once. The PDF objects it builds (Type0 font, CIDFontType2, descriptor, FontFile2 program,
   ToUnicode map, CIDToGIDMap) are kept, and `TicketOutputProducer` puts a copy of them into
   each ticket instead of subsetting and compiling the font again.

Two cuts: `RUSSIAN_CUT` for the usual ticket (Russian and English texts, Russian and Latin
names), small so the PDF stays small; `WIDE_CUT` adds the letters of the other European and
Turkic languages and the rest of Cyrillic, prepared only when a ticket first needs it. A text
with a character outside both (a name in a script they leave out) gets no prepared faces: the
caller renders that ticket with the full fonts, as before (slow, and still correct).

Thread safety: tickets render in worker threads (`asyncio.to_thread`), possibly several at a
time. The prepared faces are built once under a lock and never written afterwards. Each
document gets its own `TicketFont`, a copy of the template whose written parts (the SubsetMap,
the widths dict, the missing glyph list, the biggest size) are its own; the parts fpdf2 only
reads (the cmap, the glyph ids, the font descriptor, the decompiled fontTools font) are shared.
Each output deep-copies the kept PDF objects, because fpdf2 numbers the objects of a document
by writing their ids into them.

This leans on two internals of fpdf2 (checked with 2.8.9): `OutputProducer._add_fonts`,
overridden here and reached through the public `output(output_producer_class=...)`, and the
font objects it builds. If a future fpdf2 changes them so that preparing fails, `faces_for`
returns None (logged once per cut) and tickets use the full fonts; tests/unit/test_ticket.py checks
that the usual ticket takes the prepared path and that both paths print the same text.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from typing import Any, Final

from fontTools import subset as ftsubset  # type: ignore[import-untyped]
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import Glyph, SubsetMap, TTFFont
from fpdf.output import OutputProducer
from fpdf.syntax import PDFObject

__all__ = [
    "RUSSIAN_CUT",
    "WIDE_CUT",
    "Cut",
    "PreparedFace",
    "PreparedFaces",
    "TicketFont",
    "TicketOutputProducer",
    "faces_for",
]

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Cut:
    """A set of characters the faces are cut down to (only those the font has are kept)."""

    name: str
    characters: frozenset[str]

    @classmethod
    def of(cls, name: str, *ranges: tuple[int, int]) -> Cut:
        return cls(
            name, frozenset(chr(c) for first, last in ranges for c in range(first, last + 1))
        )


RUSSIAN_CUT: Final = Cut.of(
    "russian",
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement: «», °, ×, and the letters of Western names
    (0x0400, 0x045F),  # Cyrillic: Russian, Ukrainian, Belarusian, Serbian letters
    (0x2009, 0x200A),  # thin and hair spaces
    (0x2010, 0x2027),  # dashes, quotes, bullet, ellipsis
    (0x202F, 0x202F),  # narrow no-break space
    (0x2030, 0x203A),  # per mille, ‹ ›
    (0x20AC, 0x20AC),  # €
    (0x20BD, 0x20BD),  # ₽
    (0x2116, 0x2116),  # №
)
WIDE_CUT: Final = Cut.of(
    "wide",
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B: European, Turkic names
    (0x0300, 0x036F),  # combining diacritical marks (a name typed in decomposed form)
    (0x0400, 0x04FF),  # Cyrillic: also Tatar, Bashkir, Kazakh, Chuvash... letters
    (0x2000, 0x206F),  # General Punctuation
    (0x20A0, 0x20CF),  # currency signs
    (0x2100, 0x214F),  # letterlike symbols (№)
)
_CUTS: Final = (RUSSIAN_CUT, WIDE_CUT)

# fpdf2 breaks lines at these and never draws them.
_NOT_DRAWN: Final = frozenset("\n")

# The tables fpdf2 2.8.9 drops when it subsets a font for a document (OutputProducer._add_fonts),
# plus BASE, which a PDF viewer does not use either. The layout tables would also pull
# alternate glyphs into the cut, and fpdf2 without text shaping never draws those.
_DROPPED_TABLES: Final = (
    "BASE",
    "FFTM",
    "GDEF",
    "GPOS",
    "GSUB",
    "MATH",
    "hdmx",
    "meta",
    "sbix",
    "CBDT",
    "CBLC",
    "EBDT",
    "EBLC",
    "EBSC",
    "SVG ",
    "CPAL",
    "COLR",
)


def _cut_font(data: bytes, cut: Cut) -> bytes:
    """The TTF cut down to `cut`'s characters (fontTools, once per process and cut)."""
    # The options fpdf2 subsets with, so the font embedded is the one fpdf2 would embed.
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
    options.drop_tables += list(_DROPPED_TABLES)
    options.layout_closure = False
    font = ttLib.TTFont(BytesIO(data), recalcTimestamp=False)
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=[ord(character) for character in cut.characters])
    subsetter.subset(font)
    buffer = BytesIO()
    font.save(buffer)
    return buffer.getvalue()


class TicketFont(TTFFont):
    """A document's copy of a prepared face; `TicketOutputProducer` embeds its kept objects."""

    __slots__ = ("face",)
    face: PreparedFace


def _parse(pdf: FPDF, data: bytes, *, fontkey: str, style: str) -> TicketFont:
    # fpdf2 2.8.9's add_font() accepts only a path, so the font object it would build is built
    # here from bytes, the way add_font() builds it.
    font = TicketFont(pdf, BytesIO(data), fontkey, style)  # type: ignore[arg-type]
    pdf.fonts[fontkey] = font
    return font


def _fill(subset: SubsetMap, glyphs: Iterable[Glyph]) -> None:
    for glyph in glyphs:
        subset.pick_glyph(glyph)


def _clear_glyph_caches() -> None:
    # SubsetMap.pick and get_glyph are functools caches shared by every SubsetMap and keyed by
    # it: they would keep every document's fonts alive. fpdf2 clears them after each output
    # too; a document rendering meanwhile in another thread only recomputes its entries.
    SubsetMap.pick.cache_clear()
    SubsetMap.get_glyph.cache_clear()


@dataclass(frozen=True, slots=True, eq=False)
class PreparedFace:
    """One face cut down to a cut's characters, with the PDF objects that embed it."""

    fontkey: str
    # Never handed to a document: each document gets a copy (`new_font`).
    template: TicketFont
    # Every glyph of the cut font, in the order that gives each its code.
    glyphs: tuple[Glyph, ...]
    covered: frozenset[str]
    # What fpdf2 built to embed the font, in the order it added them, and the position of the
    # composite (Type0) font, the one a page's /Font resource refers to.
    objects: tuple[PDFObject, ...]
    composite: int

    def new_font(self, pdf: FPDF) -> TicketFont:
        """This face's font for one document, registered in `pdf.fonts`."""
        font = copy.copy(self.template)
        font.face = self
        font.i = len(pdf.fonts) + 1
        font.cw = self.template.cw.copy()
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font.subset = SubsetMap(font)
        _fill(font.subset, self.glyphs)
        pdf.fonts[self.fontkey] = font
        return font

    def pdf_objects(self) -> tuple[list[PDFObject], PDFObject]:
        """A fresh copy of the embedding objects, and the composite font among them."""
        objects: list[PDFObject] = copy.deepcopy(list(self.objects))
        return objects, objects[self.composite]


def _prepare(data: bytes, cut: Cut, *, fontkey: str, style: str) -> PreparedFace:
    small = _cut_font(data, cut)

    template = _parse(FPDF(), small, fontkey=fontkey, style=style)
    # fpdf2 opens the font lazily; read every table now, so that nothing reads (and caches
    # into) the shared fontTools object while documents render.
    template.ttfont.ensureDecompiled()
    glyphs = tuple(
        glyph
        for code in sorted(template.cmap)
        if (glyph := template.subset.get_glyph(unicode=code)) is not None
    )

    # fpdf2 subsets and compiles the specimen's font (its own parse of the same bytes, consumed
    # by the output) exactly as it would for a ticket that used every glyph.
    specimen = FPDF()
    specimen_font = _parse(specimen, small, fontkey=fontkey, style=style)
    _fill(specimen_font.subset, glyphs)
    producer = OutputProducer(specimen)
    first = len(producer.pdf_objs)
    composites = producer._add_fonts({}, {}, {})
    added = producer.pdf_objs[first:]
    _clear_glyph_caches()
    objects = tuple(obj for obj in added if isinstance(obj, PDFObject))
    composite = composites[specimen_font.i]
    positions = [index for index, obj in enumerate(objects) if obj is composite]
    if len(objects) != len(added) or len(positions) != 1:
        raise RuntimeError("fpdf2 embedded the font in an unexpected way")

    return PreparedFace(
        fontkey=fontkey,
        template=template,
        glyphs=glyphs,
        covered=frozenset(chr(code) for code in template.cmap),
        objects=objects,
        composite=positions[0],
    )


@dataclass(frozen=True, slots=True)
class PreparedFaces:
    """The regular and the bold face of one cut."""

    cut: Cut
    regular: PreparedFace
    bold: PreparedFace
    covered: frozenset[str]

    def add_to(self, pdf: FPDF) -> None:
        self.regular.new_font(pdf)
        self.bold.new_font(pdf)


_lock = threading.Lock()
_prepared: dict[str, PreparedFaces | None] = {}  # by cut name; None: could not be prepared


def _prepared_cut(cut: Cut, family: str, regular: bytes, bold: bytes) -> PreparedFaces | None:
    # Read without the lock once prepared (a dict read is atomic): a ticket of a prepared cut
    # does not wait while another thread prepares a different one.
    try:
        return _prepared[cut.name]
    except KeyError:
        pass
    with _lock:
        if cut.name not in _prepared:
            try:
                regular_face = _prepare(regular, cut, fontkey=family.lower(), style="")
                bold_face = _prepare(bold, cut, fontkey=f"{family.lower()}B", style="B")
            except Exception:
                _LOG.exception("the ticket's fonts could not be prepared; using the full fonts")
                _prepared[cut.name] = None
            else:
                _prepared[cut.name] = PreparedFaces(
                    cut=cut,
                    regular=regular_face,
                    bold=bold_face,
                    covered=regular_face.covered & bold_face.covered | _NOT_DRAWN,
                )
        return _prepared[cut.name]


def faces_for(text: str, *, family: str, regular: bytes, bold: bytes) -> PreparedFaces | None:
    """The prepared faces of the smallest cut that has every character of `text`, prepared at
    its first use in the process; None if no cut has them all (or fpdf2 could not be made to
    prepare them): the caller then uses the full fonts.

    `regular` and `bold` are the TTF files of `family`, used only to prepare a cut."""
    characters = set(text) - _NOT_DRAWN
    for cut in _CUTS:
        if characters <= cut.characters:
            faces = _prepared_cut(cut, family, regular, bold)
            if faces is not None and characters <= faces.covered:
                return faces
    return None


def forget_prepared() -> None:
    """Forget the prepared faces (tests)."""
    with _lock:
        _prepared.clear()


class TicketOutputProducer(OutputProducer):
    """fpdf2's OutputProducer, embedding prepared faces from the objects kept for them."""

    def _add_fonts(self, *args: Any, **kwargs: Any) -> dict[int, Any]:
        fonts = sorted(self.fpdf.fonts.values(), key=lambda font: font.i)
        if not all(isinstance(font, TicketFont) for font in fonts):
            return super()._add_fonts(*args, **kwargs)
        composites: dict[int, Any] = {}
        for font in fonts:
            assert isinstance(font, TicketFont)
            objects, composite = font.face.pdf_objects()
            for obj in objects:
                self._add_pdf_obj(obj, "fonts")
            composites[font.i] = composite
        _clear_glyph_caches()
        return composites

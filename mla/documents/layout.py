"""The page layout of every formal document: letterhead, references, body, signature line.

Written into memory with fpdf2 (pure Python); the DejaVu Serif fonts shipped beside this
module cover the Latin, accented and typographic characters of the four languages (licence:
``fonts/LICENSE-DejaVu.txt``), and fpdf2 embeds only the glyphs a document uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from mla.documents.catalog import Rendered

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVuSerif"


@dataclass(frozen=True)
class Party:
    """An authority as a letter shows it: from the directory."""

    name: str
    code: str
    state: str
    contacts: list[str]


@dataclass(frozen=True)
class Header:
    issuer: Party
    recipient: Party | None
    reference: str
    their_reference: str | None
    date: str  # already written in the document's language
    confidential: bool
    lang: str
    issued_at: datetime


class _Pdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self._footer_text = footer_text

    def para(self, h: float, text: str, align: str = "J") -> None:
        """A paragraph the full width of the text, the cursor left at the next line."""
        self.multi_cell(0, h, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, size=8)
        self.cell(0, 8, f"{self._footer_text} {self.page_no()}/{{nb}}", align="C")


def layout(rendered: Rendered, header: Header) -> bytes:
    """The unsigned PDF of ``rendered`` under ``header``, as bytes (never a file)."""
    w = rendered.words
    pdf = _Pdf(f"{header.reference} · {w['page']}")
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSerif.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSerif-Bold.ttf"))
    pdf.set_lang(header.lang)
    pdf.set_title(rendered.title)
    pdf.set_author(header.issuer.name)
    pdf.set_subject(header.reference)
    pdf.set_creator("mla")
    pdf.set_creation_date(header.issued_at)
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()

    # Letterhead: the issuing authority, from the directory.
    pdf.set_font(FONT, "B", 13)
    pdf.para(6, header.issuer.name, "L")
    pdf.set_font(FONT, "", 9)
    pdf.para(4.5, header.issuer.state, "L")
    for contact in header.issuer.contacts:
        pdf.para(4.5, contact, "L")
    pdf.ln(2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(4)

    if header.confidential:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(0, 6, w["confidential"], align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    rows = [(w["date"], header.date), (w["reference"], header.reference)]
    if header.their_reference:
        rows.append((w["their_reference"], header.their_reference))
    if header.recipient is not None:
        rows.append((w["to"], f"{header.recipient.name} ({header.recipient.state})"))
    pdf.set_font(FONT, "B", 10)
    width = max(pdf.get_string_width(f"{label}:") for label, _ in rows) + 3
    for label, value in rows:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(width, 5.5, f"{label}:")
        pdf.set_font(FONT, "", 10)
        pdf.para(5.5, value, "L")
    pdf.ln(5)

    pdf.set_font(FONT, "B", 14)
    pdf.para(7, rendered.title, "C")
    pdf.ln(4)
    pdf.set_font(FONT, "", 10.5)
    if rendered.opening:
        pdf.para(5.5, rendered.opening)
        pdf.ln(3)
    for n, section in enumerate(rendered.sections, 1):
        pdf.set_font(FONT, "B", 10.5)
        pdf.para(5.5, f"{n}. {section.heading}", "L")
        pdf.set_font(FONT, "", 10.5)
        pdf.para(5.5, section.body)
        pdf.ln(2.5)
    if rendered.closing:
        pdf.ln(2)
        pdf.para(5.5, rendered.closing)
    pdf.ln(10)
    pdf.set_font(FONT, "", 9.5)
    pdf.para(5, f"{w['signature']}:", "L")
    pdf.set_font(FONT, "B", 10.5)
    pdf.para(5.5, header.issuer.name, "L")
    return bytes(pdf.output())

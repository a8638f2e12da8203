"""The whole Piano di Zona as PDF and DOCX: a title page with the table of contents, one page break per chapter,
headings by level (chapters, paragraphs) and page numbers in the footer.

PDF: reportlab's `TableOfContents` filled by `multiBuild` (each heading notifies its page and adds a bookmark
to the outline); the footer (fingerprint, verification address, "Pagina n di m") is drawn by the page
template. DOCX: Word's heading styles, a TOC field (Word and LibreOffice fill it in when the file is opened:
`updateFields` is set) and PAGE / NUMPAGES fields in the footer. Both embed the canonical JSON exactly like
`export.py`, so a copy is verified the same way.
"""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

import docx
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
)
from reportlab.platypus.tableofcontents import TableOfContents

from . import document, export

KIND = "piano_di_zona"
TOC_TITLE = "Indice"
TOC_INSTRUCTION = 'TOC \\o "1-2" \\h \\z \\u'
TOC_PLACEHOLDER = "Indice dei capitoli: si aggiorna all'apertura del documento (oppure con il tasto F9)."


def handles(content: dict[str, Any]) -> bool:
    return content.get("kind") == KIND


def _level(section: dict[str, Any]) -> int:
    return 2 if section.get("level") == 2 else 1


# ---------------------------------------------------------------------------------------------- PDF


class _PlanTemplate(BaseDocTemplate):
    """Headings report themselves to the table of contents and the outline; the page template numbers pages."""

    def __init__(self, buffer: BytesIO, *, fingerprint: str, verify_url: str, **kwargs: Any) -> None:
        super().__init__(buffer, **kwargs)
        self._fingerprint, self._verify_url = fingerprint, verify_url
        self._pages_last_pass: int | None = None
        self._total: int | None = None
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="testo")
        self.addPageTemplates([PageTemplate(id="pagina", frames=[frame], onPageEnd=self._footer)])

    def beforeDocument(self) -> None:  # noqa: N802 - reportlab's name; called at the start of every pass
        self._total = self._pages_last_pass

    def _footer(self, canvas: Any, doc: Any) -> None:
        self._pages_last_pass = doc.page
        width, _height = A4
        canvas.saveState()
        canvas.setStrokeColor(colors.grey)
        canvas.setLineWidth(0.3)
        canvas.line(self.leftMargin, 1.55 * cm, width - self.rightMargin, 1.55 * cm)
        canvas.setFillColor(colors.HexColor("#333333"))
        canvas.setFont("Helvetica", 7.5)
        canvas.drawString(self.leftMargin, 1.15 * cm, f"Impronta SHA-256: {self._fingerprint}")
        canvas.drawString(self.leftMargin, 0.8 * cm, f"Verifica: {self._verify_url}")
        number = f"Pagina {doc.page}" + (f" di {self._total}" if self._total else "")
        canvas.drawRightString(width - self.rightMargin, 1.15 * cm, number)
        canvas.restoreState()

    def afterFlowable(self, flowable: Any) -> None:  # noqa: N802 - reportlab's name
        level = getattr(flowable, "pdz_toc_level", None)
        if level is None:
            return
        text = flowable.getPlainText()
        key = flowable.pdz_key
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
        self.notify("TOCEntry", (level, escape(text), self.page, key))


def _heading(text: str, style: ParagraphStyle, level: int, number: int) -> Paragraph:
    paragraph = export._p(text, style)
    paragraph.pdz_toc_level = level  # type: ignore[attr-defined]
    paragraph.pdz_key = f"capitolo-{number}"  # type: ignore[attr-defined]  # the same in every pass
    return paragraph


def _pdf_styles() -> dict[str, ParagraphStyle]:
    styles = export._styles()
    styles["chapter"] = ParagraphStyle(
        "PdzChapter", parent=styles["heading"], fontSize=16, leading=20, spaceBefore=0, spaceAfter=10
    )
    styles["paragraph"] = ParagraphStyle(
        "PdzParagraph", parent=styles["heading"], fontSize=12.5, leading=16, spaceBefore=12, spaceAfter=4
    )
    styles["toc_title"] = ParagraphStyle("PdzTocTitle", parent=styles["chapter"], spaceBefore=14)
    return styles


def _toc() -> TableOfContents:
    toc = TableOfContents()
    toc.dotsMinLevel = 0
    toc.levelStyles = [
        ParagraphStyle(
            "PdzToc1",
            fontName="Helvetica-Bold",
            fontSize=10.5,
            leading=14,
            leftIndent=0,
            firstLineIndent=0,
            spaceBefore=5,
        ),
        ParagraphStyle(
            "PdzToc2", fontName="Helvetica", fontSize=9.5, leading=12.5, leftIndent=14, firstLineIndent=0
        ),
    ]
    return toc


def to_pdf(content: dict[str, Any], *, fingerprint: str, status_line: str, verify_url: str) -> bytes:
    styles = _pdf_styles()
    available = A4[0] - 2 * export._MARGIN
    title = content.get("title", "")
    story: list[Any] = [export._p(title, styles["title"])]
    if content.get("subtitle"):
        story.append(export._p(content["subtitle"], styles["subtitle"]))
    if status_line:
        story.append(export._p(status_line, styles["status"]))
    story += [export._p(TOC_TITLE, styles["toc_title"]), _toc()]
    for number, section in enumerate(content.get("sections", [])):
        level = _level(section)
        if level == 1:
            story += [PageBreak(), _heading(section.get("heading", ""), styles["chapter"], 0, number)]
        else:
            story.append(_heading(section.get("heading", ""), styles["paragraph"], 1, number))
        for block in section.get("blocks", []):
            if block.get("type") == "field":
                label = export._p(block.get("label", ""), styles["label"])
                story.append(KeepTogether([label, export._p(block.get("text", "") or "—", styles["body"])]))
            elif block.get("type") == "table":
                story.append(export._p(block.get("caption", ""), styles["caption"]))
                story.append(export._pdf_table(block, styles, available))
                story.append(Spacer(1, 0.2 * cm))
    buffer = BytesIO()
    template = _PlanTemplate(
        buffer,
        fingerprint=fingerprint,
        verify_url=verify_url,
        pagesize=A4,
        title=title,
        author=export.AUTHOR,
        subject=status_line,
        leftMargin=export._MARGIN,
        rightMargin=export._MARGIN,
        topMargin=export._MARGIN,
        bottomMargin=export._MARGIN + export._FOOTER_SPACE / 2,
    )
    template.multiBuild(story)

    return export.seal_pdf(buffer.getvalue(), content, title, status_line, fingerprint, verify_url)


# --------------------------------------------------------------------------------------------- DOCX


def _field_runs(paragraph: Any, instruction: str, shown: str) -> None:
    """A complex field (begin, instruction, separate, cached result, end) at the end of `paragraph`."""

    def char(kind: str) -> Any:
        run = paragraph.add_run()
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        if kind == "begin":
            element.set(qn("w:dirty"), "true")  # ask the reader to compute it on opening
        run._r.append(element)
        return run

    char("begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    char("separate")
    paragraph.add_run(shown)
    char("end")


def _update_fields_on_open(doc: Any) -> None:
    settings = doc.settings.element
    element = OxmlElement("w:updateFields")
    element.set(qn("w:val"), "true")
    settings.append(element)


def to_docx(content: dict[str, Any], *, fingerprint: str, status_line: str, verify_url: str) -> bytes:
    x = export._x
    doc = docx.Document()
    title = content.get("title", "")
    props = doc.core_properties
    props.title, props.author, props.subject = x(title)[:255], export.AUTHOR, x(status_line)[:255]
    props.keywords = f"SHA-256 {fingerprint}"
    doc.add_heading(x(title), 0)
    if content.get("subtitle"):
        doc.add_paragraph(x(content["subtitle"]), style="Subtitle")
    if status_line:
        doc.add_paragraph().add_run(x(status_line)).italic = True
    toc_title = doc.add_paragraph()
    toc_title.add_run(TOC_TITLE).bold = True
    _field_runs(doc.add_paragraph(), TOC_INSTRUCTION, TOC_PLACEHOLDER)
    _update_fields_on_open(doc)
    for section in content.get("sections", []):
        level = _level(section)
        heading = doc.add_heading(x(section.get("heading", "")), level)
        if level == 1:
            heading.paragraph_format.page_break_before = True
        for block in section.get("blocks", []):
            if block.get("type") == "field":
                label = doc.add_paragraph()
                label.add_run(x(block.get("label", ""))).bold = True
                label.paragraph_format.keep_with_next = True
                for text in re.split(r"\n\s*\n", x(block.get("text", "")) or "—"):
                    doc.add_paragraph(text)
            elif block.get("type") == "table":
                columns, rows, total = export._table_grid(block)
                caption = doc.add_paragraph(style="Caption")
                caption.add_run(x(block.get("caption", "")))
                caption.paragraph_format.keep_with_next = True
                table = doc.add_table(rows=0, cols=len(columns))
                table.style = "Table Grid"
                export._docx_row(table.add_row(), columns, bold=True)
                for values in rows:
                    export._docx_row(table.add_row(), values, bold=False)
                if total is not None:
                    export._docx_row(table.add_row(), total, bold=True)
                doc.add_paragraph()

    for section_ in doc.sections:
        footer = section_.footer
        numbers = footer.paragraphs[0]
        numbers.add_run("Pagina ")
        _field_runs(numbers, "PAGE", "1")
        numbers.add_run(" di ")
        _field_runs(numbers, "NUMPAGES", "1")
        stamp = footer.add_paragraph()
        stamp.add_run(f"Impronta SHA-256: {fingerprint}\nVerifica: {x(verify_url)}")
        for paragraph in footer.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(7.5)
    closing = doc.add_paragraph()
    closing.add_run("Impronta SHA-256 del contenuto approvato: ").bold = True
    closing.add_run(fingerprint)
    closing.add_run(f"\nVerifica: {x(verify_url)}")

    part = Part(
        PackURI(export.DOCX_PARTNAME), "application/json", document.canonical_bytes(content), doc.part.package
    )
    doc.part.relate_to(part, export.CONTENT_RELTYPE)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()

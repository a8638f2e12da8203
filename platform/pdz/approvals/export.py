"""A frozen document as PDF and DOCX, each carrying its fingerprint and its exact canonical JSON.

Both files show the fingerprint and the verification address on every page and embed the canonical bytes
(`document.canonical_bytes`), so an uploaded copy can be checked without trusting what it displays: take
`embedded_content(upload)`, hash it, compare with the approved version's fingerprint.
PDF: reportlab (BSD) lays it out, pypdf (BSD-3) attaches `contenuto-pdz.json` and sets the metadata.
DOCX: python-docx (MIT); the JSON is a package part related from the document with `CONTENT_RELTYPE`.
"""

from __future__ import annotations

import functools
import re
import zipfile
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.shared import Pt
from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from . import document

ATTACHMENT_NAME = "contenuto-pdz.json"
DOCX_PARTNAME = "/customXml/pdz-content.json"
CONTENT_RELTYPE = "https://pdz.ambito-cremasco.it/rel/content"
AUTHOR = "PdZ Ambito Cremasco"

# "1.234,00 €", "1.234,00", "-50,00 €", "€ 12": amounts, shown right-aligned (a plain "2026" or "001" is not).
_AMOUNT = re.compile(r"^(€\s?)?[-+−]?(\d{1,3}(\.\d{3})+|\d+)(,\d{1,2})?(\s?€)?$")
# Characters XML 1.0 forbids (form feeds and vertical tabs pasted from word processors): lxml refuses them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_MARGIN = 2 * cm
_FOOTER_SPACE = 1.4 * cm
_CELL_SIZE = 9


def _is_amount(text: str) -> bool:
    text = text.strip()
    return bool(_AMOUNT.match(text)) and ("," in text or "€" in text)


def _table_grid(block: dict[str, Any]) -> tuple[list[str], list[list[str]], list[str] | None]:
    """Columns, rows and total padded to one width, so ragged input still makes a rectangular table."""
    columns = [str(c) for c in block.get("columns") or []]
    rows = [[str(c) for c in row] for row in block.get("rows") or []]
    total = [str(c) for c in block["total"]] if block.get("total") else None
    width = max([len(columns), *(len(r) for r in rows), len(total or []), 1])

    def pad(cells: list[str]) -> list[str]:
        return cells + [""] * (width - len(cells))

    return pad(columns), [pad(r) for r in rows], pad(total) if total is not None else None


# ---------------------------------------------------------------------------------------------- PDF


class _FooterCanvas(pdfcanvas.Canvas):
    """Holds every page until the end so each footer can say "Pagina n di m"."""

    def __init__(self, *args: Any, fingerprint: str, verify_url: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fingerprint, self._verify_url = fingerprint, verify_url
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width, _height = self._pagesize
        self.saveState()
        self.setStrokeColor(colors.grey)
        self.setLineWidth(0.3)
        self.line(_MARGIN, 1.55 * cm, width - _MARGIN, 1.55 * cm)
        self.setFillColor(colors.HexColor("#333333"))
        self.setFont("Helvetica", 7.5)
        self.drawString(_MARGIN, 1.15 * cm, f"Impronta SHA-256: {self._fingerprint}")
        self.drawString(_MARGIN, 0.8 * cm, f"Verifica: {self._verify_url}")
        self.drawRightString(width - _MARGIN, 1.15 * cm, f"Pagina {number} di {total}")
        self.restoreState()


def _styles() -> dict[str, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    body = ParagraphStyle(
        "PdzBody", parent=sheet["BodyText"], fontName="Helvetica", fontSize=10, leading=13.5
    )
    cell = ParagraphStyle(
        "PdzCell", parent=body, fontSize=_CELL_SIZE, leading=_CELL_SIZE + 2.5, spaceBefore=0, spaceAfter=0
    )
    return {
        "title": ParagraphStyle("PdzTitle", parent=sheet["Title"], fontSize=18, leading=22),
        "subtitle": ParagraphStyle("PdzSubtitle", parent=sheet["Heading3"], alignment=1, spaceAfter=4),
        "status": ParagraphStyle(
            "PdzStatus", parent=body, fontName="Helvetica-Oblique", alignment=1, spaceAfter=10
        ),
        "heading": ParagraphStyle("PdzHeading", parent=sheet["Heading2"], spaceBefore=12),
        "label": ParagraphStyle(
            "PdzLabel", parent=body, fontName="Helvetica-Bold", spaceBefore=6, spaceAfter=1
        ),
        "body": body,
        "caption": ParagraphStyle(
            "PdzCaption", parent=body, fontName="Helvetica-Bold", spaceBefore=8, spaceAfter=3
        ),
        "cell": cell,
        "cell_right": ParagraphStyle("PdzCellRight", parent=cell, alignment=TA_RIGHT),
        "cell_bold": ParagraphStyle("PdzCellBold", parent=cell, fontName="Helvetica-Bold"),
        "cell_bold_right": ParagraphStyle(
            "PdzCellBoldRight", parent=cell, fontName="Helvetica-Bold", alignment=TA_RIGHT
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text or "").replace("\r\n", "\n").replace("\n", "<br/>"), style)


def _column_widths(grid: list[list[str]], bold_rows: set[int], available: float) -> list[float]:
    """Columns as wide as their text when it fits; otherwise each keeps its longest word (a whole amount) and
    the rest of the width goes to the columns that need it most, where their text wraps."""
    padding = 12  # the table's default 6pt left and right padding
    natural, minimum = [0.0] * len(grid[0]), [0.0] * len(grid[0])
    for r, row in enumerate(grid):
        font = "Helvetica-Bold" if r in bold_rows else "Helvetica"
        for i, value in enumerate(row):
            lines = value.splitlines() or [""]
            natural[i] = max(natural[i], max(stringWidth(line, font, _CELL_SIZE) for line in lines) + padding)
            words = [value] if _is_amount(value) else value.split() or [""]
            minimum[i] = max(minimum[i], max(stringWidth(w, font, _CELL_SIZE) for w in words) + padding)
    minimum = [min(m, available * 0.4) for m in minimum]
    if sum(natural) <= available:
        return [available * n / sum(natural) for n in natural]
    if sum(minimum) >= available:
        return [available * m / sum(minimum) for m in minimum]
    spare, wanted = available - sum(minimum), [n - m for n, m in zip(natural, minimum, strict=True)]
    return [m + spare * w / sum(wanted) for m, w in zip(minimum, wanted, strict=True)]


def _pdf_table(block: dict[str, Any], styles: dict[str, ParagraphStyle], available: float) -> Table:
    columns, rows, total = _table_grid(block)

    def cells(values: list[str], bold: bool) -> list[Paragraph]:
        key = "cell_bold" if bold else "cell"
        return [_p(v, styles[key + "_right" if _is_amount(v) else key]) for v in values]

    data = [cells(columns, True)] + [cells(r, False) for r in rows]
    if total is not None:
        data.append(cells(total, True))
    grid = [columns, *rows, *([total] if total is not None else [])]
    bold_rows = {0, len(grid) - 1} if total is not None else {0}
    table = Table(
        data, colWidths=_column_widths(grid, bold_rows, available), repeatRows=1, splitInRow=1, hAlign="LEFT"
    )
    commands: list[Any] = [
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
    ]
    if total is not None:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f6f6f6")))
    table.setStyle(TableStyle(commands))
    return table


def to_pdf(content: dict, *, fingerprint: str, status_line: str, verify_url: str) -> bytes:
    styles = _styles()
    available = A4[0] - 2 * _MARGIN
    title = content.get("title", "")
    story: list[Any] = [_p(title, styles["title"])]
    if content.get("subtitle"):
        story.append(_p(content["subtitle"], styles["subtitle"]))
    if status_line:
        story.append(_p(status_line, styles["status"]))
    for section in content.get("sections", []):
        story.append(_p(section.get("heading", ""), styles["heading"]))
        for block in section.get("blocks", []):
            if block.get("type") == "field":
                label = _p(block.get("label", ""), styles["label"])
                # Markdown is shown as its source: line breaks kept, nothing stripped.
                story.append(KeepTogether([label, _p(block.get("text", "") or "—", styles["body"])]))
            elif block.get("type") == "table":
                story.append(_p(block.get("caption", ""), styles["caption"]))
                story.append(_pdf_table(block, styles, available))
                story.append(Spacer(1, 0.2 * cm))
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author=AUTHOR,
        subject=status_line,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + _FOOTER_SPACE / 2,
    )
    doc.build(
        story, canvasmaker=functools.partial(_FooterCanvas, fingerprint=fingerprint, verify_url=verify_url)
    )

    return seal_pdf(buffer.getvalue(), content, title, status_line, fingerprint, verify_url)


def seal_pdf(
    pdf: bytes, content: document.Content, title: str, status_line: str, fingerprint: str, verify_url: str
) -> bytes:
    """The rendered PDF with the canonical JSON attached and the fingerprint in its metadata (every export)."""
    writer = PdfWriter(clone_from=PdfReader(BytesIO(pdf)))
    writer.add_attachment(ATTACHMENT_NAME, document.canonical_bytes(content))
    writer.add_metadata(
        {
            "/Title": title,
            "/Author": AUTHOR,
            "/Subject": status_line,
            "/PdzFingerprint": fingerprint,
            "/PdzVerifyUrl": verify_url,
        }
    )
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


# --------------------------------------------------------------------------------------------- DOCX


def _x(text: str) -> str:
    return _XML_INVALID.sub("", (text or "").replace("\r\n", "\n"))


def _docx_row(row: Any, values: list[str], *, bold: bool) -> None:
    for cell, value in zip(row.cells, values, strict=True):
        paragraph = cell.paragraphs[0]
        paragraph.add_run(_x(value)).bold = bold or None
        if _is_amount(value):
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def to_docx(content: dict, *, fingerprint: str, status_line: str, verify_url: str) -> bytes:
    doc = docx.Document()
    title = content.get("title", "")
    props = doc.core_properties
    props.title, props.author, props.subject = _x(title)[:255], AUTHOR, _x(status_line)[:255]
    props.keywords = f"SHA-256 {fingerprint}"
    doc.add_heading(_x(title), 0)
    if content.get("subtitle"):
        doc.add_paragraph(_x(content["subtitle"]), style="Subtitle")
    if status_line:
        doc.add_paragraph().add_run(_x(status_line)).italic = True
    for section in content.get("sections", []):
        doc.add_heading(_x(section.get("heading", "")), 1)
        for block in section.get("blocks", []):
            if block.get("type") == "field":
                label = doc.add_paragraph()
                label.add_run(_x(block.get("label", ""))).bold = True
                label.paragraph_format.keep_with_next = True
                # Blank lines separate paragraphs; single newlines become line breaks (python-docx's <w:br/>).
                for text in re.split(r"\n\s*\n", _x(block.get("text", "")) or "—"):
                    doc.add_paragraph(text)
            elif block.get("type") == "table":
                columns, rows, total = _table_grid(block)
                caption = doc.add_paragraph(style="Caption")
                caption.add_run(_x(block.get("caption", "")))
                caption.paragraph_format.keep_with_next = True
                table = doc.add_table(rows=0, cols=len(columns))
                table.style = "Table Grid"
                _docx_row(table.add_row(), columns, bold=True)
                for values in rows:
                    _docx_row(table.add_row(), values, bold=False)
                if total is not None:
                    _docx_row(table.add_row(), total, bold=True)
                doc.add_paragraph()

    footer_text = f"Impronta SHA-256: {fingerprint}\nVerifica: {_x(verify_url)}"
    for section_ in doc.sections:
        paragraph = section_.footer.paragraphs[0]
        run = paragraph.add_run(footer_text)
        run.font.size = Pt(7.5)
    closing = doc.add_paragraph()
    closing.add_run("Impronta SHA-256 del contenuto approvato: ").bold = True
    closing.add_run(fingerprint)
    closing.add_run(f"\nVerifica: {_x(verify_url)}")

    part = Part(
        PackURI(DOCX_PARTNAME), "application/json", document.canonical_bytes(content), doc.part.package
    )
    doc.part.relate_to(part, CONTENT_RELTYPE)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------------------ reading back


def _pdf_attachment(data: bytes) -> bytes | None:
    found = PdfReader(BytesIO(data)).attachments.get(ATTACHMENT_NAME)
    return bytes(found[0]) if found else None


MAX_PART_BYTES = 5 * 1024 * 1024  # far above any real plan; an upload claiming more is refused unread


def _docx_part(data: bytes) -> bytes | None:
    """Only the one part is read, and only if its declared size is sane: a public upload may be a zip bomb."""
    with zipfile.ZipFile(BytesIO(data)) as archive:
        try:
            info = archive.getinfo(DOCX_PARTNAME.lstrip("/"))
        except KeyError:
            return None
        if info.file_size > MAX_PART_BYTES:
            return None
        with archive.open(info) as part:
            blob = part.read(MAX_PART_BYTES + 1)
        return blob if len(blob) <= MAX_PART_BYTES else None


def embedded_content(data: bytes) -> bytes | None:
    """The canonical bytes an uploaded PDF, DOCX or JSON file carries; None for anything else or a damaged file."""
    try:
        if data.startswith(b"%PDF"):
            return _pdf_attachment(data)
        if data.startswith(b"PK") and zipfile.is_zipfile(BytesIO(data)):
            return _docx_part(data)
        if data.startswith(b"{"):
            return bytes(data)
    except (
        Exception
    ):  # garbage or damaged uploads make the libraries raise almost anything: that means "none"
        return None
    return None


def docx_tables(data: bytes) -> list[list[list[str]]]:
    return [
        [[cell.text for cell in row.cells] for row in table.rows]
        for table in docx.Document(BytesIO(data)).tables
    ]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


MAX_ARCHIVE_BYTES = 50 * 1024 * 1024
_URL = re.compile(r"https?://\S+")


def _normalised(text: str) -> str:
    return " ".join(_URL.sub("", text).split())


def visible_text(data: bytes) -> str | None:
    """The text a reader sees in a PDF or DOCX (URLs removed, whitespace collapsed); None for other files."""
    try:
        if data.startswith(b"%PDF"):
            return _normalised(pdf_text(data))
        if data.startswith(b"PK") and zipfile.is_zipfile(BytesIO(data)):
            with zipfile.ZipFile(BytesIO(data)) as archive:
                if sum(i.file_size for i in archive.infolist()) > MAX_ARCHIVE_BYTES:
                    return None
            document_ = docx.Document(BytesIO(data))
            parts = [p.text for p in document_.paragraphs]
            parts += [cell.text for table in document_.tables for row in table.rows for cell in row.cells]
            return _normalised("\n".join(parts))
    except Exception:  # a damaged file has no readable text
        return None
    return None

"""Real files of every kind PdZ accepts, and files it must refuse, made here (no binary fixtures)."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select


def pdf(text: str = "Verbale di prova") -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def image(fmt: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def docx() -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    document.add_paragraph("Relazione del tavolo")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _zip(entries: dict[str, bytes], first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first is not None:
            archive.writestr(zipfile.ZipInfo(first), entries.pop(first))  # stored, first: as ODF requires
        for name, data in entries.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def ooxml(part: str) -> bytes:
    """A minimal OOXML package (Excel: xl/workbook.xml, PowerPoint: ppt/presentation.xml)."""
    return _zip({"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>", part: b"<x/>"})


def odf(mime: str) -> bytes:
    return _zip({"mimetype": mime.encode(), "content.xml": b"<office:document-content/>"}, first="mimetype")


def ole(stream: str) -> bytes:
    """An OLE compound file (as Word 97-2003, Excel 97-2003 … write) whose directory names `stream`."""
    sector = 512
    header = bytearray(sector)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 0x2C, 1)  # one FAT sector
    struct.pack_into("<I", header, 0x30, 1)  # the directory starts at sector 1
    struct.pack_into("<I", header, 0x38, 4096)
    struct.pack_into("<IIII", header, 0x3C, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    difat = [0] + [0xFFFFFFFF] * 108
    struct.pack_into("<109I", header, 0x4C, *difat)
    fat = struct.pack("<128I", 0xFFFFFFFD, 0xFFFFFFFE, *([0xFFFFFFFF] * 126))
    directory = bytearray(sector)
    for index, (name, kind) in enumerate([("Root Entry", 5), (stream, 2)]):
        encoded = name.encode("utf-16-le")
        directory[index * 128 : index * 128 + len(encoded)] = encoded
        struct.pack_into("<HB", directory, index * 128 + 0x40, len(encoded) + 2, kind)
    return bytes(header) + fat + bytes(directory)


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (neutral file name, bytes, the Content-Type PdZ must serve it with)
ACCEPTED: dict[str, tuple[str, Any, str]] = {
    "pdf": ("documento.pdf", lambda: pdf(), "application/pdf"),
    "png": ("immagine.png", lambda: image("PNG"), "image/png"),
    "jpeg": ("foto.jpg", lambda: image("JPEG"), "image/jpeg"),
    "gif": ("animazione.gif", lambda: image("GIF"), "image/gif"),
    "webp": ("foto.webp", lambda: image("WEBP"), "image/webp"),
    "docx": (
        "relazione.docx",
        docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": ("bilancio.xlsx", lambda: ooxml("xl/workbook.xml"), XLSX_MIME),
    "pptx": (
        "slide.pptx",
        lambda: ooxml("ppt/presentation.xml"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "odt": (
        "testo.odt",
        lambda: odf("application/vnd.oasis.opendocument.text"),
        "application/vnd.oasis.opendocument.text",
    ),
    "ods": (
        "foglio.ods",
        lambda: odf("application/vnd.oasis.opendocument.spreadsheet"),
        "application/vnd.oasis.opendocument.spreadsheet",
    ),
    "odp": (
        "presentazione.odp",
        lambda: odf("application/vnd.oasis.opendocument.presentation"),
        "application/vnd.oasis.opendocument.presentation",
    ),
    "doc": ("vecchio.doc", lambda: ole("WordDocument"), "application/msword"),
    "xls": ("vecchio.xls", lambda: ole("Workbook"), "application/vnd.ms-excel"),
}

# Files whose name says an accepted kind while their content is something else.
DISGUISED: dict[str, tuple[str, bytes]] = {
    "html named .pdf": ("verbale.pdf", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
    "svg named .png": (
        "logo.png",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ),
    "plain zip named .docx": ("relazione.docx", _zip({"leggimi.txt": b"ciao"})),
    "OLE installer named .doc": ("vecchio.doc", ole("\x05SummaryInformation")),
    "executable named .xlsx": ("bilancio.xlsx", b"\x7fELF\x02\x01\x01" + b"\x00" * 64),
    "text named .odt": ("testo.odt", b"Solo testo, niente documento."),
}


def upload(client: Any, url: str, name: str, data: bytes, key: str | None = None, **fields: str) -> Any:
    form: dict[str, Any] = {"file": (io.BytesIO(data), name), **fields}
    if key is not None:
        form["idempotency_key"] = key
    return client.post(url, data=form, content_type="multipart/form-data")


def count(db: Any) -> int:
    from pdz.attachments.models import Attachment

    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(Attachment)) or 0)


def audit_actions(db: Any, action: str) -> list[Any]:
    from pdz.audit import AuditEntry

    db.session.expire_all()
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
    )


def stored(folder: Path) -> list[Path]:
    """Content files under the uploads folder (temporary files excluded)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))

"""What a file is, from its bytes (never from its name): the kinds PdZ accepts as attachments.

Plain magic-number checks plus a look inside the containers, with the standard library only:
- PDF, PNG, JPEG, GIF and WebP by their signature;
- OOXML (DOCX, XLSX, PPTX) and OpenDocument (ODT, ODS, ODP) are ZIP archives: the archive must open and hold
  the part that makes it that kind of document (`word/document.xml`…, the `mimetype` entry of ODF);
- DOC, XLS and PPT are OLE compound files: the directory must name the stream of that program
  (`WordDocument`, `Workbook`/`Book`, `PowerPoint Document`); other OLE files (installers, …) are refused.
Everything else (HTML, SVG, scripts, executables, plain ZIPs, text) is refused. The general-purpose detection
libraries were tried and rejected: they call any ZIP a DOCX and can not tell an installer from a document.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class FileKind:
    extension: str  # the extension a download gets when the name has another one
    mime: str
    label: str  # shown in lists, Italian, not translated (format names)


PDF = FileKind("pdf", "application/pdf", "PDF")
PNG = FileKind("png", "image/png", "Immagine PNG")
JPEG = FileKind("jpg", "image/jpeg", "Immagine JPEG")
GIF = FileKind("gif", "image/gif", "Immagine GIF")
WEBP = FileKind("webp", "image/webp", "Immagine WebP")
DOCX = FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word")
XLSX = FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel")
PPTX = FileKind(
    "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint"
)
ODT = FileKind("odt", "application/vnd.oasis.opendocument.text", "Documento OpenDocument")
ODS = FileKind("ods", "application/vnd.oasis.opendocument.spreadsheet", "Foglio OpenDocument")
ODP = FileKind("odp", "application/vnd.oasis.opendocument.presentation", "Presentazione OpenDocument")
DOC = FileKind("doc", "application/msword", "Word 97-2003")
XLS = FileKind("xls", "application/vnd.ms-excel", "Excel 97-2003")
PPT = FileKind("ppt", "application/vnd.ms-powerpoint", "PowerPoint 97-2003")

ALL = (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, ODT, ODS, ODP, DOC, XLS, PPT)
BY_MIME = {kind.mime: kind for kind in ALL}

_OOXML = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}
_ODF = {ODT.mime: ODT, ODS.mime: ODS, ODP.mime: ODP}
_OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_OLE_STREAMS = {"worddocument": DOC, "workbook": XLS, "book": XLS, "powerpoint document": PPT}


def detect(data: bytes) -> FileKind | None:
    """The accepted kind of these bytes, or None when PdZ does not accept them."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04"):
        return _zip_document(data)
    if data.startswith(_OLE_SIGNATURE):
        return _ole_document(data)
    return None


def _zip_document(data: bytes) -> FileKind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mime = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                return _ODF.get(mime)
            if "[Content_Types].xml" in names:
                for part, kind in _OOXML.items():
                    if part in names:
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError, EOFError):
        return None
    return None


def _ole_document(data: bytes) -> FileKind | None:
    """Read the OLE directory (following the FAT chain) and look for a known program's stream."""
    try:
        for name in _ole_names(data):
            kind = _OLE_STREAMS.get(name.lower())
            if kind is not None:
                return kind
    except (struct.error, IndexError, ValueError):
        return None
    return None


def _ole_names(data: bytes) -> list[str]:
    sector_shift = struct.unpack_from("<H", data, 0x1E)[0]
    if sector_shift not in (9, 12):
        raise ValueError("bad sector size")
    size = 1 << sector_shift
    fat_sectors, first_directory = struct.unpack_from("<II", data, 0x2C)
    difat = list(struct.unpack_from("<109I", data, 0x4C))
    next_difat, difat_count = struct.unpack_from("<II", data, 0x44)
    for _ in range(min(difat_count, 1000)):  # DIFAT sectors beyond the header's 109 entries
        if next_difat >= 0xFFFFFFFA:
            break
        offset = (next_difat + 1) * size
        entries = struct.unpack_from(f"<{size // 4}I", data, offset)
        difat.extend(entries[:-1])
        next_difat = entries[-1]
    fat: list[int] = []
    for sector in difat[: min(fat_sectors, 10_000)]:
        if sector >= 0xFFFFFFFA:
            continue
        fat.extend(struct.unpack_from(f"<{size // 4}I", data, (sector + 1) * size))
    names: list[str] = []
    sector, seen = first_directory, set[int]()
    while sector < 0xFFFFFFFA and sector not in seen and len(seen) < 10_000:
        seen.add(sector)
        offset = (sector + 1) * size
        for entry in range(size // 128):
            start = offset + entry * 128
            length = struct.unpack_from("<H", data, start + 0x40)[0]
            if 2 <= length <= 64:
                names.append(data[start : start + length - 2].decode("utf-16-le", "replace"))
        sector = fat[sector] if sector < len(fat) else 0xFFFFFFFE
    return names

"""PDF and DOCX exports of a frozen document: they render, show the fingerprint, and give back the exact JSON."""

from __future__ import annotations

import hashlib
import zipfile
from io import BytesIO
from typing import Any

import docx
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from pdz.approvals import document, export

STATUS = "Approvato dall'Assemblea dei Sindaci il 12/11/2026"
VERIFY = "https://pdz.ambito-cremasco.it/verifica/scheda-7-v3"

BUDGET_ROWS = [
    ["FNPS – Fondo Nazionale Politiche Sociali", "2026", "120.000,00 €"],
    ["Fondo Povertà / QSFP", "2026", "245.500,00 €"],
    ["PON Inclusione – Avviso 1/2022", "2026", "38.250,00 €"],
    ["Fondo Sociale Regionale", "2026", "64.000,00 €"],
    ["Quota pro capite dei Comuni (48 comuni)", "2026", "91.320,50 €"],
    ["Fondazione Comunitaria della Provincia di Cremona", "2026", "15.000,00 €"],
]
BUDGET_TOTAL = ["Totale", "", "574.070,50 €"]


def _content() -> dict[str, Any]:
    beneficiaries = [
        [
            f"{i:03d}",
            ["Crema", "Pandino", "Soncino", "Castelleone", "Rivolta d'Adda"][i % 5],
            "Nucleo monoparentale con minori, in carico al servizio sociale di base"
            if i % 7 == 0
            else "Adulto solo",
            f"{(i * 137) % 9000 + 250:,}".replace(",", ".") + ",00 €",
        ]
        for i in range(1, 121)
    ]
    return document.document(
        "scheda",
        "Contrasto alla povertà e all'emarginazione",
        "Tavolo Povertà – Piano di Zona 2025-2027",
        {"card_id": 7, "version": 3},
        [
            document.section(
                "Obiettivo",
                [
                    document.field(
                        "Descrizione",
                        "Ridurre l'area della povertà nei 48 comuni dell'Ambito: "
                        'presa in carico "integrata" & reti <script>alert(1)</script> con gli ETS.\n'
                        "Seconda riga: più è già perché.",
                    ),
                    document.field(
                        "Azioni",
                        "## Azioni previste\n\n- Sportello unico per l'inclusione\n"
                        "- *Pronto intervento sociale* H24\n\n1. Emporio solidale a Crema",
                        markdown=True,
                    ),
                    document.field("Note", ""),
                ],
            ),
            document.section(
                "Budget",
                [
                    document.table(
                        "Risorse per fonte di finanziamento",
                        ["Fonte", "Anno", "Importo"],
                        BUDGET_ROWS,
                        BUDGET_TOTAL,
                    ),
                ],
            ),
            document.section(
                "Beneficiari",
                [
                    document.table(
                        "Nuclei presi in carico", ["N.", "Comune", "Tipologia", "Contributo"], beneficiaries
                    ),
                ],
            ),
        ],
        data={"budget_total_cents": 57407050},
    )


@pytest.fixture(scope="module")
def content() -> dict[str, Any]:
    return _content()


@pytest.fixture(scope="module")
def fingerprint(content: dict[str, Any]) -> str:
    return document.fingerprint(content)


@pytest.fixture(scope="module")
def pdf(content: dict[str, Any], fingerprint: str) -> bytes:
    return export.to_pdf(content, fingerprint=fingerprint, status_line=STATUS, verify_url=VERIFY)


@pytest.fixture(scope="module")
def docx_bytes(content: dict[str, Any], fingerprint: str) -> bytes:
    return export.to_docx(content, fingerprint=fingerprint, status_line=STATUS, verify_url=VERIFY)


def _ink_share(image: Any) -> float:
    gray = image.convert("L")
    histogram = gray.histogram()
    return sum(histogram[:200]) / (gray.width * gray.height)


def test_pdf_renders_first_and_last_page_with_ink(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF")
    pages = pdfium.PdfDocument(pdf)
    try:
        assert len(pages) >= 2
        for index in (0, len(pages) - 1):
            image = pages[index].render(scale=1).to_pil()
            assert image.width > 500 and image.height > 800  # A4 at 72 dpi
            assert _ink_share(image) > 0.005, f"page {index + 1} looks blank"
    finally:
        pages.close()


def test_pdf_text_shows_content_and_fingerprint_on_every_page(pdf: bytes, fingerprint: str) -> None:
    text = export.pdf_text(pdf)
    assert "Contrasto alla povertà e all'emarginazione" in text
    assert "120.000,00 €" in text and "574.070,50 €" in text
    assert "FNPS – Fondo Nazionale Politiche Sociali" in text
    assert "<script>alert(1)</script>" in text and "& reti" in text
    assert "## Azioni previste" in text  # Markdown shown as its source
    assert STATUS in text
    pages = PdfReader(BytesIO(pdf)).pages
    for number, page in enumerate(pages, start=1):
        page_text = page.extract_text()
        assert "Impronta SHA-256" in page_text and fingerprint in page_text, number
        assert f"Pagina {number} di {len(pages)}" in page_text
        assert VERIFY in page_text


def test_pdf_repeats_the_header_of_a_table_split_across_pages(pdf: bytes) -> None:
    pages = PdfReader(BytesIO(pdf)).pages
    with_rows = [p.extract_text() for p in pages if "Adulto solo" in p.extract_text()]
    assert len(with_rows) >= 2
    assert all("Contributo" in text and "Tipologia" in text for text in with_rows)


def test_pdf_metadata_carries_title_and_fingerprint(
    pdf: bytes, content: dict[str, Any], fingerprint: str
) -> None:
    meta = PdfReader(BytesIO(pdf)).metadata
    assert meta is not None
    assert meta["/PdzFingerprint"] == fingerprint
    assert meta.title == content["title"]


@pytest.mark.parametrize("kind", ["pdf", "docx", "json"])
def test_embedded_content_is_the_canonical_json(
    kind: str, pdf: bytes, docx_bytes: bytes, content: dict[str, Any], fingerprint: str
) -> None:
    canonical = document.canonical_bytes(content)
    upload = {"pdf": pdf, "docx": docx_bytes, "json": canonical}[kind]
    embedded = export.embedded_content(upload)
    assert embedded == canonical
    assert hashlib.sha256(embedded).hexdigest() == fingerprint


def test_docx_tables_match_the_table_blocks_cell_by_cell(docx_bytes: bytes, content: dict[str, Any]) -> None:
    blocks = [b for s in content["sections"] for b in s["blocks"] if b["type"] == "table"]
    expected = [[b["columns"], *b["rows"], *([b["total"]] if b["total"] else [])] for b in blocks]
    assert export.docx_tables(docx_bytes) == expected


def test_docx_opens_with_headings_text_and_footer(
    docx_bytes: bytes, content: dict[str, Any], fingerprint: str
) -> None:
    doc = docx.Document(BytesIO(docx_bytes))
    paragraphs = [p for p in doc.paragraphs]
    assert paragraphs[0].style is not None and paragraphs[0].style.name == "Title"
    assert paragraphs[0].text == content["title"]
    headings = [p.text for p in paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert headings == ["Obiettivo", "Budget", "Beneficiari"]
    body = "\n".join(p.text for p in paragraphs)
    assert "<script>alert(1)</script>" in body and STATUS in body
    assert "Seconda riga: più è già perché." in body
    labels = [r.text for p in paragraphs for r in p.runs if r.bold]
    assert "Descrizione" in labels
    assert fingerprint in body.splitlines()[-2]  # closing paragraph
    for section in doc.sections:
        footer = "\n".join(p.text for p in section.footer.paragraphs)
        assert fingerprint in footer and VERIFY in footer


def _zip_without(data: bytes, name: str) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item, source.read(item.filename))
    return out.getvalue()


def _zip_replacing(data: bytes, name: str, change: Any) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            payload = source.read(item.filename)
            target.writestr(item, change(payload) if item.filename == name else payload)
    return out.getvalue()


def test_garbage_uploads_give_none(pdf: bytes, docx_bytes: bytes) -> None:
    plain_zip = BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("readme.txt", "niente da vedere")
    for garbage in [
        b"hello",
        b"",
        pdf[: len(pdf) // 3],
        b"%PDF-1.4\n%garbage",
        plain_zip.getvalue(),
        _zip_without(docx_bytes, "customXml/pdz-content.json"),
        docx_bytes[:2000],
        b"PK\x03\x04junk",
    ]:
        assert export.embedded_content(garbage) is None


def test_tampered_docx_content_no_longer_matches_the_fingerprint(docx_bytes: bytes, fingerprint: str) -> None:
    def flip(payload: bytes) -> bytes:
        at = payload.index(b"Ridurre")
        return payload[:at] + b"r" + payload[at + 1 :]

    tampered = _zip_replacing(docx_bytes, "customXml/pdz-content.json", flip)
    embedded = export.embedded_content(tampered)
    assert embedded is not None and b"ridurre l'area" in embedded
    assert document.fingerprint_bytes(embedded) != fingerprint


def test_awkward_content_still_exports() -> None:
    content = document.document(
        "verbale",
        "Verbale\x0b con tab\tverticale",
        "",
        {},
        [
            document.section("Vuota", []),
            document.section(
                "Tabelle",
                [
                    document.table("Irregolare", ["A", "B"], [["1"], ["1", "2", "3"]], None),
                    document.table("Senza colonne", [], [], None),
                    document.field("Lungo", "parola" * 200),
                    document.table(
                        "Celle lunghe",
                        ["Voce", "Importo"],
                        [
                            ["Descrizione molto lunga del servizio. " * 30, "1.000,00 €"],
                            ["Riga più alta di una pagina.\n" * 90, "2,00"],
                        ],
                        None,
                    ),
                ],
            ),
        ],
    )
    fp = document.fingerprint(content)
    pdf = export.to_pdf(content, fingerprint=fp, status_line="", verify_url=VERIFY)
    data = export.to_docx(content, fingerprint=fp, status_line="", verify_url=VERIFY)
    assert export.embedded_content(pdf) == export.embedded_content(data) == document.canonical_bytes(content)
    assert export.docx_tables(data)[:2] == [[["A", "B", ""], ["1", "", ""], ["1", "2", "3"]], [[""]]]
    assert len(PdfReader(BytesIO(pdf)).pages) >= 2

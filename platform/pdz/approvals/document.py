"""The canonical content of a document under approval, and its SHA-256 fingerprint.

Every kind of document (objective card, SWOT, minutes, Piano Operativo, Report Annuale, Piano di Zona) is
frozen as the same presentation-neutral structure, so one renderer serves the page, the PDF and the DOCX
and one diff compares any two versions:

    {"schema": 1, "kind": "scheda", "title": "...", "subtitle": "...", "ref": {...},
     "sections": [{"heading": "...", "blocks": [
         {"type": "field", "label": "...", "text": "...", "format": "plain" | "markdown"},
         {"type": "table", "caption": "...", "columns": ["..."], "rows": [["..."]], "total": ["..."] | None},
     ]}],
     "data": {...}}            # machine-readable figures (cents, ids) used to assemble plans; not rendered

All cell and field values are strings (amounts already formatted the Italian way). The fingerprint is the
SHA-256 of the canonical JSON: keys sorted, no insignificant whitespace, UTF-8.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SCHEMA = 1

Content = dict[str, Any]


def canonical_bytes(content: Content) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fingerprint_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint(content: Content) -> str:
    return fingerprint_bytes(canonical_bytes(content))


def field(label: str, text: str, *, markdown: bool = False) -> dict[str, Any]:
    return {
        "type": "field",
        "label": label,
        "text": text or "",
        "format": "markdown" if markdown else "plain",
    }


def table(
    caption: str, columns: list[str], rows: list[list[str]], total: list[str] | None = None
) -> dict[str, Any]:
    return {"type": "table", "caption": caption, "columns": columns, "rows": rows, "total": total}


def section(heading: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"heading": heading, "blocks": blocks}


def document(
    kind: str,
    title: str,
    subtitle: str,
    ref: dict[str, Any],
    sections: list[dict[str, Any]],
    data: dict[str, Any] | None = None,
) -> Content:
    return {
        "schema": SCHEMA,
        "kind": kind,
        "title": title,
        "subtitle": subtitle,
        "ref": ref,
        "sections": sections,
        "data": data or {},
    }


def flatten(content: Content) -> dict[str, str]:
    """Every rendered value keyed by a readable path, for comparing two versions block by block."""
    out: dict[str, str] = {"Titolo": content.get("title", ""), "Sottotitolo": content.get("subtitle", "")}
    for section_ in content.get("sections", []):
        heading = section_.get("heading", "")
        for block in section_.get("blocks", []):
            if block.get("type") == "field":
                out[f"{heading} › {block['label']}"] = block.get("text", "")
            elif block.get("type") == "table":
                lines = [" | ".join(block.get("columns", []))]
                lines += [" | ".join(row) for row in block.get("rows", [])]
                if block.get("total"):
                    lines.append(" | ".join(block["total"]))
                out[f"{heading} › {block['caption']}"] = "\n".join(lines)
    return out

"""The whole Piano di Zona (issue #15 point 3): chapters like the 2025-2027 plan, a submission gate on the cards
of the cycle, and PDF / DOCX exports with a table of contents, headings and page numbers.

Figures from the documents: the 2025-2027 plan (seed 001) has 13 objective cards; in the demo story 9 were
approved by the Assemblea dei Sindaci on 12 February 2026, one was sent back and the three of the Tavolo
Povertà are still drafts (approvals/demo.py). The chapters are those of 001's table of contents: 1 results of
the 2021-2023 plan, 2 context, 3 subjects and networks, 4 governance, 5 objectives, 6 evaluation system, annexes.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from html import unescape
from pathlib import Path
from typing import Any

import docx
import pypdfium2 as pdfium
from sqlalchemy import select

CHAPTERS = [
    "1. Esiti della programmazione 2021-2023",
    "2. Contesto e quadro della conoscenza",
    "3. Soggetti e reti del territorio",
    "4. La governance",
    "5. Gli obiettivi della programmazione 2025-2027",
    "6. Il sistema di valutazione",
    "Allegati",
]
REASON = "Scheda ancora in scrittura al tavolo: entrerà con la prima revisione del Piano."


def _plan(db: Any) -> Any:
    from pdz.approvals.models import PlanDocument

    return db.session.scalar(select(PlanDocument).where(PlanDocument.kind == "piano_di_zona"))


def _fingerprint(client: Any, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'data-testid="fingerprint">([0-9a-f]{64})<', page)
    assert found, page[:500]
    return found.group(1)


def _missing(db: Any) -> list[Any]:
    from pdz.approvals.models import Submission
    from pdz.cards.models import Card

    approved = set(
        db.session.scalars(
            select(Submission.document_id).where(
                Submission.document_kind == "scheda", Submission.status == "approvata"
            )
        )
    )
    cards = list(db.session.scalars(select(Card).order_by(Card.title)))
    return [c for c in cards if c.id not in approved]


def _exclude_all(client: Any, plan_id: int, cards: list[Any]) -> None:
    for card in cards:
        response = client.post(
            f"/piani/{plan_id}/esclusioni", data={"card_id": card.id, "reason": f"{REASON} ({card.id})"}
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:300]


def _submit(client: Any, plan_id: int) -> Any:
    url = f"/piani/{plan_id}"
    ppt = "Piano di Sviluppo del Polo Territoriale 2025-2027 di ASST di Crema"  # approved with it (chains)
    return client.post(
        f"{url}/invia", data={"fingerprint": _fingerprint(client, url), "asst_integration": ppt}
    )


def test_the_plan_is_refused_with_cards_missing_and_sent_once_each_is_approved_or_excluded(
    app: Any, db: Any, client_as: Any
) -> None:
    from pdz.approvals.models import PlanExclusion, Submission
    from pdz.audit import AuditEntry
    from pdz.cards.models import Card

    plan = _plan(db)
    cards = db.session.scalars(select(Card)).all()
    missing = _missing(db)
    assert len(cards) == 13 and len(missing) == 4  # 9 of the 13 cards approved

    for email in ("udp@example.org", "admin@example.org"):  # whoever sends it, administrators too
        client = client_as(email)
        refused = _submit(client, plan.id)
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422, text[:300]
        assert "4 schede su 13 non sono né approvate né escluse" in text
        for card in missing:
            assert f"«{card.title}»".replace("'", "&#39;") in text
        assert (
            db.session.scalar(select(Submission.id).where(Submission.document_kind == "piano_di_zona"))
            is None
        )

    udp = client_as("udp@example.org")
    no_reason = udp.post(f"/piani/{plan.id}/esclusioni", data={"card_id": missing[0].id, "reason": "   "})
    assert no_reason.status_code == 422
    assert "Indica il motivo" in no_reason.get_data(as_text=True)
    assert db.session.scalar(select(PlanExclusion.id)) is None
    approved = next(c for c in cards if c not in missing)
    not_excludable = udp.post(f"/piani/{plan.id}/esclusioni", data={"card_id": approved.id, "reason": REASON})
    assert not_excludable.status_code == 422 and "è approvata" in not_excludable.get_data(as_text=True)

    _exclude_all(udp, plan.id, missing[:3])
    still = _submit(udp, plan.id)
    assert still.status_code == 422
    text = still.get_data(as_text=True)
    assert "1 schede su 13" in text and missing[3].title.replace("'", "&#39;") in text

    # the last one is approved instead: through the chain, the Assemblea dei Sindaci voting as in the demo
    _approve(app, db, missing[3])
    sent = _submit(udp, plan.id)
    assert sent.status_code == 303, sent.get_data(as_text=True)[:300]
    sub = db.session.scalar(select(Submission).where(Submission.document_kind == "piano_di_zona"))
    content = json.loads(sub.content)
    assert content["data"]["chapters"] == CHAPTERS
    assert content["data"]["excluded"] == 3 and len(content["data"]["cards"]) == 10
    assert missing[3].id in {c["card_id"] for c in content["data"]["cards"]}
    excluded = next(s for s in content["sections"] if s["heading"].endswith("Schede escluse dal Piano"))
    rows = excluded["blocks"][0]["rows"]
    assert sorted(r[0] for r in rows) == sorted(c.title for c in missing[:3])
    assert all(r[2].startswith(REASON) for r in rows)
    audited = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "plan.card_excluded")).all()
    assert sorted(a.details["card_id"] for a in audited) == sorted(c.id for c in missing[:3])


def _approve(app: Any, db: Any, card: Any) -> None:
    """Test setup through the services: the card sent, examined by the UdP Integrato and voted by the Assemblea
    (the demo's own voting routine: about four mayors in five present, almost all in favour)."""
    from pdz.accounts.models import User
    from pdz.approvals import demo, services
    from pdz.approvals.models import DocKind
    from pdz.cards import queries as card_queries

    udp = db.session.scalar(select(User).where(User.email == "udp@example.org"))
    with app.test_request_context(base_url="http://localhost"):
        loaded = card_queries.card_page(card.id)
        _content, fingerprint = services.current_content(DocKind.CARD, loaded)
        sub = services.submit(DocKind.CARD, loaded, expected_fingerprint=fingerprint, actor=udp)
        services.forward(sub, version=sub.version, note="", actor=udp)
        demo._assemblea_vote([sub], udp)
        assert sub.status == "approvata"
        db.session.commit()


def test_a_readmitted_card_blocks_the_plan_again(app: Any, db: Any, client_as: Any) -> None:
    plan = _plan(db)
    missing = _missing(db)
    udp = client_as("udp@example.org")
    _exclude_all(udp, plan.id, missing)
    back = udp.post(f"/piani/{plan.id}/esclusioni/annulla", data={"card_id": missing[0].id})
    assert back.status_code == 303
    refused = _submit(udp, plan.id)
    assert refused.status_code == 422 and "1 schede su 13" in refused.get_data(as_text=True)


def _sent_plan(db: Any, client_as: Any) -> tuple[Any, int]:
    from pdz.approvals.models import Submission

    udp = client_as("udp@example.org")
    plan = _plan(db)
    _exclude_all(udp, plan.id, _missing(db))
    assert _submit(udp, plan.id).status_code == 303
    sub_id = db.session.scalar(select(Submission.id).where(Submission.document_kind == "piano_di_zona"))
    return udp, sub_id


def _flat(text: str) -> str:
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())


def test_the_pdf_has_a_table_of_contents_whose_pages_hold_the_chapters(
    app: Any, db: Any, client_as: Any, tmp_path: Any
) -> None:
    udp, sub_id = _sent_plan(db, client_as)
    response = udp.get(f"/approvazioni/{sub_id}/documento.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = pdfium.PdfDocument(response.data)
    pages = [_flat(pdf[i].get_textpage().get_text_range()) for i in range(len(pdf))]
    assert len(pages) > 20

    # the first page holds the title and the table of contents
    assert "Piano di Zona 2025-2027" in pages[0] and "Indice" in pages[0]
    toc_text = " ".join(pages[:3])
    for heading in CHAPTERS:
        found = re.search(re.escape(heading) + r"[ .]*?(\d+)(?= |$)", toc_text)
        assert found, (heading, toc_text[:2000])
        number = int(found.group(1))
        # the chapter starts on the page the index says, at the top (after the page break)
        assert pages[number - 1].startswith(heading), (heading, number, pages[number - 1][:120])
        assert f"Pagina {number} di {len(pdf)}" in pages[number - 1]
    # paragraphs are listed too, with their page
    for heading in (
        "2.1 Analisi demografica",
        "6.3 Il monitoraggio dei LEPS",
        "Allegato A – Integrazione con ASST",
    ):
        found = re.search(re.escape(heading) + r"[ .]*?(\d+)(?= |$)", toc_text)
        assert found and heading in pages[int(found.group(1)) - 1], heading

    # rasterised, the index page is a real page with ink on it (not an empty placeholder)
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or tmp_path)
    (out / "piano-di-zona.pdf").write_bytes(response.data)
    image = pdf[0].render(scale=1).to_pil().convert("L")
    image.save(out / "piano-di-zona-indice.png")
    dark = sum(image.histogram()[:128])
    assert dark > 3000, dark
    # the outline (bookmarks) lists the chapters
    outline = [item.get_title() for item in pdf.get_toc()]
    for heading in CHAPTERS:
        assert heading in outline


def test_the_docx_has_heading_styles_a_toc_field_and_page_numbers(app: Any, db: Any, client_as: Any) -> None:
    udp, sub_id = _sent_plan(db, client_as)
    response = udp.get(f"/approvazioni/{sub_id}/documento.docx")
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.data))
    headings = {p.text: p.style.name for p in document.paragraphs if p.style.name.startswith("Heading")}
    for heading in CHAPTERS:
        assert headings.get(heading) == "Heading 1", heading
    assert headings.get("2.1 Analisi demografica") == "Heading 2"
    assert headings.get("5.2 Area Fragilità") == "Heading 2"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        body = archive.read("word/document.xml").decode("utf-8")
        footers = "".join(
            archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.startswith("word/footer")
        )
        settings = archive.read("word/settings.xml").decode("utf-8")
    assert re.search(r"<w:instrText[^>]*> TOC \\o &quot;1-2&quot;|<w:instrText[^>]*> TOC \\o \"1-2\"", body)
    assert re.search(r"<w:instrText[^>]*> PAGE </w:instrText>", footers)
    assert re.search(r"<w:instrText[^>]*> NUMPAGES </w:instrText>", footers)
    assert "w:updateFields" in settings
    # every chapter starts on a new page
    chapter_paragraphs = [p for p in document.paragraphs if p.text in CHAPTERS]
    assert all(p.paragraph_format.page_break_before for p in chapter_paragraphs)


def test_the_data_chapters_come_from_the_platform(app: Any, db: Any, client_as: Any) -> None:
    from pdz.approvals import services
    from pdz.approvals.assembly import load_plan

    plan = load_plan(_plan(db).id)
    with app.test_request_context():
        content, _fp = services.current_content(plan.kind, plan)
    sections = {s["heading"]: s for s in content["sections"]}
    evaluation = sections["1.1 Valutazione degli obiettivi 2021-2023"]["blocks"][0]
    # 001, 5.2: "Politiche abitative" reached 75% with 100% of the resources spent
    housing = next(r for r in evaluation["rows"] if r[0].lower().startswith("politiche abitative"))
    assert housing[1:3] == ["75%", "100%"]
    demography = sections["2.1 Analisi demografica"]["blocks"][0]
    assert demography["total"][2] == "48"  # the 48 comuni of the Ambito (001, governance)
    areas = [s["heading"] for s in content["sections"] if s["heading"].startswith("5.")]
    assert areas[:6] == [
        "5. Gli obiettivi della programmazione 2025-2027",
        "5.1 Quadro delle risorse",
        "5.2 Area Fragilità",
        "5.3 Area Povertà",
        "5.4 Area Giovani & Innovazione",
        "5.5 Area Famiglia",
    ]
    assert "5.6 Azioni di sistema" in areas
    leps = sections["6.3 Il monitoraggio dei LEPS"]["blocks"][0]
    assert [r[0] for r in leps["rows"]][-1] == "Incremento SAD"


def test_the_draft_downloads_with_its_index_before_it_is_sent(app: Any, db: Any, client_as: Any) -> None:
    plan = _plan(db)
    udp = client_as("udp@example.org")
    assert f"/piani/{plan.id}/bozza.pdf" in udp.get(f"/piani/{plan.id}").get_data(as_text=True)
    response = udp.get(f"/piani/{plan.id}/bozza.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = pdfium.PdfDocument(response.data)
    first = _flat(pdf[0].get_textpage().get_text_range())
    assert "Bozza non inviata" in first and "Indice" in first and CHAPTERS[0] in first
    assert udp.get(f"/piani/{plan.id}/bozza.docx").status_code == 200
    assert client_as("membro@example.org").get(f"/piani/{plan.id}/bozza.pdf").status_code == 403


def test_the_plan_page_reads_each_thing_once_and_shows_every_change_at_once(
    app: Any, db: Any, client_as: Any, count_queries: Any
) -> None:
    """Issue #17: the page asks which cards are approved, which are excluded and what the chapters say for its
    content, its gate, its card list and its readiness; each is read once a request (52 statements before,
    25 now: issue #17's bound). Reads are reused within one page view only: after an exclusion the very next page shows it, and
    the gate of the POST that follows sees it too."""
    plan = _plan(db)
    missing = _missing(db)
    udp = client_as("udp@example.org")
    url = f"/piani/{plan.id}"
    udp.get(url)
    db.session.remove()
    with count_queries() as statements:
        page = udp.get(url)
    assert page.status_code == 200
    assert statements() <= 25, statements()
    first = missing[0]
    _exclude_all(udp, plan.id, [first])
    text = udp.get(url).get_data(as_text=True)
    assert f"{REASON} ({first.id})" in text
    _exclude_all(udp, plan.id, missing[1:])
    assert _submit(udp, plan.id).status_code == 303  # the gate read the exclusions just written


def test_a_cycle_with_many_cards_lists_them_a_page_at_a_time_missing_first(
    app: Any, db: Any, client_as: Any
) -> None:
    """Issue #17: the plan page lists the cycle's cards 25 a page, the ones still missing first (by title),
    with counts over all of them; the gate names the first 20 missing cards and counts the others. The demo's
    cycle has 13 cards, 9 approved; 30 more drafts make 43, of which 34 missing."""
    from pdz.cards.models import Card

    plan = _plan(db)
    demo = list(db.session.scalars(select(Card).where(Card.cycle_id == plan.cycle_id)))
    assert len(demo) == 13
    tavolo = demo[0]
    for n in range(30):
        db.session.add(
            Card(
                cycle_id=plan.cycle_id,
                area_id=tavolo.area_id,
                body_id=tavolo.body_id,
                title=f"Zeta aggiunta {n:02d}",  # after every demo title
            )
        )
    db.session.commit()
    missing_demo = sorted(
        c.title for c in _missing(db) if c.cycle_id == plan.cycle_id and c.title[:4] != "Zeta"
    )
    assert len(missing_demo) == 4
    plan_id = plan.id
    db.session.remove()

    udp = client_as("udp@example.org")
    first = udp.get(f"/piani/{plan_id}").get_data(as_text=True)
    second = udp.get(f"/piani/{plan_id}?schede_pagina=2").get_data(as_text=True)
    for text in (first, second):
        assert "9 approvate, 0 escluse, 34 mancanti su 43." in text
    listed = [_listed(first), _listed(second)]
    assert len(listed[0]) == 25 and len(listed[1]) == 18
    assert [s for s, _t in listed[0] + listed[1]] == ["mancante"] * 34 + ["approvata"] * 9
    # By title within each group, in the database's own collation (the same order as the card list's).
    missing = [t for _s, t in listed[0] + listed[1][:9]]
    assert sorted(missing) == sorted(missing_demo + [f"Zeta aggiunta {n:02d}" for n in range(30)])
    assert "Pagina 1 di 2 (43 schede)" in first and 'rel="next"' in first and 'rel="prev"' not in first
    assert "Pagina 2 di 2 (43 schede)" in second and 'rel="prev"' in second and 'rel="next"' not in second
    for bad in ("0", "-3", "99", "abc"):
        assert udp.get(f"/piani/{plan_id}?schede_pagina={bad}").status_code == 200

    gate = re.search(r"Il Piano di Zona non può essere inviato: [^<]*", first)
    assert gate is not None
    assert "34 schede su 43" in gate.group(0)
    assert re.findall(r"«([^»]+)»", unescape(gate.group(0))) == missing[:20]
    assert "e altre 14." in gate.group(0)


def _listed(html: str) -> list[tuple[str, str]]:
    """(state, title) of each card listed on a plan page, in order."""
    found = re.findall(r'class="pdz-card state-(\w+)".*?<a href="/schede/\d+">([^<]+)</a>', html, re.S)
    return [(state, unescape(title)) for state, title in found]

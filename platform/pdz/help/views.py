"""The glossary (public: citizens read the approved documents too) and two template helpers that let a
confirmation dialog say what will happen (how many people a convocation reaches, whether a meeting is being
started on its own day)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..accounts.models import User
from ..db import utcnow
from ..extensions import db
from ..formatting import local
from ..policy import public
from ..tavoli.models import Membership
from . import bp

# (anchor, term, definition). Short, in plain words; the anchors are linked from the pages that use the terms.
GLOSSARY: list[tuple[str, Any, Any]] = [
    (
        "ambito",
        _l("Ambito Territoriale Sociale"),
        _l(
            "L'insieme dei 48 comuni intorno a Crema che programmano insieme i servizi sociali. "
            "Da non confondere con ATS, che qui indica l'agenzia sanitaria regionale."
        ),
    ),
    (
        "piano-di-zona",
        _l("Piano di Zona (PdZ)"),
        _l(
            "Il piano triennale dei servizi sociali dell'Ambito (oggi 2025-2027): bisogni, obiettivi, azioni "
            "e risorse. Lo approva l'Assemblea dei Sindaci."
        ),
    ),
    (
        "piano-operativo",
        _l("Piano Operativo"),
        _l(
            "Il programma di un anno: quali azioni, con quali soldi, chi ne è responsabile e come si "
            "misura. Si approva entro dicembre per l'anno seguente."
        ),
    ),
    (
        "report-annuale",
        _l("Report Annuale"),
        _l(
            "Il resoconto di che cosa è stato fatto e speso nell'anno; si approva entro aprile dell'anno dopo."
        ),
    ),
    (
        "scheda",
        _l("Scheda obiettivo"),
        _l(
            "Una pagina per ogni obiettivo del piano, con campi sempre uguali: bisogni, azioni, risorse, "
            "indicatori. I tavoli le scrivono insieme."
        ),
    ),
    (
        "tavolo",
        _l("Tavolo"),
        _l(
            "Un gruppo di lavoro stabile su un tema (povertà, abitare, disabilità…), con persone di enti "
            "pubblici e del Terzo Settore e due co-coordinatori, uno per parte."
        ),
    ),
    (
        "mandato",
        _l("Mandato"),
        _l(
            "Il documento che dice a un tavolo che cosa fare: finalità, attività, tempi, momenti di "
            "verifica e persone coinvolte. Lo decide l'UdP Integrato."
        ),
    ),
    (
        "co-programmazione",
        _l("Co-programmazione e co-progettazione"),
        _l(
            "Enti pubblici e Terzo Settore decidono insieme i bisogni e gli obiettivi (co-programmazione), "
            "poi costruiscono insieme i progetti (co-progettazione)."
        ),
    ),
    (
        "ets",
        _l("ETS (Enti del Terzo Settore)"),
        _l(
            "Associazioni, organizzazioni di volontariato, cooperative sociali, fondazioni e simili, iscritte "
            "al registro nazionale RUNTS."
        ),
    ),
    (
        "udp",
        _l("UdP (Ufficio di Piano)"),
        _l(
            "Il personale tecnico che segue il piano: scadenze, documenti, bilancio, monitoraggio, e il "
            "sostegno ai tavoli."
        ),
    ),
    (
        "udp-integrato",
        _l("UdP Integrato"),
        _l(
            "L'Ufficio di Piano allargato ai rappresentanti del Terzo Settore e alle coordinatrici dei "
            "sub-ambiti. Si riunisce circa una volta al mese, dà i mandati ai tavoli e ne riceve i risultati."
        ),
    ),
    (
        "assemblea-sindaci",
        _l("Assemblea dei Sindaci"),
        _l(
            "I sindaci dei comuni dell'Ambito, o chi ne ha la delega. È l'organo che decide: approva il "
            "piano, il Piano Operativo e il Report Annuale."
        ),
    ),
    (
        "comitato-ristretto",
        _l("Comitato Ristretto"),
        _l(
            "Alcuni sindaci in rappresentanza dei sub-ambiti: esaminano per primi le proposte e preparano i "
            "documenti per l'Assemblea dei Sindaci."
        ),
    ),
    (
        "sub-ambito",
        _l("Sub-ambito"),
        _l(
            "Uno dei sei gruppi di comuni dell'Ambito (Bagnolo Cremasco, Castelleone, Crema, Pandino, "
            "Sergnano, Soncino), ciascuno con un comune capofila."
        ),
    ),
    (
        "leps",
        _l("LEPS"),
        _l(
            "Livelli essenziali delle prestazioni sociali: i servizi che la legge chiede di garantire in "
            "tutta Italia. Alcuni hanno indicatori che il piano tiene sotto controllo."
        ),
    ),
    (
        "bes",
        _l("BES (Benessere Equo e Sostenibile)"),
        _l(
            "I temi con cui l'ISTAT misura il benessere (salute, istruzione, lavoro, relazioni sociali…). "
            "Ogni scheda indica a quali contribuisce."
        ),
    ),
    (
        "sdg",
        _l("SDG (Agenda 2030)"),
        _l(
            "I 17 obiettivi di sviluppo sostenibile delle Nazioni Unite. Una scheda può indicare quelli a cui "
            "contribuisce; è facoltativo."
        ),
    ),
    (
        "pnrr",
        _l("PNRR"),
        _l("Il piano europeo di ripresa: finanzia alcune azioni delle schede con fondi dedicati."),
    ),
    (
        "swot",
        _l("Analisi SWOT"),
        _l(
            "L'autovalutazione di un tavolo in quattro riquadri: punti di forza, debolezze, opportunità e "
            "minacce. Una volta chiusa viene consegnata all'UdP Integrato."
        ),
    ),
    (
        "quorum",
        _l("Quorum"),
        _l("Il numero minimo di presenti perché un incontro possa decidere validamente."),
    ),
    (
        "delega",
        _l("Delega"),
        _l(
            "Chi non può partecipare a un incontro può farsi rappresentare da un'altra persona del suo "
            "stesso ente."
        ),
    ),
    (
        "impronta",
        _l("Impronta digitale (SHA-256)"),
        _l(
            "Una sequenza di 64 lettere e cifre calcolata dal contenuto di un documento. Se cambia anche "
            "una sola virgola, l'impronta cambia: confrontandola si verifica che una copia sia identica alla "
            "versione approvata."
        ),
    ),
]


@bp.get("/glossario")
@public
def glossary() -> Any:
    return render_template("help/glossary.html", terms=GLOSSARY)


@bp.app_template_global("convocation_count")
def convocation_count(meeting: Any) -> int:
    """How many people the convocation (or the cancellation) of `meeting` is mailed to: the active members
    of its body, plus active delegates named in the answers (as meetings.services._notify_members)."""
    members = set(
        db.session.scalars(
            select(Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.body_id == meeting.body_id, Membership.ended_at.is_(None), User.active.is_(True)
            )
        )
    )
    delegates = {r.delegate.id for r in meeting.rsvps if r.delegate is not None and r.delegate.active}
    return len(members | delegates)


@bp.app_template_global("scheduled_today")
def scheduled_today(meeting: Any, now: datetime | None = None) -> bool:
    """True when the meeting's scheduled day (on the clocks of Rome) is today."""
    return local(meeting.starts_at).date() == local(now or utcnow()).date()

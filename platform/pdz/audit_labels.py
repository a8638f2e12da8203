"""What each audit action code means, in Italian: the log never shows a code.

Every code passed to `audit.record` needs an entry here, in `ACTIONS` under its area;
tests/admin/test_audit_log.py reads the source and fails on a code without one. A label is the rest of a
sentence whose subject is the person who acted ("Marta Guerini" + "ha modificato la scheda").
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

# Areas group the codes in the log's "kind of action" filter; a code belongs to the area of its prefix.
AREAS: dict[str, LazyString] = {
    "account": _l("Accesso e account"),
    "invitation": _l("Inviti"),
    "body": _l("Tavoli e organi"),
    "membership": _l("Componenti dei tavoli"),
    "mandate": _l("Mandati"),
    "card": _l("Schede obiettivo"),
    "meeting": _l("Incontri e verbali"),
    "calendar": _l("Calendari"),
    "comment": _l("Commenti"),
    "thread": _l("Commenti"),
    "notification_preferences": _l("Notifiche"),
    "notifications": _l("Notifiche"),
    "swot": _l("Valutazione SWOT"),
    "evaluation": _l("Valutazione degli obiettivi"),
    "indicator": _l("Monitoraggio degli indicatori"),
    "approval": _l("Approvazioni"),
    "plan": _l("Piani"),
    "cycle": _l("Cicli di programmazione"),
    "fund": _l("Fondi assegnati"),
    "organisation": _l("Enti"),
    "comune": _l("Comuni"),
    "mail": _l("Posta in uscita"),
}

ACTIONS: dict[str, LazyString] = {
    # accounts and sign-in
    "account.signed_in": _l("ha effettuato l'accesso"),
    "account.signed_out": _l("ha chiuso la sessione"),
    "account.signed_out_everywhere": _l("ha chiuso le sessioni su tutti i dispositivi"),
    "account.session_revoked": _l("ha chiuso una sessione attiva"),
    "account.sign_in_failed": _l("ha tentato l'accesso senza riuscirci"),
    "account.sign_in_refused_inactive": _l("ha tentato l'accesso con un account disattivato"),
    "account.password_changed": _l("ha cambiato la propria password"),
    "account.reset_requested": _l("ha chiesto di reimpostare la password"),
    "account.reset_requested_unknown": _l(
        "ha chiesto di reimpostare la password di un indirizzo sconosciuto"
    ),
    "account.password_reset": _l("ha reimpostato la password"),
    "account.profile_updated": _l("ha aggiornato il profilo"),
    "account.activated": _l("ha riattivato l'account"),
    "account.deactivated": _l("ha disattivato l'account"),
    "account.staff_role_set": _l("ha cambiato il ruolo di staff"),
    "account.created_from_invitation": _l("ha creato il proprio account da un invito"),
    "account.mfa_enrolled": _l("ha attivato la verifica in due passaggi"),
    "account.mfa_verified": _l("ha superato la verifica in due passaggi"),
    "account.mfa_failed": _l("non ha superato la verifica in due passaggi"),
    "account.mfa_locked": _l("ha sbagliato troppi codici: verifica bloccata per qualche minuto"),
    "account.mfa_disabled": _l("ha disattivato la verifica in due passaggi"),
    "account.mfa_reset": _l("ha azzerato la verifica in due passaggi"),
    "account.mfa_recovery_used": _l("ha usato un codice di recupero"),
    "account.mfa_recovery_codes_renewed": _l("ha generato nuovi codici di recupero"),
    "account.mfa_device_remembered": _l("ha indicato un dispositivo come affidabile"),
    "account.mfa_device_forgotten": _l("ha revocato i dispositivi affidabili"),
    # invitations, bodies, memberships, mandates
    "invitation.created": _l("ha invitato una persona"),
    "invitation.accepted": _l("ha accettato un invito"),
    "invitation.revoked": _l("ha revocato un invito"),
    "body.created": _l("ha creato il tavolo"),
    "body.updated": _l("ha modificato il tavolo"),
    "membership.created": _l("ha aggiunto un componente"),
    "membership.role_changed": _l("ha cambiato il ruolo di un componente"),
    "membership.ended": _l("ha concluso la partecipazione di un componente"),
    "mandate.draft_edited": _l("ha scritto nella bozza del mandato"),
    "mandate.proposed": _l("ha proposto una versione del mandato"),
    "mandate.accepted": _l("ha reso vigente il mandato proposto"),
    "mandate.rejected": _l("ha respinto il mandato proposto"),
    "mandate.set": _l("ha reso vigente una versione del mandato"),
    # cards
    "card.created": _l("ha creato la scheda"),
    "card.updated": _l("ha modificato la scheda"),
    "card.text_edited": _l("ha scritto nel testo della scheda"),
    "card.restored": _l("ha ripristinato una versione della scheda"),
    "card.moved": _l("ha spostato la scheda in un altro tavolo"),
    "card.conflict_archived": _l(
        "aveva lasciato una modifica in conflitto, archiviata con la scrittura condivisa"
    ),
    # meetings and minutes
    "meeting.scheduled": _l("ha programmato l'incontro"),
    "meeting.updated": _l("ha modificato data o luogo dell'incontro"),
    "meeting.published": _l("ha convocato l'incontro"),
    "meeting.cancelled": _l("ha annullato l'incontro"),
    "meeting.started": _l("ha avviato l'incontro"),
    "meeting.concluded": _l("ha chiuso l'incontro"),
    "meeting.item_added": _l("ha aggiunto un punto all'ordine del giorno"),
    "meeting.item_updated": _l("ha modificato un punto dell'ordine del giorno"),
    "meeting.item_removed": _l("ha tolto un punto dall'ordine del giorno"),
    "meeting.item_moved": _l("ha spostato un punto dell'ordine del giorno"),
    "meeting.item_current": _l("ha messo in discussione un punto"),
    "meeting.answered": _l("ha risposto alla convocazione"),
    "meeting.checked_in": _l("ha registrato la propria presenza"),
    "meeting.attendance_registered": _l("ha registrato la presenza di una persona"),
    "meeting.attendance_marked": _l("ha corretto una presenza"),
    "meeting.quorum_configured": _l("ha impostato il numero legale"),
    "meeting.minutes_saved": _l("ha scritto nel verbale"),
    "meeting.decision_added": _l("ha aggiunto una decisione al verbale"),
    "meeting.decision_edited": _l("ha modificato una decisione del verbale"),
    "meeting.action_added": _l("ha assegnato un'azione"),
    "meeting.action_status": _l("ha aggiornato lo stato di un'azione"),
    "meeting.minutes_approved": _l("ha registrato l'approvazione del verbale"),
    "calendar.reset": _l("ha creato un nuovo indirizzo del proprio calendario"),
    "calendar.revoked": _l("ha disattivato l'indirizzo del proprio calendario"),
    # comments and notifications
    "comment.created": _l("ha scritto un commento"),
    "comment.edited": _l("ha modificato un commento"),
    "comment.removed": _l("ha rimosso un commento"),
    "comment.resolved": _l("ha segnato una conversazione come risolta"),
    "comment.reopened": _l("ha riaperto una conversazione"),
    "thread.followed": _l("ha iniziato a seguire una conversazione"),
    "thread.unfollowed": _l("ha smesso di seguire una conversazione"),
    "notification_preferences.saved": _l("ha cambiato le preferenze delle notifiche"),
    "notification_preferences.unsubscribed": _l("ha disattivato le e-mail di notifica"),
    "notifications.digest_sent": _l("ha inviato il riepilogo quotidiano delle notifiche"),
    # evaluation
    "swot.opened": _l("ha aperto l'autovalutazione SWOT"),
    "swot.closed": _l("ha chiuso l'autovalutazione SWOT"),
    "swot.entry_added": _l("ha aggiunto una voce alla SWOT"),
    "swot.entry_edited": _l("ha scritto in una voce della SWOT"),
    "swot.entry_removed": _l("ha rimosso una voce dalla SWOT"),
    "evaluation.updated": _l("ha aggiornato la valutazione di un obiettivo"),
    "indicator.value_recorded": _l("ha registrato il valore di un indicatore"),
    # approvals and plans
    "approval.chain_configured": _l("ha configurato la catena di approvazione"),
    "approval.submitted": _l("ha inviato un documento in approvazione"),
    "approval.forwarded": _l("ha inoltrato un documento al passo successivo"),
    "approval.sent_back": _l("ha rimandato indietro un documento"),
    "approval.vote_scheduled": _l("ha messo un documento in votazione"),
    "approval.vote_opened": _l("ha aperto una votazione"),
    "approval.vote_cast": _l("ha votato"),
    "approval.vote_closed": _l("ha chiuso una votazione"),
    "plan.created": _l("ha creato un piano"),
    "plan.entry_saved": _l("ha aggiornato una voce di un piano"),
    # cycles, organisations, territory
    "cycle.created": _l("ha creato un ciclo di programmazione"),
    "cycle.status_changed": _l("ha cambiato lo stato di un ciclo di programmazione"),
    "fund.allocated": _l("ha registrato un'assegnazione di fondi"),
    "fund.allocation_removed": _l("ha eliminato un'assegnazione di fondi"),
    "organisation.created": _l("ha creato un ente"),
    "organisation.updated": _l("ha modificato un ente"),
    "organisation.adhered": _l("ha registrato l'adesione di un ente"),
    "comune.updated": _l("ha modificato un comune"),
    # outgoing mail (recorded by pdz.mail after the commit, with no person acting)
    "mail.failed": _l("non è riuscito a inviare un'e-mail"),
}

# Object types (table names) as the log names them.
OBJECT_TYPES: dict[str, LazyString] = {
    "users": _l("Persona"),
    "invitations": _l("Invito"),
    "bodies": _l("Tavolo o organo"),
    "memberships": _l("Partecipazione a un tavolo"),
    "mandates": _l("Mandato"),
    "mandate_drafts": _l("Bozza del mandato"),
    "cards": _l("Scheda obiettivo"),
    "meetings": _l("Incontro"),
    "calendar_feeds": _l("Calendario personale"),
    "comments": _l("Commento"),
    "comment_threads": _l("Conversazione"),
    "swot_assessments": _l("Autovalutazione SWOT"),
    "swot_entries": _l("Voce della SWOT"),
    "objective_evaluations": _l("Valutazione di un obiettivo"),
    "indicator_values": _l("Valore di un indicatore"),
    "submissions": _l("Documento in approvazione"),
    "ballots": _l("Votazione"),
    "approval_chains": _l("Catena di approvazione"),
    "plan_documents": _l("Piano"),
    "planning_cycles": _l("Ciclo di programmazione"),
    "organisations": _l("Ente"),
    "comuni": _l("Comune"),
    "outbox_messages": _l("Messaggio e-mail"),
}

# Names of the keys found in entries' details.
DETAIL_KEYS: dict[str, LazyString] = {
    "email": _l("e-mail"),
    "second_factor": _l("secondo fattore"),
    "method": _l("metodo"),
    "reason": _l("motivo"),
    "stage": _l("fase"),
    "count": _l("numero"),
    "left": _l("codici rimasti"),
    "minutes": _l("minuti"),
    "days": _l("giorni"),
    "device_id": _l("dispositivo"),
    "session_id": _l("sessione"),
    "replaced": _l("sostituito"),
    "role": _l("ruolo"),
    "user_id": _l("persona"),
    "owner_id": _l("incaricato"),
    "delegate_id": _l("delegato"),
    "stands_for_id": _l("in rappresentanza di"),
    "body_id": _l("tavolo"),
    "card_id": _l("scheda"),
    "card_ids": _l("schede"),
    "meeting_id": _l("incontro"),
    "approved_in": _l("approvato nell'incontro"),
    "organisation_id": _l("ente"),
    "cycle_id": _l("ciclo"),
    "sub_ambito_id": _l("sub-ambito"),
    "submission_id": _l("documento"),
    "ballot_id": _l("votazione"),
    "document_id": _l("documento"),
    "assessment_id": _l("autovalutazione"),
    "indicator_id": _l("indicatore"),
    "thread_id": _l("conversazione"),
    "item_id": _l("punto"),
    "decision_id": _l("decisione"),
    "action_id": _l("azione"),
    "attendance_id": _l("presenza"),
    "conflict_id": _l("conflitto"),
    "mentions": _l("menzioni"),
    "others": _l("altre notifiche"),
    "mails": _l("e-mail inviate"),
    "target": _l("oggetto"),
    "field": _l("campo"),
    "fields": _l("campi"),
    "part": _l("parte"),
    "kind": _l("tipo"),
    "name": _l("nome"),
    "title": _l("titolo"),
    "status": _l("stato"),
    "year": _l("anno"),
    "start_year": _l("dal"),
    "end_year": _l("al"),
    "date": _l("data"),
    "at": _l("quando"),
    "period": _l("periodo"),
    "value": _l("valore"),
    "version": _l("versione"),
    "revision": _l("revisione"),
    "rev": _l("revisione"),
    "to_revision": _l("ripristinata la revisione"),
    "round": _l("giro"),
    "fingerprint": _l("impronta"),
    "from_step": _l("dal passo"),
    "step": _l("passo"),
    "steps": _l("passi"),
    "choice": _l("voto"),
    "tally": _l("esito"),
    "answer": _l("risposta"),
    "mark": _l("presenza"),
    "position": _l("posizione"),
    "items": _l("punti"),
    "fraction": _l("frazione"),
    "weighted": _l("ponderato"),
    "majority": _l("maggioranza"),
    "achievement_pct": _l("raggiungimento %"),
    "resource_match_pct": _l("coincidenza delle risorse %"),
    "by_author": _l("dall'autore"),
    "from": _l("da"),
    "to": _l("a"),
    "before": _l("prima"),
    "after": _l("dopo"),
    "mine": _l("testo proposto"),
    "theirs": _l("testo presente"),
    "resolved": _l("risolto"),
    "timing": _l("tempi"),
    "done": _l("realizzato"),
    "committed_cents": _l("impegnato"),
    "fund_allocations": _l("assegnazione di fondi"),
    "amount_cents": _l("importo"),
    "act": _l("atto"),
}

# Fixed values found in details (methods, outcomes) that would otherwise show as words of code.
DETAIL_VALUES: dict[str, LazyString] = {
    "none": _l("nessuno"),
    "totp": _l("codice dell'app"),
    "recovery": _l("codice di recupero"),
    "trusted_device": _l("dispositivo affidabile"),
    "wrong": _l("codice errato"),
    "reused": _l("codice già usato"),
    "locked": _l("bloccato"),
    "enrolment": _l("attivazione"),
}


def area_of(code: str) -> str:
    return code.split(".", 1)[0]


def action_label(code: str) -> str:
    """The sentence for a code; an unknown code (an old entry of a removed action) stays readable."""
    label = ACTIONS.get(code)
    return str(label) if label is not None else str(_l("ha eseguito un'operazione non più descritta"))


def object_type_label(table: str) -> str:
    label = OBJECT_TYPES.get(table)
    return str(label) if label is not None else (str(_l("Oggetto")) if table else "")


def detail_key_label(key: str) -> str:
    label = DETAIL_KEYS.get(key)
    return str(label) if label is not None else key.replace("_", " ")

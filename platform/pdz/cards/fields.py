"""The 2025-2027 objective card template: every field, grouped and labelled as the plan prints them.

Scalar fields (short text, Markdown, yes/no, choices, tags) are stored as one `CardValue` row each, as text:
yes/no as "si"/"no"/"", choices and tags one value per line. Lists (objectives, actions, budget lines,
personnel, indicators, PNRR measures) are child rows with their own ids (see `rows.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Invalid
from ..text import render_markdown

LINE_MAX = 300
MARKDOWN_MAX = 20_000

BES_DOMAINS = {
    "1": "Salute",
    "2": "Istruzione e formazione",
    "3": "Lavoro e conciliazione dei tempi di vita",
    "4": "Benessere economico",
    "5": "Relazioni sociali",
    "6": "Politica e istituzioni",
    "7": "Sicurezza",
    "8": "Benessere soggettivo",
    "9": "Paesaggio e patrimonio culturale",
    "10": "Ambiente",
    "11": "Innovazione, ricerca e creatività",
    "12": "Qualità dei servizi",
}
SDGS = {str(n): f"SDG {n}" for n in range(1, 18)}
NEW_SERVICE = {
    "gia_presente": "Servizio già presente",
    "rivisto": "Servizio sostanzialmente rivisto/aggiornato",
    "nuovo": "Nuovo servizio",
}
NEED_KIND = {"consolidato": "Bisogno consolidato", "nuovo": "Nuovo bisogno"}
NATURE = {"promozionale": "Promozionale", "preventivo": "Preventivo", "riparativo": "Riparativo"}
YESNO = {"si": "Sì", "no": "No"}


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: str  # line | markdown | yesno | choices | tags | area_choices
    group: str
    help: str = ""
    options: dict[str, str] = field(default_factory=dict)

    def clean(self, value: object, *, area_keys: dict[str, str] | None = None) -> str:
        """Validate and normalise a submitted value; raise Invalid with an Italian message."""
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "\n".join(value)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
            raise Invalid(errors={self.key: "Valore non valido: è atteso un testo o un elenco di testi."})
        text = str(value if value is not None else "").replace("\r\n", "\n")
        limit = LINE_MAX if self.kind == "line" else MARKDOWN_MAX
        if len(text) > limit:
            raise Invalid(
                errors={
                    self.key: f"Il testo è troppo lungo: al massimo {limit:,} caratteri, ne hai inseriti {len(text):,}. "
                    "Accorcialo o dividilo in più campi.".replace(",", ".")
                }
            )
        if self.kind == "line":
            return " ".join(text.split())
        if self.kind in {"markdown", "tags"}:
            if self.kind == "tags":
                return "\n".join(line.strip() for line in text.split("\n") if line.strip())
            return text
        if self.kind == "yesno":
            text = text.strip().lower().replace("sì", "si")
            if text not in {"", "si", "no"}:
                raise Invalid(errors={self.key: "Scegli Sì oppure No."})
            return text
        options = area_keys if self.kind == "area_choices" else self.options
        chosen = [v.strip() for v in text.split("\n") if v.strip()]
        unknown = [v for v in chosen if v not in (options or {})]
        if unknown:
            raise Invalid(errors={self.key: f"Valore non previsto: {unknown[0][:40]}."})
        order = list(options or {})
        return "\n".join(sorted(set(chosen), key=order.index))

    def html(self, value: str) -> str:
        return str(render_markdown(value)) if self.kind == "markdown" else ""


G_HEAD = "Intestazione"
G_OBJ = "Titolo, obiettivi e azioni"
G_RES = "Risorse"
G_INT = "Integrazione e coinvolgimento"
G_NEED = "Bisogni e natura dell'intervento"
G_EVAL = "Modalità, risultati e impatto"


def _yes_no(key: str, label: str, help: str = "") -> list[FieldSpec]:
    return [
        FieldSpec(key, label, "yesno", G_INT, help, YESNO),
        FieldSpec(f"{key}_note", "Specificare", "markdown", G_INT),
    ]


FIELDS: list[FieldSpec] = [
    FieldSpec(
        "bes",
        "BES di Riferimento",
        "choices",
        G_HEAD,
        "Domini del Benessere Equo e Sostenibile (ISTAT).",
        BES_DOMAINS,
    ),
    FieldSpec("sdg", "SDG'S", "choices", G_HEAD, "Obiettivi dell'Agenda 2030 (facoltativo).", SDGS),
    FieldSpec("context", "Breve descrizione del contesto", "markdown", G_HEAD, "Contesto con i dati locali."),
    FieldSpec(
        "title", "TITOLO INTERVENTO", "line", G_OBJ, "Il titolo in breve, in maiuscolo come nel Piano."
    ),
    FieldSpec("subtitle", "Sottotitolo", "line", G_OBJ),
    FieldSpec(
        "general_objective", "QUALI OBIETTIVI VUOLE RAGGIUNGERE – Obiettivo generale", "markdown", G_OBJ
    ),
    FieldSpec("target", "TARGET", "markdown", G_OBJ, "Beneficiari e attori a cui si rivolge l'intervento."),
    FieldSpec(
        "human_resources",
        "Risorse umane valorizzate dalle reti aderenti al PdZ",
        "markdown",
        G_RES,
        "Risorse non monetarie messe a disposizione dalle reti.",
    ),
    FieldSpec(
        "transversal",
        "L'OBIETTIVO E' TRASVERSALE ED INTEGRATO CON ALTRE AREE DI POLICY?",
        "yesno",
        G_INT,
        "",
        YESNO,
    ),
    FieldSpec("transversal_areas", "Con quali aree di policy", "area_choices", G_INT),
    FieldSpec(
        "key_points",
        "INDICARE I PUNTI CHIAVE DELL'INTERVENTO",
        "tags",
        G_INT,
        "Un punto chiave per riga; puoi scegliere tra quelli ricorrenti o scriverne di nuovi.",
    ),
    *_yes_no(
        "asst_analysis", "PREVEDE IL COINVOLGIMENTO DI ASST NELL'ANALISI DEL BISOGNO E NELLA PROGRAMMAZIONE?"
    ),
    *_yes_no(
        "asst_implementation",
        "PREVEDE IL COINVOLGIMENTO DI ASST NELLA REALIZZAZIONE DELL'INTERVENTO E AZIONI CONGIUNTE AMBITO-ASST?",
    ),
    *_yes_no(
        "other_ambiti",
        "L'INTERVENTO È REALIZZATO IN COOPERAZIONE CON ALTRI AMBITI?",
        "In caso affermativo specificare i compiti.",
    ),
    *_yes_no("continuity", "È IN CONTINUITÀ CON LA PROGRAMMAZIONE PRECEDENTE (2021-2023)?"),
    FieldSpec(
        "new_service",
        "L'OBIETTIVO PREVEDE LA DEFINIZIONE DI UN NUOVO SERVIZIO?",
        "choices",
        G_INT,
        "",
        NEW_SERVICE,
    ),
    FieldSpec("new_service_note", "Specificare", "markdown", G_INT),
    *_yes_no(
        "premial",
        "L'OBIETTIVO È IN CONTINUITÀ E/O RAPPRESENTA IL POTENZIAMENTO DI UN PROGETTO PREMIALE DELLA PROGRAMMAZIONE 2021-2023?",
    ),
    *_yes_no("co_programmed", "L'INTERVENTO È FORMALMENTE CO-PROGRAMMATO CON IL TERZO SETTORE?"),
    FieldSpec(
        "ts_involvement",
        "NEL CASO IN CUI L'INTERVENTO NON PREVEDA PROCESSI DI CO-PROGETTAZIONE E/O CO-PROGRAMMAZIONE FORMALIZZATI, "
        "SPECIFICARE LE MODALITA' DI COINVOLGIMENTO DEL TERZO SETTORE (se pertinente)",
        "markdown",
        G_INT,
    ),
    *_yes_no(
        "other_actors",
        "L'INTERVENTO PREVEDE IL COINVOLGIMENTO DI ALTRI ATTORI DELLA RETE TERRITORIALE? (oltre ad ASST e ETS)",
        "Se sì, quali e le modalità di cooperazione.",
    ),
    FieldSpec(
        "needs",
        "QUESTO INTERVENTO A QUALE/I BISOGNO/I RISPONDE?",
        "markdown",
        G_NEED,
        "Indicatori input derivati dall'analisi del bisogno.",
    ),
    FieldSpec(
        "need_kind",
        "IL BISOGNO RILEVATO ERA GIÁ STATO AFFRONTATO NELLA PRECEDENTE PROGRAMMAZIONE O PUÓ ESSERE DEFINITO COME UN NUOVO BISOGNO?",
        "choices",
        G_NEED,
        "",
        NEED_KIND,
    ),
    FieldSpec(
        "need_kind_note",
        "Specificare",
        "markdown",
        G_NEED,
        "In caso di nuovo bisogno specificarne natura e caratteristiche.",
    ),
    FieldSpec(
        "nature", "L'OBIETTIVO É DI TIPO PROMOZIONALE/PREVENTIVO O RIPARATIVO?", "choices", G_NEED, "", NATURE
    ),
    FieldSpec("nature_note", "Specificare", "markdown", G_NEED),
    *[
        FieldSpec(spec.key, spec.label, spec.kind, G_NEED, spec.help, spec.options)
        for spec in _yes_no(
            "innovative",
            "L'OBIETTIVO PRESENTA MODELLI INNOVATIVI DI PRESA IN CARICO, DI RISPOSTA AL BISOGNO E COOPERAZIONE CON ALTRI ATTORI DELLA RETE?",
        )
        + _yes_no(
            "digital",
            "L'OBIETTIVO PRESENTA DEGLI ASPETTI INERENTI ALLA DIGITALIZZAZIONE? (organizzativi, gestionali, erogativi, ecc.)",
        )
    ],
    FieldSpec(
        "modes",
        "QUALI MODALITÀ ORGANIZZATIVE, OPERATIVE E DI EROGAZIONE SONO ADOTTATE?",
        "markdown",
        G_EVAL,
        "Come verrà realizzato l'intervento e articolata la risposta al bisogno.",
    ),
    FieldSpec("results", "QUALI RISULTATI VUOLE RAGGIUNGERE?", "markdown", G_EVAL),
    FieldSpec(
        "impact",
        "QUALE IMPATTO DOVREBBE AVERE L'INTERVENTO?",
        "markdown",
        G_EVAL,
        "Il cambiamento atteso rispetto alle criticità che hanno portato all'intervento.",
    ),
]
SPECS: dict[str, FieldSpec] = {spec.key: spec for spec in FIELDS}
GROUPS: list[str] = list(dict.fromkeys(spec.group for spec in FIELDS))
# Card-level money field (declared "TOTALE STIMATO"); stored on the card, not as a CardValue.
DECLARED_TOTAL = "declared_total"


def spec(key: str) -> FieldSpec:
    try:
        return SPECS[key]
    except KeyError:
        raise Invalid(errors={"field": "Campo della scheda sconosciuto."}) from None


# --- what the plan requires before a card can be submitted ---------------------------------------------

# Every question the 2025-2027 template asks (SDG, subtitle, key points and staff valued by the networks are
# optional); a "Specificare" note is required when its question is answered "Sì" (or, for a new service,
# when the answer is not "already present"); the policy areas when the objective is transversal.
REQUIRED: list[str] = [
    "bes",
    "context",
    "title",
    "general_objective",
    "target",
    "transversal",
    "asst_analysis",
    "asst_implementation",
    "other_ambiti",
    "continuity",
    "new_service",
    "premial",
    "co_programmed",
    "other_actors",
    "needs",
    "need_kind",
    "nature",
    "innovative",
    "digital",
    "modes",
    "results",
    "impact",
]
REQUIRED_ROWS: dict[str, str] = {
    "azioni": "Almeno un'azione",
    "risorse": "Almeno una voce di budget",
    "indicatori": "Almeno un indicatore",
}


@dataclass(frozen=True)
class ChecklistItem:
    key: str  # a field key or a list kind (anchor on the page)
    label: str
    done: bool


def checklist(values: dict[str, str], row_counts: dict[str, int]) -> list[ChecklistItem]:
    """The fields the plan requires, each with whether it is filled in (`values`: key -> stored text)."""
    items: list[ChecklistItem] = []
    for key in REQUIRED:
        spec = SPECS[key]
        filled = bool(values.get(key, "").strip())
        items.append(ChecklistItem(key, spec.label, filled))
        note = SPECS.get(f"{key}_note")
        answer = values.get(key, "").strip()
        if (
            note is not None
            and answer
            and (answer == "si" or (key == "new_service" and answer != "gia_presente"))
        ):
            items.append(
                ChecklistItem(note.key, f"{spec.label} – Specificare", bool(values.get(note.key, "").strip()))
            )
        if key == "transversal" and answer == "si":
            areas = SPECS["transversal_areas"]
            items.append(ChecklistItem(areas.key, areas.label, bool(values.get(areas.key, "").strip())))
    for kind, label in REQUIRED_ROWS.items():
        items.append(ChecklistItem(f"rows-{kind}", label, row_counts.get(kind, 0) > 0))
    return items

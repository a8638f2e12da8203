"""The Piano di Zona as a whole document, chapter by chapter like the 2025-2027 plan (seed 001): results of the
previous plan and SWOT; context (demography, social spending); subjects and networks; governance; objectives
by co-programming area and the system actions; the evaluation system (BES, indicators, LEPS); the annexes
(integration with ASST, the objective cards in full).

Pure builder, like `plans.py`: it takes the approved cards' canonical contents and the `Facts` gathered by
`pdz.facts` (already sorted, as strings) and returns canonical content. Sections carry a `level` (1 chapter,
2 paragraph) that the exports use for their headings and table of contents; renderers that do not know it
show every section alike. The same input always gives byte-identical JSON, hence the same fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..money import format_cents
from . import document as doc
from . import plans
from .document import Content

DASH = "—"

# The co-written chapter texts: key -> what the editor calls it. One text per narrative chapter.
NARRATIVES: dict[str, str] = {
    "esiti": "Capitolo 1 – Esiti della programmazione precedente",
    "contesto": "Capitolo 2 – Contesto e quadro della conoscenza",
    "reti": "Capitolo 3 – Soggetti e reti del territorio",
    "governance": "Capitolo 4 – La governance",
    "obiettivi": "Capitolo 5 – Gli obiettivi della programmazione",
    "valutazione": "Capitolo 6 – Il sistema di valutazione",
    "asst": "Allegato A – Integrazione con ASST",
}
NARRATIVE_KEYS = frozenset(NARRATIVES)
NARRATIVE_LABEL = "Testo del capitolo"

# The four co-programming areas of chapter 5.3 of the 2025-2027 plan, then the system actions (5.3.5).
CO_AREAS: list[tuple[str, str]] = [
    ("FRAGILITA", "Area Fragilità"),
    ("POVERTA", "Area Povertà"),
    ("GIOVANI", "Area Giovani & Innovazione"),
    ("FAMIGLIA", "Area Famiglia"),
    ("SISTEMA", "Azioni di sistema"),
]
OTHER_AREA = "Altre schede"

# Table 4 of chapter 6.8 of the 2025-2027 plan: the LEPS the Ambito monitors and their indicators.
LEPS: list[list[str]] = [
    [
        "Valutazione multidimensionale e progetto personalizzato",
        "Incremento del numero di équipe multidimensionali",
    ],
    ["Prevenzione dell'allontanamento familiare", "N° progetti individualizzati; N° di valutazioni"],
    [
        "Servizi sociali per le dimissioni protette",
        "Utenti che hanno beneficiato delle dimissioni protette / utenti che ne hanno espresso il bisogno",
    ],
    [
        "Punti Unici di Accesso (PUA) integrati UVM: incremento operatori sociali",
        "Incremento delle persone in condizioni complesse prese in carico dalle UVMD",
    ],
    ["Incremento SAD", "N° prese in carico SAD con l'intero processo gestito attraverso la CSI"],
]

BES_LABEL = "BES di Riferimento"
GENERAL_OBJECTIVE_LABEL = "QUALI OBIETTIVI VUOLE RAGGIUNGERE – Obiettivo generale"
ASST_LABELS = (
    "PREVEDE IL COINVOLGIMENTO DI ASST NELL'ANALISI DEL BISOGNO E NELLA PROGRAMMAZIONE?",
    "PREVEDE IL COINVOLGIMENTO DI ASST NELLA REALIZZAZIONE DELL'INTERVENTO E AZIONI CONGIUNTE AMBITO-ASST?",
)
INDICATOR_SETS = [
    ("processo", "Indicatori di processo"),
    ("output", "Indicatori di output"),
    ("outcome", "Indicatori di outcome"),
]


@dataclass(frozen=True)
class Facts:
    """What the data chapters show, gathered from PdZ's data (`pdz.facts`), sorted, as strings."""

    previous_cycle: str = ""
    evaluations: list[list[str]] = field(default_factory=list)  # title, %, %, change, reproposed, problems
    swot: list[list[str]] = field(default_factory=list)  # dimension, quadrant, tavolo, text
    demography: list[list[str]] = field(default_factory=list)  # sub_ambito, capofila, comuni, people, year
    demography_total: list[str] = field(default_factory=list)
    spending: list[list[str]] = field(default_factory=list)  # year, source, allocated, programmed, diff
    org_kinds: list[list[str]] = field(default_factory=list)  # kind, count
    adherents: list[str] = field(default_factory=list)
    tavoli: list[list[str]] = field(default_factory=list)  # name, kind, areas, organisations
    governance: list[list[str]] = field(default_factory=list)  # name, kind, organisations
    chain: list[str] = field(default_factory=list)
    co_areas: dict[str, str] = field(default_factory=dict)  # policy area key -> co-programming area key
    excluded: list[list[str]] = field(default_factory=list)  # title, tavolo, reason
    narratives: dict[str, str] = field(default_factory=dict)


def chapter(heading: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {**doc.section(heading, blocks), "level": 1}


def paragraph(heading: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {**doc.section(heading, blocks), "level": 2}


def _narrative(facts: Facts, key: str) -> dict[str, Any]:
    return doc.field(NARRATIVE_LABEL, facts.narratives.get(key, ""), markdown=True)


def _note(text: str) -> dict[str, Any]:
    return doc.field("Nota", text)


def card_field(card: Content, label: str) -> str:
    for section in card.get("sections", []):
        for block in section.get("blocks", []):
            if block.get("type") == "field" and block.get("label") == label:
                return str(block.get("text") or "")
    return ""


def _co_area(card: Content, facts: Facts) -> str:
    area = plans._area(card)
    return facts.co_areas.get(str(area["key"]), "") if area else ""


def piano_di_zona(
    cycle_name: str, cards: list[Content], *, fingerprints: dict[int, str], facts: Facts
) -> Content:
    ordered = plans._ordered(cards)
    base = plans.piano_di_zona(cycle_name, cards, fingerprints=fingerprints)  # resources, listing, cards
    resource_blocks = base["sections"][0]["blocks"] + base["sections"][1]["blocks"]
    card_sections = base["sections"][2:]
    previous = facts.previous_cycle or "precedente"
    sections: list[dict[str, Any]] = []

    # 1. results of the previous plan
    counts: dict[tuple[str, str], int] = {}
    dimensions: list[str] = []
    quadrants: list[str] = []
    for dimension, quadrant, _tavolo, _text in facts.swot:
        counts[(dimension, quadrant)] = counts.get((dimension, quadrant), 0) + 1
        if dimension not in dimensions:
            dimensions.append(dimension)
        if quadrant not in quadrants:
            quadrants.append(quadrant)
    sections += [
        chapter(f"1. Esiti della programmazione {previous}", [_narrative(facts, "esiti")]),
        paragraph(
            f"1.1 Valutazione degli obiettivi {previous}",
            [
                doc.table(
                    "Valutazione degli obiettivi",
                    [
                        "Obiettivo",
                        "Grado di raggiungimento",
                        "Coincidenza risorse stanziate e impegnate",
                        "Cambiamento positivo",
                        "Riproposto",
                        "Criticità rilevate",
                    ],
                    facts.evaluations,
                )
                if facts.evaluations
                else _note("Nessuna valutazione registrata per la programmazione precedente.")
            ],
        ),
        paragraph(
            "1.2 Autovalutazione SWOT dei tavoli",
            [
                doc.table(
                    "Voci per dimensione e quadrante",
                    ["Dimensione", *quadrants, "Totale"],
                    [
                        [
                            d,
                            *(str(counts.get((d, q), 0)) for q in quadrants),
                            str(sum(counts.get((d, q), 0) for q in quadrants)),
                        ]
                        for d in dimensions
                    ],
                    [
                        "Totale",
                        *(str(sum(counts.get((d, q), 0) for d in dimensions)) for q in quadrants),
                        str(len(facts.swot)),
                    ],
                ),
                doc.table(
                    "Voci dell'autovalutazione", ["Dimensione", "Quadrante", "Tavolo", "Voce"], facts.swot
                ),
            ]
            if facts.swot
            else [_note("Nessuna autovalutazione SWOT chiusa in questo ciclo.")],
        ),
    ]

    # 2. context
    sections += [
        chapter("2. Contesto e quadro della conoscenza", [_narrative(facts, "contesto")]),
        paragraph(
            "2.1 Analisi demografica",
            [
                doc.table(
                    "Popolazione per sub-ambito",
                    ["Sub-ambito", "Comune capofila", "Comuni", "Residenti", "Anno del dato"],
                    facts.demography,
                    facts.demography_total or None,
                )
            ],
        ),
        paragraph(
            "2.2 Analisi della spesa sociale",
            [
                doc.table(
                    "Fondi assegnati e risorse programmate nelle schede, per anno e fonte",
                    ["Anno", "Fonte", "Assegnato", "Programmato nelle schede", "Differenza"],
                    facts.spending,
                )
                if facts.spending
                else _note("Nessuna assegnazione di fondi registrata per gli anni del ciclo.")
            ],
        ),
    ]

    # 3. subjects and networks
    sections += [
        chapter("3. Soggetti e reti del territorio", [_narrative(facts, "reti")]),
        paragraph(
            "3.1 Le organizzazioni della rete",
            [
                doc.table(
                    "Organizzazioni per tipo",
                    ["Tipo", "Numero"],
                    facts.org_kinds,
                    ["Totale", str(sum(int(r[1]) for r in facts.org_kinds))],
                )
            ],
        ),
        paragraph(
            f"3.2 Enti aderenti al Piano di Zona {cycle_name}",
            [
                doc.table(
                    "Enti aderenti",
                    ["N.", "Ente"],
                    [[str(n), name] for n, name in enumerate(facts.adherents, 1)],
                )
                if facts.adherents
                else _note("Nessuna adesione registrata per questo ciclo.")
            ],
        ),
        paragraph(
            "3.3 Tavoli tematici e reti",
            [
                doc.table(
                    "Tavoli e reti attivi",
                    ["Tavolo", "Tipo", "Aree di policy", "Enti partecipanti"],
                    facts.tavoli,
                )
            ],
        ),
    ]

    # 4. governance
    sections += [
        chapter("4. La governance", [_narrative(facts, "governance")]),
        paragraph(
            "4.1 Organismi e livelli di funzionamento",
            [
                doc.table(
                    "Organismi della governance",
                    ["Organismo", "Tipo", "Enti rappresentati"],
                    facts.governance,
                )
            ],
        ),
        paragraph(
            "4.2 Il percorso di approvazione del Piano",
            [doc.table("Passaggi", ["N.", "Passaggio"], [[str(n), s] for n, s in enumerate(facts.chain, 1)])],
        ),
    ]

    # 5. objectives, by co-programming area, then the system actions
    groups: dict[str, list[Content]] = {}
    for card in ordered:
        groups.setdefault(_co_area(card, facts), []).append(card)
    known = [key for key, _name in CO_AREAS]
    sections += [
        chapter(f"5. Gli obiettivi della programmazione {cycle_name}", [_narrative(facts, "obiettivi")]),
        paragraph("5.1 Quadro delle risorse", resource_blocks),
    ]
    number = 1
    for key, name in [*CO_AREAS, ("", OTHER_AREA)]:
        if key == "" and not any(k not in known for k in groups):
            continue
        members = [c for k, cs in groups.items() if (k == key if key else k not in known) for c in cs]
        number += 1
        rows = [
            [
                plans._area_label(plans._area(c)),
                str(c.get("title", "")),
                str(plans._data(c).get("body", "")),
                card_field(c, GENERAL_OBJECTIVE_LABEL) or DASH,
                format_cents(plans._total(c)),
            ]
            for c in plans._ordered(members)
        ]
        sections.append(
            paragraph(
                f"5.{number} {name}",
                [
                    doc.table(
                        f"Obiettivi – {name}",
                        ["Area", "Obiettivo", "Tavolo", "Obiettivo generale", "Importo"],
                        rows,
                        ["Totale", "", "", "", format_cents(sum(plans._total(c) for c in members))],
                    )
                ]
                if rows
                else [_note("Nessuna scheda approvata in quest'area.")],
            )
        )
    number += 1
    sections.append(
        paragraph(
            f"5.{number} Schede escluse dal Piano",
            [
                doc.table(
                    "Schede escluse dall'Ufficio di Piano", ["Scheda", "Tavolo", "Motivo"], facts.excluded
                )
            ]
            if facts.excluded
            else [_note("Nessuna scheda esclusa: il Piano comprende tutte le schede del ciclo.")],
        )
    )

    # 6. evaluation system
    indicator_tables = []
    for set_key, set_name in INDICATOR_SETS:
        rows = [
            [
                str(c.get("title", "")),
                str(i.get("name", "")),
                plans._with_unit(i.get("baseline", ""), i.get("unit", "")),
                plans._with_unit(i.get("target", ""), i.get("unit", "")),
            ]
            for c in ordered
            for i in plans._data(c).get("indicators", [])
            if i.get("set") == set_key
        ]
        indicator_tables.append(
            doc.table(set_name, ["Obiettivo", "Indicatore", "Valore di partenza", "Valore atteso"], rows)
        )
    sections += [
        chapter("6. Il sistema di valutazione", [_narrative(facts, "valutazione")]),
        paragraph(
            "6.1 Gli obiettivi in relazione ai domini BES",
            [
                doc.table(
                    "Domini BES per obiettivo",
                    ["Obiettivo", "BES di riferimento"],
                    [[str(c.get("title", "")), card_field(c, BES_LABEL) or DASH] for c in ordered],
                )
            ],
        ),
        paragraph("6.2 Indicatori di processo, output e outcome", indicator_tables),
        paragraph(
            "6.3 Il monitoraggio dei LEPS",
            [doc.table("LEPS e indicatori", ["LEPS", "Indicatori"], LEPS)],
        ),
    ]

    # annexes
    sections += [
        chapter("Allegati", []),
        paragraph(
            "Allegato A – Integrazione con ASST",
            [
                _narrative(facts, "asst"),
                doc.table(
                    "Coinvolgimento di ASST negli obiettivi",
                    ["Obiettivo", "Nell'analisi del bisogno e nella programmazione", "Nella realizzazione"],
                    [
                        [str(c.get("title", "")), *(card_field(c, lbl) or DASH for lbl in ASST_LABELS)]
                        for c in ordered
                    ],
                ),
            ],
        ),
        paragraph(
            "Allegato B – Le schede obiettivo",
            [_note(f"{len(ordered)} schede approvate, riportate per intero.")],
        ),
    ]
    for n, card_section in enumerate(card_sections, 1):
        sections.append(paragraph(f"B.{n} {card_section['heading']}", card_section["blocks"]))

    data = {
        **base["data"],
        "chapters": [s["heading"] for s in sections if s["level"] == 1],
        "excluded": len(facts.excluded),
    }
    return doc.document(
        "piano_di_zona",
        f"Piano di Zona {cycle_name}",
        f"{plans.AMBITO} · {len(ordered)} obiettivi",
        {"cycle": cycle_name},
        sections,
        data,
    )

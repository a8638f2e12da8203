"""The strings scripts show come from one block (issue #18 point 4): the page renders them through gettext
in `<script type="application/json" id="pdz-i18n">`, the scripts hold none of them, and English shows English."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cards_helpers import as_user, card_of

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r'<script type="application/json" id="pdz-i18n">(.*?)</script>', re.S)


def _strings(html: str) -> dict[str, dict[str, str]]:
    found = BLOCK.findall(html)
    assert len(found) == 1, "one block of script strings per page"
    return json.loads(found[0])


def test_the_card_page_gives_its_script_strings_in_the_person_s_language(client_as: Any, db: Any) -> None:
    card = card_of(db, "A")
    client = as_user(client_as, "membro@example.org")
    italian = _strings(client.get(f"/schede/{card.id}").get_data(as_text=True))
    assert italian["cards"]["saved"] == "Salvato."
    assert italian["swot"]["remove_failed"] == "Rimozione non riuscita."
    assert "«{body}»" in italian["cards"]["moved"]  # the script fills in the tavolo's name

    assert client.post("/profilo", data={"full_name": "Membro Demo", "locale": "en"}).status_code == 302
    english = _strings(client.get(f"/schede/{card.id}").get_data(as_text=True))
    assert english["cards"]["saved"] == "Saved."
    assert english["meetings"]["failed"] == "Operation failed."
    assert "«{body}»" in english["cards"]["moved"]
    assert english.keys() == italian.keys()
    for script, strings in italian.items():
        assert english[script].keys() == strings.keys()


def test_the_scripts_hold_none_of_the_strings_they_show(client_as: Any, db: Any) -> None:
    card = card_of(db, "A")
    strings = _strings(
        as_user(client_as, "membro@example.org").get(f"/schede/{card.id}").get_data(as_text=True)
    )
    for script, texts in strings.items():
        source = (ROOT / "static" / "js" / f"{script}.js").read_text(encoding="utf-8")
        assert 'getElementById("pdz-i18n")' in source
        for text in texts.values():
            for part in text.split("{"):  # the text around a placeholder
                part = part.split("}")[-1].strip(" «»:.")
                if len(part) > 3:
                    assert part not in source, f"{script}.js still writes «{part}»"

"""Italian labels (translatable) for every enum value shown to users: the registry. Each domain registers the
labels of its enums in its own `labels.py`, beside its models; `pdz.models` imports them all."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from wtforms.fields.choices import SelectChoice


class EnumLabels(dict):  # type: ignore[type-arg]
    """Labels keyed by (enum class, value): two enums may share a value ("bozza") with different labels."""

    @staticmethod
    def _key(key: Any) -> Any:
        return (type(key), key.value) if isinstance(key, StrEnum) else key

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._key(key), value)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._key(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._key(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._key(key), default)

    def update(self, pairs: Any = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        """Takes (key, label) pairs: a dict literal would already have merged enum members of equal value."""
        if isinstance(pairs, dict):
            raise TypeError("EnumLabels.update takes a list of (key, label) pairs, not a dict")
        for key, value in [*pairs, *kwargs.items()]:
            self[key] = value


LABELS = EnumLabels()  # each domain registers its labels in its labels.py (imported by pdz.models)
# The feminine form of the labels of roles and functions, used for people who said so in their profile.
FEMININE = EnumLabels()


def label(value: Any, person: Any = None) -> str:
    """The label of an enum value; for a role or function of `person`, in the form of their gender where they
    gave it (a woman co-coordinating reads "Co-coordinatrice")."""
    if value is None:
        return "—"
    if isinstance(value, StrEnum):
        if person is not None and getattr(person, "gender", None) == "f" and value in FEMININE:
            return str(FEMININE[value])
        return str(LABELS.get(value, value.value))
    return str(value)


def options(pairs: list[tuple[Any, Any]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, str(text)) for value, text in pairs]


def choices(enum: type[StrEnum]) -> list[SelectChoice]:
    return options([(member.value, label(member)) for member in enum])

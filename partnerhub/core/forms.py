"""Form helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator


class ReadOnceModelChoiceIterator(ModelChoiceIterator):
    """A model choice field's options from one plain query, kept for the iterator's life.

    A template's ``{% for %}`` over ``field.choices`` takes their length, then iterates them:
    Django's iterator counts the queryset, then reads it through a server-side cursor, a COUNT
    and a DECLARE, FETCH and CLOSE for every ``<select>`` of every page view.
    """

    def __init__(self, field: Any) -> None:
        super().__init__(field)
        self._rows: list[Any] | None = None

    def _head(self) -> list[tuple[Any, Any]]:
        field: Any = self.field
        head: list[tuple[Any, Any]] = []
        if field.empty_label is not None:
            head.append(("", field.empty_label))
        if getattr(field, "null_label", None) is not None:  # django-filter's null choice
            head.append((field.null_value, field.null_label))
        return head

    def _all(self) -> list[Any]:
        if self._rows is None:
            self._rows = list(self.queryset)
        return self._rows

    def __iter__(self) -> Iterator[Any]:
        yield from self._head()
        for obj in self._all():
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self._head()) + len(self._all())

    def __bool__(self) -> bool:
        return bool(self._head()) or bool(self._all())


def read_choices_once(form: forms.Form) -> forms.Form:
    """``form`` with each model choice field reading its options once, in one plain query."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            field.iterator = ReadOnceModelChoiceIterator
    return form

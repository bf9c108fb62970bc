"""An operation's query parameters in the OpenAPI document, written from the Django form that
validates them: the form is the one home of each parameter's rules (choices, lengths, ranges),
and the document cannot drift from what the server accepts."""

from typing import Any

from django import forms

from api.errors import ApiError
from firecrawl_dash.forms import QueryForm


def query_parameters(form_class: type[forms.Form], *, hidden: tuple[str, ...] = ()) -> list[Any]:
    """OpenAPI parameter objects for every field of `form_class` but `hidden` ones (accepted,
    not advertised)."""
    return [
        {
            "in": "query",
            "name": name,
            "required": False,
            "description": str(field.help_text or field.label or name),
            "schema": _schema(field),
            **({"style": "form", "explode": True} if _is_list(field) else {}),
            # The forms read an empty value as no value (`?status=` is any status), as the
            # browser's filter forms send it.
            **({} if field.required or _is_list(field) else {"allowEmptyValue": True}),
        }
        for name, field in form_class.base_fields.items()
        if name not in hidden
    ]


def _is_list(field: forms.Field) -> bool:
    return isinstance(field, forms.MultipleChoiceField)


def _schema(field: forms.Field) -> dict[str, Any]:
    if isinstance(field, forms.ChoiceField):
        choices: Any = field.choices
        values = [value for value, _label in choices if value != ""]
        if isinstance(field, forms.TypedChoiceField) and field.coerce is int:
            item: dict[str, Any] = {"type": "integer", "enum": [int(v) for v in values]}
        else:
            item = {"type": "string", "enum": [str(v) for v in values]}
        return {"type": "array", "items": item} if _is_list(field) else item
    if isinstance(field, forms.IntegerField):
        schema: dict[str, Any] = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    schema = {"type": "string"}
    if isinstance(field, forms.CharField) and field.max_length is not None:
        schema["maxLength"] = field.max_length
    return schema


def validated[F: QueryForm](form: F) -> F:
    """The form, validated, or a 400 that says what is wrong with the query string."""
    if not form.is_valid():
        raise ApiError(400, form.error_text())
    return form

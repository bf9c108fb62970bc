"""What every app's forms over a query string share: unknown or repeated parameters are errors,
and one readable sentence per problem for the 400 page."""

from typing import Any

from django import forms


class QueryForm(forms.Form):
    """A form over a query string: unknown or repeated parameters are errors, not ignored
    (a typo such as ?stauts=4xx would otherwise silently show everything)."""

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, *args, **kwargs)
        self.unknown = sorted(set(data) - set(self.fields))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.unknown:
            raise forms.ValidationError(
                "Unknown parameter(s): %(names)s.", params={"names": ", ".join(self.unknown)}
            )
        for name in self.fields:
            # Repeated parameters (?page=1&page=9) are ambiguous: say so instead of picking one.
            if hasattr(self.data, "getlist") and len(self.data.getlist(name)) > 1:
                self.add_error(name, "Give this parameter once.")
        return cleaned

    def error_text(self) -> str:
        return error_text(self)


def error_text(form: forms.Form) -> str:
    """One readable sentence per problem of a form over a query string, for the 400 page."""
    lines = [str(message) for message in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        label = form.fields[name].label or name
        lines += [f"{label} ({name}): {message}" for message in errors]
    return " ".join(lines)


class NoParameters(QueryForm):
    """These pages take no query string: anything in it is a mistake worth saying."""

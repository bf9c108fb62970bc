"""A form's choice of one of its owner's keys: only theirs are offered, the default chosen."""

from typing import Any

from django import forms

from keys.models import ApiKey


class KeyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.key_hint}, {obj.api_version})"


class OwnKeyMixin(forms.Form):
    """A form with an `api_key` field offering the owner's keys only, the default one chosen
    (and hidden when there is one key): another user's key is never a choice."""

    def offer_keys(self, owner: Any) -> None:
        keys = ApiKey.objects.filter(owner=owner).defer("key")
        key_field = self.fields["api_key"]
        assert isinstance(key_field, forms.ModelChoiceField)
        key_field.queryset = keys
        key_field.empty_label = None
        self.default_key = next((key for key in keys if key.is_default), None) or (
            keys[0] if keys else None
        )
        if self.default_key is not None and "api_key" not in self.initial:
            key_field.initial = self.default_key.pk
        if len(keys) == 1:
            key_field.widget = forms.HiddenInput()

    def clean_api_key(self) -> ApiKey:
        key: ApiKey | None = self.cleaned_data.get("api_key") or self.default_key
        if key is None:
            raise forms.ValidationError("Add a Firecrawl API key first (API keys page).")
        return key

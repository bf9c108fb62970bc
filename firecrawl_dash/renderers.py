"""How every form renders: Django's `{{ form }}` with the project's own field template."""

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    # Labels without a ":" suffix, help texts and errors tied to their inputs (aria-describedby,
    # aria-invalid: Django adds both to the widget), errors announced with role="alert".
    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"

"""The job page's mute switch: no notifications about this one job, or them again."""

from django import forms


class MuteForm(forms.Form):
    muted = forms.BooleanField(required=False)

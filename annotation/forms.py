"""Forms of the server-rendered pages (the lead's project settings)."""

from __future__ import annotations

from django import forms

from annotation.models import Project, Role


class ProjectSettingsForm(forms.ModelForm[Project]):
    class Meta:
        model = Project
        fields = ["name", "description", "blinded", "prelabel_on_import", "keep_original_files"]
        labels = {
            "blinded": "Blinded reads (readers see only their own read)",
            "prelabel_on_import": "Pre-label new cases with the active models",
            "keep_original_files": "Keep the original files (they contain patient identifiers)",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices)

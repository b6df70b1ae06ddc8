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


SPLIT_NAMES = ("train", "tune", "test")
READ_ROLE_NAMES = ("annotator", "reader")


class StudyDesignForm(forms.Form):
    """The study design section of the settings page (annotation.services.design validates)."""

    split_method = forms.ChoiceField(
        choices=[("ratio", "By ratio with the seed"), ("list", "Keep the uploaded list")],
        label="Split cases",
    )
    seed = forms.IntegerField(min_value=0, max_value=2**62)
    ratio_train = forms.IntegerField(min_value=0, max_value=1000, label="Train")
    ratio_tune = forms.IntegerField(min_value=0, max_value=1000, label="Tune")
    ratio_test = forms.IntegerField(min_value=0, max_value=1000, label="Test")
    overlap_percent = forms.IntegerField(
        min_value=0, max_value=100, label="Overlap cases (%, a second annotator read)"
    )
    # reads_<split>_<role>: reads each case of the split needs from that role.
    reads_train_annotator = forms.IntegerField(min_value=0, max_value=3)
    reads_train_reader = forms.IntegerField(min_value=0, max_value=3)
    reads_tune_annotator = forms.IntegerField(min_value=0, max_value=3)
    reads_tune_reader = forms.IntegerField(min_value=0, max_value=3)
    reads_test_annotator = forms.IntegerField(min_value=0, max_value=3)
    reads_test_reader = forms.IntegerField(min_value=0, max_value=3)
    aided_annotator = forms.BooleanField(required=False, label="Annotators see the model")
    aided_reader = forms.BooleanField(required=False, label="Readers see the model")
    aided_reviewer = forms.BooleanField(required=False, label="Reviewers see the model")
    aided_lead = forms.BooleanField(required=False, label="Leads see the model")

    def reads_required(self) -> dict[str, dict[str, int]]:
        data = self.cleaned_data
        return {
            split: {role: int(data[f"reads_{split}_{role}"]) for role in READ_ROLE_NAMES}
            for split in SPLIT_NAMES
        }

    def aided(self) -> dict[str, bool]:
        return {role: bool(self.cleaned_data[f"aided_{role}"]) for role in Role.values}


class SplitListForm(forms.Form):
    file = forms.FileField(label="Split list (CSV: pseudonym,split)")

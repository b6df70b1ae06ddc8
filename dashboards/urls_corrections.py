"""Route of the corrections summary (active learning's "what the model gets wrong")."""

from django.urls import path

from dashboards.apis_corrections import ProjectCorrectionsApi

urlpatterns = [
    path(
        "projects/<slug:slug>/corrections",
        ProjectCorrectionsApi.as_view(),
        name="api-project-corrections",
    ),
]

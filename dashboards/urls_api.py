"""JSON API routes of the dashboards app (see docs/API.md, "Dashboards")."""

from django.urls import path

from dashboards import apis

urlpatterns = [
    path(
        "projects/<slug:slug>/dashboard/progress",
        apis.ProgressApi.as_view(),
        name="api-dashboard-progress",
    ),
    path(
        "projects/<slug:slug>/dashboard/agreement",
        apis.AgreementApi.as_view(),
        name="api-dashboard-agreement",
    ),
]

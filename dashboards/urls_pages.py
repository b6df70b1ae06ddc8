"""Page routes of the dashboards app."""

from django.urls import path

from dashboards import pages

urlpatterns = [
    path(
        "projects/<slug:slug>/dashboards/progress",
        pages.progress_view,
        name="dashboard-progress",
    ),
    path(
        "projects/<slug:slug>/dashboards/agreement",
        pages.agreement_view,
        name="dashboard-agreement",
    ),
]

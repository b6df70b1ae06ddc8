"""Page routes of the reports app."""

from django.urls import path

from reports import pages

urlpatterns = [
    path("projects/<slug:slug>/reports", pages.project_reports_view, name="project-reports"),
]

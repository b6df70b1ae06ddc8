"""Page routes of the exports app."""

from django.urls import path

from exports import pages

urlpatterns = [
    path("projects/<slug:slug>/exports", pages.project_exports_view, name="project-exports"),
]

"""Page routes of the inference app."""

from django.urls import path

from inference import pages

urlpatterns = [
    path("projects/<slug:slug>/models/", pages.models_view, name="project-models"),
]

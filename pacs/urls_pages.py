"""Page routes of the PACS import."""

from django.urls import path

from pacs import pages

urlpatterns = [
    path("projects/<slug:slug>/pacs/", pages.pacs_page, name="pacs"),
]

"""JSON API routes of the PACS import (see docs/API.md, "PACS")."""

from django.urls import path

from pacs import apis

urlpatterns = [
    path(
        "projects/<slug:slug>/pacs/connection",
        apis.ConnectionApi.as_view(),
        name="api-pacs-connection",
    ),
    path(
        "projects/<slug:slug>/pacs/studies", apis.StudySearchApi.as_view(), name="api-pacs-studies"
    ),
    path(
        "projects/<slug:slug>/pacs/imports", apis.ImportListApi.as_view(), name="api-pacs-imports"
    ),
    path(
        "projects/<slug:slug>/pacs/imports/<int:import_id>",
        apis.ImportDetailApi.as_view(),
        name="api-pacs-import",
    ),
    path(
        "projects/<slug:slug>/pacs/imports/<int:import_id>/retry",
        apis.ImportRetryApi.as_view(),
        name="api-pacs-import-retry",
    ),
]

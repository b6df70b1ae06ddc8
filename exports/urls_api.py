"""JSON API routes of the exports app."""

from django.urls import path

from exports import apis

urlpatterns = [
    path(
        "projects/<slug:slug>/exports",
        apis.ProjectExportListApi.as_view(),
        name="api-project-exports",
    ),
    path(
        "projects/<slug:slug>/exports/formats",
        apis.ProjectExportFormatsApi.as_view(),
        name="api-project-export-formats",
    ),
    path("exports/<int:export_id>", apis.ExportDetailApi.as_view(), name="api-export"),
    path(
        "exports/<int:export_id>/download",
        apis.ExportDownloadApi.as_view(),
        name="api-export-download",
    ),
]

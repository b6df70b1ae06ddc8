"""JSON API routes of the annotation app (see docs/API.md)."""

from django.urls import path

from annotation.apis import cases, imports, labelme, pixels, projects, reads

urlpatterns = [
    path("me", projects.MeApi.as_view(), name="api-me"),
    path("projects", projects.ProjectListApi.as_view(), name="api-project-list"),
    path("projects/<slug:slug>", projects.ProjectDetailApi.as_view(), name="api-project"),
    path("projects/<slug:slug>/cases", cases.CaseListApi.as_view(), name="api-case-list"),
    path("projects/<slug:slug>/imports", imports.ImportCreateApi.as_view(), name="api-imports"),
    path("cases/<int:case_id>", cases.CaseDetailApi.as_view(), name="api-case"),
    path("cases/<int:case_id>/reads", reads.CaseReadListApi.as_view(), name="api-case-reads"),
    path("images/<int:image_id>/pixels", pixels.image_pixels, name="api-image-pixels"),
    path("series/<int:series_id>/thumbnail", pixels.series_thumbnail, name="api-series-thumbnail"),
    path("reads/<int:read_id>", reads.ReadDetailApi.as_view(), name="api-read"),
    path("reads/<int:read_id>/revisions", reads.RevisionCreateApi.as_view(), name="api-revisions"),
    path("reads/<int:read_id>/restore", reads.RevisionRestoreApi.as_view(), name="api-restore"),
    path("revisions/<int:revision_id>", reads.RevisionDetailApi.as_view(), name="api-revision"),
    path(
        "images/<int:image_id>/labelme",
        labelme.ImageLabelmeExportApi.as_view(),
        name="api-image-labelme",
    ),
    path("reads/<int:read_id>/labelme", labelme.ReadLabelmeImportApi.as_view(), name="api-labelme"),
]

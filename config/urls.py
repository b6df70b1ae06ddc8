"""URL configuration: pages, the JSON API under /api/, and the admin when ADMIN_ENABLED."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", include("annotation.urls_api")),
    path("api/", include("inference.urls_api")),
    path("api/", include("measurements.urls_api")),
    path("api/", include("dashboards.urls_api")),
    path("api/", include("dashboards.urls_corrections")),
    path("api/", include("pacs.urls_api")),
    path("api/", include("exports.urls_api")),
    path("api/", include("reports.urls_api")),
    path("", include("annotation.urls_pages")),
    path("", include("measurements.urls_pages")),
    path("", include("pacs.urls_pages")),
    path("", include("dashboards.urls_pages")),
    path("", include("inference.urls_pages")),
    path("", include("reports.urls_pages")),
    path("", include("exports.urls_pages")),
]
if settings.ADMIN_ENABLED:
    urlpatterns.insert(0, path("admin/", admin.site.urls))

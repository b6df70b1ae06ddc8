"""URL configuration: pages, the JSON API under /api/, and the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("annotation.urls_api")),
    path("api/", include("inference.urls_api")),
    path("api/", include("measurements.urls_api")),
    path("", include("annotation.urls_pages")),
]

"""The OpenAPI 3 schema of every /api/ route (drf-spectacular) and its browsable docs.

Both are public: the schema describes routes, not data. The docs page is Swagger UI from
drf-spectacular-sidecar (served by this site, nothing from a CDN); its start-up script is
a separate request, so the page's CSP ("script-src 'self'") holds.
"""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

import annotation.apis.openapi  # noqa: F401  (registers the schema extensions)


class ApiSchemaView(SpectacularAPIView):
    permission_classes = [AllowAny]


class ApiDocsView(SpectacularSwaggerSplitView):
    permission_classes = [AllowAny]
    template_name = "annotation/api_docs.html"
    url_name = "api-schema"
    title = "SpineLabel API"

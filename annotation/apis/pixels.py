"""Pixel delivery: a slice at full bit depth, cacheable, with its geometry in headers.

A plain Django view rather than DRF: this is the hottest endpoint (every slice of every
scroll) and it needs nothing from DRF but authentication: the session's, or a personal
API token's (``Authorization: Bearer``).
"""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_GET
from rest_framework.exceptions import AuthenticationFailed

from annotation.authentication import plain_view_user
from annotation.pixels import pixel_read_bytes
from annotation.selectors.access import access_image, access_series


def _unauthenticated() -> HttpResponse:
    return HttpResponse(
        b'{"detail": "Authentication credentials were not provided."}',
        status=403,
        content_type="application/json",
    )


def _bad_token(exc: AuthenticationFailed) -> HttpResponse:
    response = HttpResponse(
        json.dumps({"detail": str(exc.detail), "code": "invalid_token"}).encode(),
        status=401,
        content_type="application/json",
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@require_GET
def image_pixels(request: HttpRequest, image_id: int) -> HttpResponse:
    try:
        user = plain_view_user(request)
    except AuthenticationFailed as exc:
        return _bad_token(exc)
    if not user.is_authenticated:
        return _unauthenticated()
    image = access_image(user=user, image_id=image_id)
    etag = f'"{image.sha256}"'
    if etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        try:
            body = pixel_read_bytes(image.pixel_path)
        except FileNotFoundError as exc:
            raise Http404("pixel data missing") from exc
        response = HttpResponse(body, content_type="application/octet-stream")
        series = image.series
        response["X-Rows"] = str(series.rows)
        response["X-Columns"] = str(series.columns)
        response["X-Dtype"] = series.dtype
        response["X-Pixel-Spacing"] = f"{series.pixel_spacing_row},{series.pixel_spacing_col}"
        response["X-Window"] = f"{series.window_center},{series.window_width}"
    response["ETag"] = etag
    # Pixels never change for a given URL: the browser may keep them for the session.
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@require_GET
def series_thumbnail(request: HttpRequest, series_id: int) -> HttpResponse:
    try:
        user = plain_view_user(request)
    except AuthenticationFailed as exc:
        return _bad_token(exc)
    if not user.is_authenticated:
        return _unauthenticated()
    series, _ = access_series(user=user, series_id=series_id)
    if not series.thumbnail:
        raise Http404("no thumbnail")
    response = HttpResponse(bytes(series.thumbnail), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response

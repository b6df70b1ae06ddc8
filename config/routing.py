"""WebSocket routes."""

from django.urls import path

from annotation.consumers import CaseConsumer

websocket_urlpatterns = [
    path("ws/cases/<int:case_id>/", CaseConsumer.as_asgi()),
]

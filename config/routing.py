"""WebSocket routes."""

from django.urls import path

from annotation.consumers import CaseConsumer, ProjectConsumer

websocket_urlpatterns = [
    path("ws/cases/<int:case_id>/", CaseConsumer.as_asgi()),
    path("ws/projects/<slug:slug>/", ProjectConsumer.as_asgi()),
]

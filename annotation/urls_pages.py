"""Page routes: login, project and case lists, the viewer."""

from django.urls import path

urlpatterns: list[object] = []

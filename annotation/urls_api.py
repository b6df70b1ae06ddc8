"""JSON API routes of the annotation app."""

from django.urls import path

urlpatterns: list[object] = []

"""Page routes of the measurements app."""

from django.urls import path

from measurements import pages

urlpatterns = [
    path(
        "cases/<int:case_id>/measurements",
        pages.case_measurements_view,
        name="case-measurements",
    ),
]

"""JSON API routes of the measurements app."""

from django.urls import path

from measurements import apis, apis_case

urlpatterns = [
    path(
        "revisions/<int:revision_id>/measurements",
        apis.RevisionMeasurementsApi.as_view(),
        name="api-revision-measurements",
    ),
    path("cases/<int:case_id>/measure", apis.CaseMeasurePreviewApi.as_view(), name="api-measure"),
    path(
        "cases/<int:case_id>/review/measurements",
        apis.CaseReviewMeasurementsApi.as_view(),
        name="api-case-review-measurements",
    ),
    path(
        "cases/<int:case_id>/measurements",
        apis_case.CaseMeasurementsApi.as_view(),
        name="api-case-measurements",
    ),
]

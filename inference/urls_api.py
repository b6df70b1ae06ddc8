"""JSON API routes of the inference app."""

from django.urls import path

from inference import apis, apis_strategy, apis_suggestions

urlpatterns = [
    path("cases/<int:case_id>/prelabel", apis.CasePrelabelApi.as_view(), name="api-case-prelabel"),
    path("cases/<int:case_id>/jobs", apis.CaseJobListApi.as_view(), name="api-case-jobs"),
    path(
        "projects/<slug:slug>/prelabel",
        apis.ProjectPrelabelApi.as_view(),
        name="api-project-prelabel",
    ),
    path("projects/<slug:slug>/jobs", apis.ProjectJobListApi.as_view(), name="api-project-jobs"),
    path("jobs/<int:job_id>", apis.JobDetailApi.as_view(), name="api-job"),
    path(
        "reads/<int:read_id>/suggestions",
        apis_suggestions.ReadSuggestionsApi.as_view(),
        name="api-read-suggestions",
    ),
    path(
        "projects/<slug:slug>/retrain", apis.ProjectRetrainApi.as_view(), name="api-project-retrain"
    ),
    path(
        "projects/<slug:slug>/retrain/jobs",
        apis.ProjectRetrainJobListApi.as_view(),
        name="api-project-retrain-jobs",
    ),
    path("projects/<slug:slug>/models", apis.ProjectModelListApi.as_view(), name="api-models"),
    path(
        "projects/<slug:slug>/models/<int:model_id>/promote",
        apis.ProjectModelPromoteApi.as_view(),
        name="api-model-promote",
    ),
    path(
        "projects/<slug:slug>/models/<int:model_id>/activate",
        apis.ProjectModelActivateApi.as_view(),
        name="api-model-activate",
    ),
    path(
        "projects/<slug:slug>/strategy",
        apis_strategy.ProjectStrategyApi.as_view(),
        name="api-project-strategy",
    ),
]

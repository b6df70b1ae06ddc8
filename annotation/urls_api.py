"""JSON API routes of the annotation app (see docs/API.md)."""

from django.urls import path

from annotation.apis import (
    cases,
    comments,
    design,
    gold,
    history,
    imports,
    labelme,
    pixels,
    projects,
    queue,
    queue_counts,
    reads,
    review,
    schema,
    submit,
    tokens,
    transitions,
)

urlpatterns = [
    path("schema/", schema.ApiSchemaView.as_view(), name="api-schema"),
    path("docs/", schema.ApiDocsView.as_view(), name="api-docs"),
    path("me", projects.MeApi.as_view(), name="api-me"),
    path("me/tokens", tokens.TokenListApi.as_view(), name="api-tokens"),
    path("me/tokens/<int:token_id>", tokens.TokenDetailApi.as_view(), name="api-token"),
    path("projects", projects.ProjectListApi.as_view(), name="api-project-list"),
    path("projects/<slug:slug>", projects.ProjectDetailApi.as_view(), name="api-project"),
    path("projects/<slug:slug>/cases", cases.CaseListApi.as_view(), name="api-case-list"),
    path("projects/<slug:slug>/imports", imports.ImportCreateApi.as_view(), name="api-imports"),
    path("projects/<slug:slug>/design", design.DesignApi.as_view(), name="api-design"),
    path(
        "projects/<slug:slug>/design/splits",
        design.SplitListApi.as_view(),
        name="api-design-splits",
    ),
    path("projects/<slug:slug>/queue/next", queue.QueueNextApi.as_view(), name="api-queue-next"),
    path("projects/<slug:slug>/claims", queue.ClaimListApi.as_view(), name="api-claims"),
    path(
        "projects/<slug:slug>/queue/counts",
        queue_counts.QueueCountsApi.as_view(),
        name="api-queue-counts",
    ),
    path("claims/<int:claim_id>/renew", queue.ClaimRenewApi.as_view(), name="api-claim-renew"),
    path(
        "claims/<int:claim_id>/release", queue.ClaimReleaseApi.as_view(), name="api-claim-release"
    ),
    path(
        "claims/<int:claim_id>/reassign",
        queue.ClaimReassignApi.as_view(),
        name="api-claim-reassign",
    ),
    path("reads/<int:read_id>/submit", submit.ReadSubmitApi.as_view(), name="api-read-submit"),
    path("reads/<int:read_id>/check", submit.ReadCheckApi.as_view(), name="api-read-check"),
    path("cases/<int:case_id>/reopen", transitions.CaseReopenApi.as_view(), name="api-case-reopen"),
    path("cases/<int:case_id>", cases.CaseDetailApi.as_view(), name="api-case"),
    path("cases/<int:case_id>/reads", reads.CaseReadListApi.as_view(), name="api-case-reads"),
    path("images/<int:image_id>/pixels", pixels.image_pixels, name="api-image-pixels"),
    path("series/<int:series_id>/thumbnail", pixels.series_thumbnail, name="api-series-thumbnail"),
    path("reads/<int:read_id>", reads.ReadDetailApi.as_view(), name="api-read"),
    path("reads/<int:read_id>/revisions", reads.RevisionCreateApi.as_view(), name="api-revisions"),
    path("reads/<int:read_id>/restore", reads.RevisionRestoreApi.as_view(), name="api-restore"),
    path("revisions/<int:revision_id>", reads.RevisionDetailApi.as_view(), name="api-revision"),
    path(
        "images/<int:image_id>/labelme",
        labelme.ImageLabelmeExportApi.as_view(),
        name="api-image-labelme",
    ),
    path("reads/<int:read_id>/labelme", labelme.ReadLabelmeImportApi.as_view(), name="api-labelme"),
    # Review and gold standard (issue 9).
    path("cases/<int:case_id>/review", review.CaseReviewApi.as_view(), name="api-case-review"),
    path("cases/<int:case_id>/gold", gold.GoldApi.as_view(), name="api-gold"),
    path(
        "cases/<int:case_id>/gold/compose",
        gold.GoldComposeApi.as_view(),
        name="api-gold-compose",
    ),
    path("cases/<int:case_id>/gold/sign", gold.GoldSignApi.as_view(), name="api-gold-sign"),
    path("cases/<int:case_id>/return", gold.CaseReturnApi.as_view(), name="api-case-return"),
    path(
        "cases/<int:case_id>/comments",
        comments.CaseCommentsApi.as_view(),
        name="api-case-comments",
    ),
    path(
        "cases/<int:case_id>/comments/<int:comment_id>/resolve",
        comments.CommentResolveApi.as_view(),
        name="api-comment-resolve",
    ),
    path("cases/<int:case_id>/history", history.CaseHistoryApi.as_view(), name="api-case-history"),
]

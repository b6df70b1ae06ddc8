"""Who handles each domain event, and when: every consequence of a save is listed here.

Events are defined in annotation/domain_events.py and published with `publish(event)`.
Subscribers of an event run in the order listed:
- IN_TRANSACTION: now, inside the publisher's transaction; the handler's writes commit or
  roll back with it, and its exception aborts the publisher's work.
- AFTER_COMMIT: once the publisher's transaction commits (at once when there is none),
  never after a rollback; a failure is logged and the committed work stands.
Live events to browsers (annotation/live.py) are one kind of subscriber: they announce
after commit. To add a consequence, write a handler taking the event in the app that owns
the work, and add one row here (settings.DOMAIN_EVENT_SUBSCRIBERS names this table).
"""

from __future__ import annotations

from typing import Any

from annotation.announcements import (
    case_state_announce,
    claim_changed_announce,
    queue_counts_on_state,
    read_submitted_announce,
    revision_announce,
)
from annotation.domain_events import (
    AFTER_COMMIT,
    IN_TRANSACTION,
    CasesImported,
    CaseStateChanged,
    ClaimChanged,
    CommentPosted,
    CommentResolved,
    GoldSigned,
    JobFinished,
    ReadSubmitted,
    RevisionSaved,
    Subscriber,
    on,
)
from annotation.services.comments import comment_posted_announce, comment_resolved_announce
from annotation.services.design import splits_assign_new
from annotation.services.gold import gold_provenance_on_save, gold_signed_announce
from dashboards.services.corrections import correction_on_gold, correction_on_submit
from dashboards.services.counter import (
    counter_on_claim,
    counter_on_gold,
    counter_on_import,
    counter_on_job,
    counter_on_state,
    counter_on_submit,
)
from dashboards.services.events import (
    activity_on_save,
    agreement_on_gold,
    agreement_on_job,
    agreement_on_state,
    agreement_on_submit,
    dashboard_on_claim,
    dashboard_on_gold,
    dashboard_on_job,
    dashboard_on_save,
    dashboard_on_state,
    dashboard_on_submit,
)
from inference.announcements import job_finished_announce
from inference.services.jobs import prelabel_on_import
from inference.services.retrain import retrain_on_gold_signed
from inference.services.scores import scores_on_prelabel
from measurements.services import measurements_announce, measurements_on_save

SUBSCRIBERS: tuple[Subscriber[Any], ...] = (
    # A revision was appended to a read (save, restore, labelme import, pre-label).
    on(RevisionSaved, IN_TRANSACTION, gold_provenance_on_save, does="gold: shape provenance"),
    on(RevisionSaved, IN_TRANSACTION, measurements_on_save, does="store its measurements"),
    on(RevisionSaved, AFTER_COMMIT, revision_announce, does="live: revision.saved"),
    on(RevisionSaved, AFTER_COMMIT, measurements_announce, does="live: measurement.updated"),
    on(RevisionSaved, IN_TRANSACTION, activity_on_save, does="dashboard: author's active time"),
    on(RevisionSaved, AFTER_COMMIT, dashboard_on_save, does="live: dashboard.changed"),
    # A case changed state (pre-labelled; later: submitted, reviewed).
    on(CaseStateChanged, AFTER_COMMIT, case_state_announce, does="live: case.state_changed"),
    on(CaseStateChanged, AFTER_COMMIT, queue_counts_on_state, does="live: queue.changed"),
    on(CaseStateChanged, IN_TRANSACTION, agreement_on_state, does="dashboard: reopened gold"),
    on(CaseStateChanged, IN_TRANSACTION, counter_on_state, does="dashboard: change counter"),
    on(CaseStateChanged, AFTER_COMMIT, dashboard_on_state, does="live: dashboard.changed"),
    # A claim was taken, renewed, released, expired, reassigned or ended by a submission.
    on(ClaimChanged, AFTER_COMMIT, claim_changed_announce, does="live: claim + queue.changed"),
    on(ClaimChanged, IN_TRANSACTION, counter_on_claim, does="dashboard: change counter"),
    on(ClaimChanged, AFTER_COMMIT, dashboard_on_claim, does="live: dashboard.changed"),
    # A read's author submitted it.
    on(ReadSubmitted, AFTER_COMMIT, read_submitted_announce, does="live: read.submitted"),
    on(ReadSubmitted, IN_TRANSACTION, agreement_on_submit, does="dashboard: case's agreement"),
    on(ReadSubmitted, IN_TRANSACTION, counter_on_submit, does="dashboard: change counter"),
    on(ReadSubmitted, AFTER_COMMIT, dashboard_on_submit, does="live: dashboard.changed"),
    on(ReadSubmitted, AFTER_COMMIT, correction_on_submit, does="queue: correction of pre-label"),
    # An import created cases.
    on(CasesImported, AFTER_COMMIT, splits_assign_new, does="split them by the study design"),
    on(CasesImported, AFTER_COMMIT, counter_on_import, does="dashboard: change counter (split)"),
    on(CasesImported, AFTER_COMMIT, prelabel_on_import, does="queue pre-labelling if on"),
    # A pre-label job ended (succeeded or failed).
    on(JobFinished, AFTER_COMMIT, job_finished_announce, does="live: job.progress (final)"),
    on(JobFinished, IN_TRANSACTION, agreement_on_job, does="dashboard: model read agreement"),
    on(JobFinished, IN_TRANSACTION, counter_on_job, does="dashboard: change counter"),
    on(JobFinished, AFTER_COMMIT, dashboard_on_job, does="live: dashboard.changed"),
    on(JobFinished, AFTER_COMMIT, scores_on_prelabel, does="queue: case's selection score"),
    # A reviewer signed the gold standard of a case.
    on(GoldSigned, AFTER_COMMIT, gold_signed_announce, does="live: gold.signed"),
    on(GoldSigned, AFTER_COMMIT, retrain_on_gold_signed, does="retrain after N new train gold"),
    on(GoldSigned, IN_TRANSACTION, agreement_on_gold, does="dashboard: case's agreement"),
    on(GoldSigned, IN_TRANSACTION, counter_on_gold, does="dashboard: change counter"),
    on(GoldSigned, AFTER_COMMIT, dashboard_on_gold, does="live: dashboard.changed"),
    on(GoldSigned, AFTER_COMMIT, correction_on_gold, does="queue: correction of pre-label"),
    # A comment was posted, or its thread resolved or reopened.
    on(CommentPosted, AFTER_COMMIT, comment_posted_announce, does="live: comment.posted"),
    on(CommentResolved, AFTER_COMMIT, comment_resolved_announce, does="live: comment.resolved"),
)

"""The annotation domain: projects and members, imaging data, reads and revisions."""

from annotation.models.imaging import Case, CaseState, Image, Series, Split
from annotation.models.projects import Membership, Project, Role
from annotation.models.reads import LiveEvent, Read, ReadKind, Revision
from annotation.models.review import (
    CaseTransition,
    Claim,
    ClaimPurpose,
    Comment,
    GoldSignature,
    ReadSubmission,
    ReleaseReason,
    SplitMethod,
    StudyDesign,
)
from annotation.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "Case",
    "CaseState",
    "CaseTransition",
    "Claim",
    "ClaimPurpose",
    "Comment",
    "GoldSignature",
    "Image",
    "LiveEvent",
    "Membership",
    "Project",
    "Read",
    "ReadKind",
    "ReadSubmission",
    "ReleaseReason",
    "Revision",
    "Role",
    "Series",
    "Split",
    "SplitMethod",
    "StudyDesign",
]

"""The annotation domain: projects and members, imaging data, reads and revisions."""

from annotation.models.imaging import Case, Image, Series
from annotation.models.projects import Membership, Project, Role
from annotation.models.reads import LiveEvent, Read, ReadKind, Revision

__all__ = [
    "Case",
    "Image",
    "LiveEvent",
    "Membership",
    "Project",
    "Read",
    "ReadKind",
    "Revision",
    "Role",
    "Series",
]

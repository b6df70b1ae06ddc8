"""WebSocket consumers: a socket joins a case's or project's group if its user may see it,
and re-checks its rights for every event it forwards.

Rights (role, blinding) are cached per socket and refreshed when the project announces an
access change (membership or blinding, on ``access_group``) or when they are older than
``RIGHTS_MAX_AGE_S`` (a change made where no announcement was sent, such as the admin).
A socket whose user has left the project is closed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from annotation.live import access_group, case_group, project_group
from annotation.models import Membership
from annotation.permissions import (
    event_visible_to,
    may_join_case_group,
    may_join_project_group,
)
from annotation.selectors.access import access_case, access_project
from annotation.selectors.design import role_unaided

ACCESS_CHANGED = "project.access_changed"
RIGHTS_MAX_AGE_S = 60.0
CLOSE_FORBIDDEN = 4403


@dataclass(frozen=True)
class Rights:
    """What a socket's user may receive, as of ``checked_at`` (monotonic seconds)."""

    user_id: int
    project_id: int
    role: str | None
    blinded: bool
    checked_at: float
    # The study design keeps this role from the model's pre-label (role_unaided).
    unaided: bool = False


def rights_load(*, user_id: int, project_id: int) -> Rights:
    """One query: the user's role in the project (None once they left) and its blinding."""
    row = (
        Membership.objects.filter(project_id=project_id, user_id=user_id)
        .values_list("role", "project__blinded")
        .first()
    )
    role, blinded = row if row is not None else (None, True)
    return Rights(
        user_id=user_id,
        project_id=project_id,
        role=role,
        blinded=blinded,
        checked_at=time.monotonic(),
        unaided=role_unaided(project_id=project_id, role=role),
    )


class _RightsConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Shared by both sockets: joined groups, cached rights, the per-event re-check."""

    joined: tuple[str, ...] = ()
    rights: Rights | None = None

    async def join(self, rights: Rights, group: str) -> None:
        self.rights = rights
        self.joined = (group, access_group(rights.project_id))
        for name in self.joined:
            await self.channel_layer.group_add(name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._leave()

    async def _leave(self) -> None:
        for name in self.joined:
            await self.channel_layer.group_discard(name, self.channel_name)
        self.joined = ()

    async def current_rights(self, *, refresh: bool = False) -> Rights | None:
        """The cached rights, reloaded when told to or when old; None closes the socket."""
        rights = self.rights
        if rights is None:
            return None
        if refresh or time.monotonic() - rights.checked_at > RIGHTS_MAX_AGE_S:
            rights = await database_sync_to_async(rights_load)(
                user_id=rights.user_id, project_id=rights.project_id
            )
            self.rights = rights
        if rights.role is None:
            # The user left the project: no more events, and the socket goes.
            self.rights = None
            await self._leave()
            await self.close(code=CLOSE_FORBIDDEN)
            return None
        return rights

    async def live_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        is_access_change = event.get("type") == ACCESS_CHANGED
        rights = await self.current_rights(refresh=is_access_change)
        if rights is None or is_access_change or not self.forwards(event):
            return
        if event_visible_to(
            event=event,
            user_id=rights.user_id,
            role=rights.role,
            blinded=rights.blinded,
            unaided=rights.unaided,
        ):
            await self.send_json(event)

    def forwards(self, event: dict[str, Any]) -> bool:
        return True


class CaseConsumer(_RightsConsumer):
    """Pushes revision, measurement, job and state events of one case."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        case_id = int(self.scope["url_route"]["kwargs"]["case_id"])
        rights: Rights | None = await database_sync_to_async(self._check)(user, case_id)
        if rights is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.join(rights, case_group(case_id))

    def _check(self, user: Any, case_id: int) -> Rights | None:
        if user is None or not user.is_authenticated:
            return None
        try:
            case, role = access_case(user=user, case_id=case_id)
        except Http404:
            return None
        if not may_join_case_group(role=role):
            return None
        return Rights(
            user_id=user.pk,
            project_id=case.project_id,
            role=role,
            blinded=case.project.blinded,
            checked_at=time.monotonic(),
            unaided=role_unaided(project_id=case.project_id, role=role),
        )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})


class ProjectConsumer(_RightsConsumer):
    """Pushes project-wide events (pre-label job progress, case states) to its members."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        slug = str(self.scope["url_route"]["kwargs"]["slug"])
        rights: Rights | None = await database_sync_to_async(self._check)(user, slug)
        if rights is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.join(rights, project_group(rights.project_id))

    def _check(self, user: Any, slug: str) -> Rights | None:
        if user is None or not user.is_authenticated:
            return None
        try:
            project, role = access_project(user=user, slug=slug)
        except Http404:
            return None
        if not may_join_project_group(role=role):
            return None
        return Rights(
            user_id=user.pk,
            project_id=project.pk,
            role=role,
            blinded=project.blinded,
            checked_at=time.monotonic(),
        )

    def forwards(self, event: dict[str, Any]) -> bool:
        # Reads are announced per case, where blinding is applied.
        return event.get("read_author") is None and "read_kind" not in event

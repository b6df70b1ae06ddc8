"""WebSocket consumers: a socket joins a case's group if its user may see that case."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from annotation.live import case_group, project_group
from annotation.selectors.access import REVIEW_ROLES, access_case, access_project


class CaseConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Pushes revision, measurement, job and state events of one case."""

    group: str | None = None
    user_id: int | None = None
    sees_all_reads: bool = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        case_id = int(self.scope["url_route"]["kwargs"]["case_id"])
        allowed: bool = await database_sync_to_async(self._check)(user, case_id)
        if not allowed:
            await self.close(code=4403)
            return
        self.group = case_group(case_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    def _check(self, user: Any, case_id: int) -> bool:
        if user is None or not user.is_authenticated:
            return False
        try:
            case, role = access_case(user=user, case_id=case_id)
        except Http404:
            return False
        self.user_id = user.pk
        self.sees_all_reads = role in REVIEW_ROLES or not case.project.blinded
        return True

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def live_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        # Blinded readers never receive events about other readers' reads.
        owner = event.get("read_author")
        if owner is not None and not self.sees_all_reads and owner != self.user_id:
            return
        await self.send_json(event)


class ProjectConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Pushes project-wide events (pre-label job progress, case states) to its members."""

    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        slug = str(self.scope["url_route"]["kwargs"]["slug"])
        project_id: int | None = await database_sync_to_async(self._check)(user, slug)
        if project_id is None:
            await self.close(code=4403)
            return
        self.group = project_group(project_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    def _check(self, user: Any, slug: str) -> int | None:
        if user is None or not user.is_authenticated:
            return None
        try:
            project, _ = access_project(user=user, slug=slug)
        except Http404:
            return None
        return project.pk

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def live_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if event.get("read_author") is not None:
            return  # reads are announced per case, where blinding is applied
        await self.send_json(event)

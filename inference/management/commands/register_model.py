"""`manage.py register_model FILE.onnx --task sagittal|axial --contract contract.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inference.models import ModelStatus, ModelTask
from inference.services.registry import model_register


class Command(BaseCommand):
    help = "Register an ONNX model with its input contract (see inference/runtime/CONTRACT.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the ONNX file")
        parser.add_argument("--task", required=True, choices=ModelTask.values)
        parser.add_argument("--contract", required=True, type=Path, help="contract JSON file")
        parser.add_argument("--name", default="")
        parser.add_argument("--metrics", type=Path, help="optional metrics JSON file")
        parser.add_argument(
            "--activate", action="store_true", help="make it the active model of its task"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        metrics: dict[str, Any] = {}
        if options["metrics"] is not None:
            try:
                metrics = json.loads(Path(options["metrics"]).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise CommandError(f"{options['metrics']}: cannot read metrics: {exc}") from exc
        try:
            version = model_register(
                file=options["file"],
                task=options["task"],
                contract=options["contract"],
                name=options["name"],
                metrics=metrics,
                status=ModelStatus.ACTIVE if options["activate"] else ModelStatus.CANDIDATE,
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {message}"
                for field, messages in exc.message_dict.items()
                for message in messages
            )
            raise CommandError(f"{options['file']}: refused: {problems}") from exc
        self.stdout.write(
            f"registered {version.task} model #{version.pk} '{version.name}' "
            f"sha256 {version.sha256[:12]}… status {version.status}"
        )

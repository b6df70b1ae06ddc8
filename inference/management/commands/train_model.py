"""`manage.py train_model --task sagittal|axial`: train, export to ONNX, verify, register.

Progress is a bar per epoch with the running loss, then one line of held-out metrics per
epoch. The ONNX file is checked against torch (max difference printed, must stay
below 1e-4, relative above magnitude 1) before anything is registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inference.models import ModelStatus, ModelTask


class Command(BaseCommand):
    help = "Train a model with the project's own code, export it to ONNX and verify it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--task", required=True, choices=ModelTask.values)
        parser.add_argument("--epochs", type=int, default=10)
        parser.add_argument("--steps", type=int, default=100, help="steps per epoch")
        parser.add_argument("--batch-size", type=int, default=8)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
        parser.add_argument("--out", type=Path, help="output folder (default DATA_DIR/training/…)")
        parser.add_argument("--init-from", type=Path, help="fine-tune from a .pt checkpoint")
        parser.add_argument("--register", action="store_true", help="register the result")
        parser.add_argument("--activate", action="store_true", help="register and activate it")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from tqdm import tqdm

        from inference.training.pipeline import train_and_export
        from inference.training.train import TrainProgress

        task = options["task"]
        if options["epochs"] < 1 or options["steps"] < 1 or options["batch_size"] < 1:
            raise CommandError("--epochs, --steps and --batch-size must be at least 1")
        if options["init_from"] is not None and not options["init_from"].is_file():
            raise CommandError(f"{options['init_from']}: no such checkpoint")
        out = options["out"] or Path(settings.DATA_DIR) / "training" / f"{task}-{options['seed']}"
        out.mkdir(parents=True, exist_ok=True)
        bar: Any = None

        def progress(update: TrainProgress) -> None:
            nonlocal bar
            if bar is None and not options["no_progress"]:
                bar = tqdm(total=update.steps, desc=f"epoch {update.epoch}/{update.epochs}")
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{update.loss:.4f}")
            if update.metrics is not None:
                if bar is not None:
                    bar.close()
                    bar = None
                summary = ", ".join(
                    f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in update.metrics.items()
                    if isinstance(v, int | float)
                )
                self.stdout.write(f"epoch {update.epoch}/{update.epochs}: {summary}")

        build = train_and_export(
            task=task,
            out_dir=out,
            epochs=options["epochs"],
            steps_per_epoch=options["steps"],
            batch_size=options["batch_size"],
            seed=options["seed"],
            device=options["device"],
            progress=progress,
            init_from=options["init_from"],
        )
        self.stdout.write(
            f"ONNX Runtime vs torch: max difference {build.max_abs_diff:.2e} "
            "(limit 1e-4, relative above magnitude 1)"
        )
        self.stdout.write(f"wrote {build.onnx_path} and its contract, metrics and checkpoint")
        if options["register"] or options["activate"]:
            from inference.services.registry import model_register

            try:
                version = model_register(
                    file=build.onnx_path,
                    task=task,
                    contract=build.contract,
                    name=f"{task} trained, seed {options['seed']}",
                    metrics=build.info,
                    training_manifest={**build.info.get("training", {}), "out": str(out)},
                    status=ModelStatus.ACTIVE if options["activate"] else ModelStatus.CANDIDATE,
                )
            except ValidationError as exc:
                raise CommandError(f"{build.onnx_path}: refused by the registry: {exc}") from exc
            self.stdout.write(f"registered {task} model #{version.pk} ({version.status})")

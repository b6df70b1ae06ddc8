"""Create DATA_DIR/secret_key for the embedded default if no SECRET_KEY is configured."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Write a random secret key to DATA_DIR/secret_key unless one exists."

    def handle(self, *args: Any, **options: Any) -> None:
        if os.environ.get("SECRET_KEY") or os.environ.get("SECRET_KEY_FILE"):
            return
        path = Path(settings.DATA_DIR) / "secret_key"
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(".tmp")
        temp.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        temp.chmod(0o600)
        temp.replace(path)
        self.stdout.write(f"wrote a new secret key to {path}")

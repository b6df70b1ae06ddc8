"""`manage.py worker`: the database-backend task worker with stale-job recovery.

django-tasks-db leaves a task RUNNING forever when its worker is killed. Before serving,
this worker re-queues (or fails) jobs whose heartbeat stopped, and keeps doing so while it
runs. `--single` says this is the only worker, so every RUNNING job at start-up is lost.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from inference.services.jobs import jobs_sweep_stale
from inference.services.retrain import retrain_sweep_stale

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the task worker (database backend) and recover jobs of dead workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--single", action="store_true", help="the only worker of this database"
        )
        parser.add_argument("--interval", type=float, default=0.2)
        parser.add_argument("--batch", action="store_true", help="empty the queue, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        older_than_s = 0 if options["single"] else None
        swept = jobs_sweep_stale(older_than_s=older_than_s)
        if swept:
            self.stdout.write(f"re-queued or failed {len(swept)} job(s) left by a stopped worker")
        lost = retrain_sweep_stale(older_than_s=older_than_s)
        if lost:
            self.stdout.write(f"failed {len(lost)} retraining job(s) left by a stopped worker")
        stop = threading.Event()
        if not options["batch"]:
            threading.Thread(target=self._sweep_forever, args=(stop,), daemon=True).start()
        try:
            call_command(
                "db_worker",
                queue_name="*",
                interval=options["interval"],
                batch=options["batch"],
                reload=False,
                startup_delay=False,
            )
        finally:
            stop.set()

    @staticmethod
    def _sweep_forever(stop: threading.Event) -> None:
        period = max(5.0, settings.TASK_STALE_AFTER_S / 4)
        while not stop.wait(period):
            try:
                jobs_sweep_stale()
                retrain_sweep_stale()
            except Exception:
                logger.exception("sweeping stale jobs failed")
            finally:
                close_old_connections()

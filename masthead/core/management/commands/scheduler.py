import os
import signal
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

INTERVAL_SECONDS = 60  # Wagtail's scheduled publishing is minute-grained


class Command(BaseCommand):
    help = "Run Wagtail's publish_scheduled every minute until stopped (make run starts it)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run once and exit.")

    def handle(self, *args, once=False, **options):
        running = True
        parent = os.getppid()

        def stop(signum, frame):
            nonlocal running
            running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while running:
            try:
                call_command("publish_scheduled", verbosity=0)
            except Exception as exc:  # keep the loop alive; the next minute retries
                self.stderr.write(f"scheduled publishing failed: {exc}")
            finally:
                close_old_connections()
            if once:
                return
            deadline = time.monotonic() + INTERVAL_SECONDS
            while running and time.monotonic() < deadline:
                time.sleep(1)
                # Started by the web server: stop when it is gone, even if it could not say so.
                running = running and os.getppid() == parent

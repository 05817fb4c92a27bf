"""``masthead related rebuild|status``: recompute or inspect the related-news suggestions."""

import sys
import time

from django.core.management.base import BaseCommand

from masthead.related import services
from masthead.related.backends import get_backend

BAR_WIDTH = 30  # characters; fits an 80-column terminal with the counts beside it


class ProgressBar:
    """A one-line progress bar on a terminal (``[####----] 500/1000 812/s``); silent elsewhere."""

    def __init__(self, total: int, stream=None, enabled: bool | None = None, label: str = ""):
        self.total = max(total, 0)
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.done = 0
        self.start = time.monotonic()

    def __call__(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        rate = self.done / max(time.monotonic() - self.start, 1e-6)
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(BAR_WIDTH * share)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r{self.label}[{bar}] {self.done}/{self.total} {rate:.0f}/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = "Recompute all related-news suggestions (rebuild) or show what the index holds (status)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rebuild = sub.add_parser("rebuild", help="Recompute every page's suggestions.")
        rebuild.add_argument(
            "--keep-stats",
            action="store_true",
            help="Keep the frozen term statistics (gives exactly what incremental updates give).",
        )
        rebuild.add_argument(
            "--no-progress", action="store_true", help="Do not draw a progress bar."
        )
        sub.add_parser("status", help="Show the index's size.")

    def handle(self, *args, action, **options):
        if action == "status":
            backend = get_backend()
            counts = backend.counts() if hasattr(backend, "counts") else {}
            self.stdout.write(f"backend: {type(backend).__module__}.{type(backend).__name__}")
            for name, value in counts.items():
                self.stdout.write(f"{name}: {value}")
            return
        backend = get_backend()
        total = backend.candidates().count()
        # A backend with a read and a rank phase reports each page twice.
        steps = total * 2 if backend.supports_incremental else total
        bar = ProgressBar(
            steps, enabled=False if options["no_progress"] else None, label="related "
        )
        started = time.monotonic()
        try:
            done = services.related_rebuild(progress=bar, refresh_stats=not options["keep_stats"])
        finally:
            bar.close()
        seconds = time.monotonic() - started
        rate = done / seconds if seconds else 0.0
        self.stdout.write(
            f"Rebuilt related suggestions for {done} pages in {seconds:.1f} s ({rate:.0f}/s)."
        )

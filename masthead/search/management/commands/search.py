"""``masthead search rebuild``: rebuild the search index and its vocabulary, with a progress bar."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from masthead.search import services

BAR_WIDTH = 30  # characters; fits an 80-column terminal with the counts beside it


class Command(BaseCommand):
    help = "Search index tools. `search rebuild` rebuilds the index and its vocabulary."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{rebuild}")
        rebuild = sub.add_parser("rebuild", help="Rebuild the search index from scratch.")
        rebuild.add_argument("--backend", default="default", help="WAGTAILSEARCH_BACKENDS name.")
        rebuild.add_argument(
            "--chunk-size",
            type=int,
            default=services.REBUILD_CHUNK,
            help="Objects indexed per step (default %(default)s).",
        )

    def handle(self, *args, action=None, **options):
        if action != "rebuild":
            raise CommandError("Unknown action; try `masthead search rebuild`.")
        self.started = time.perf_counter()
        self.tty = hasattr(self.stdout, "isatty") and self.stdout.isatty()
        self.last_line = 0.0
        try:
            count = services.index_rebuild(
                backend_name=options["backend"],
                chunk_size=max(1, options["chunk_size"]),
                progress=self.progress,
            )
        except Exception as error:  # the transaction rolled back: the old index is intact
            raise CommandError(
                f"Rebuild failed, the previous index is unchanged: {error}"
            ) from error
        elapsed = time.perf_counter() - self.started
        rate = count / elapsed if elapsed else 0
        if self.tty:
            self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"Indexed {count:,} objects in {elapsed:.1f} s ({rate:,.0f}/s).")
        )

    def progress(self, done: int, total: int, label: str) -> None:
        """Draw ``[#####.....]  45%  4,500/10,000  label``; on a pipe, a line every 2 s."""
        now = time.perf_counter()
        fraction = done / total if total else 1.0
        filled = int(BAR_WIDTH * fraction)
        rate = done / (now - self.started) if now > self.started else 0
        line = (
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%}  "
            f"{done:,}/{total:,}  {rate:,.0f}/s  {label}"
        )
        if self.tty:
            self.stdout.write("\r" + line.ljust(100), ending="")
            self.stdout.flush()
        elif now - self.last_line >= 2 or done >= total:
            self.last_line = now
            self.stdout.write(line)
        sys.stdout.flush()

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from masthead.ingest.importers.base import ImportFormatError
from masthead.ingest.registry import ImporterNotFound, get_importer, importer_for, importers
from masthead.ingest.services import import_articles

MAX_WARNINGS_SHOWN = 20  # enough to see a pattern without burying the summary


class Command(BaseCommand):
    help = "Import articles from files (pages like the seed, JSON Lines, …) in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="Files to import.")
        parser.add_argument(
            "--format",
            dest="format_name",
            help=f"Importer to use (default: guessed per file). Known: {', '.join(sorted(importers()))}.",
        )
        parser.add_argument(
            "--section", default="News", help="Section for articles that name none."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Read and check everything, save nothing."
        )

    def handle(self, *args, paths, format_name, section, dry_run, **options):
        try:
            sources = []
            for path in paths:
                if not path.exists():
                    raise ImportFormatError(path, "does not exist")
                importer = get_importer(format_name) if format_name else importer_for(path)
                sources.append((path, importer))
            report = import_articles(sources, dry_run=dry_run, default_section=section)
        except (ImportFormatError, ImporterNotFound) as exc:
            raise CommandError(f"Import failed, nothing was saved. {exc}") from exc
        except ValueError as exc:
            raise CommandError(f"Import failed, nothing was saved. {exc}") from exc
        for warning in report.warnings[:MAX_WARNINGS_SHOWN]:
            self.stderr.write(f"warning: {warning}")
        if len(report.warnings) > MAX_WARNINGS_SHOWN:
            self.stderr.write(f"… and {len(report.warnings) - MAX_WARNINGS_SHOWN} more warnings")
        self.stdout.write(report.summary())

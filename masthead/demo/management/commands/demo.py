from django.core.management.base import BaseCommand

from masthead.demo.services import demo_is_loaded, demo_load


class Command(BaseCommand):
    help = "Load Masthead's sample edition (The Northbridge Courier) once; does nothing if it is there."

    def handle(self, *args, **options):
        if demo_is_loaded():
            self.stdout.write("The sample edition is already loaded.")
            return
        count = demo_load()
        self.stdout.write(f"Loaded the sample edition: {count} articles.")

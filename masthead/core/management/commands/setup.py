import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config import env

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = "Prepare a site to serve: migrate, collect static files, load the demo once, create an administrator."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-demo", action="store_true", help="Do not load the sample edition."
        )

    def handle(self, *args, no_demo=False, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        if not no_demo:
            call_command("demo", stdout=self.stdout)
        self._ensure_admin()

    def _ensure_admin(self) -> None:
        """Create the first administrator once; print its password unless it came from the environment."""
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        password = env.get(env.ADMIN_PASSWORD)
        generated = not password
        password = password or secrets.token_urlsafe(12)
        user = User.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
        from django.contrib.auth.models import Group

        administrators = Group.objects.filter(name="Administrator").first()
        if administrators:
            user.groups.add(administrators)
        base = env.base_url()
        self.stdout.write(self.style.SUCCESS(f"Created the administrator '{ADMIN_USERNAME}'."))
        if generated:
            self.stdout.write(
                f"  Password: {password}\n  (shown once; set MASTHEAD_ADMIN_PASSWORD to choose it)"
            )
        self.stdout.write(f"  Newsroom: {base}/newsroom/")
        os.environ.pop("MASTHEAD_ADMIN_PASSWORD", None)

"""What the benchmark scripts share: a throwaway Django set-up and a gunicorn to load.

Imported as ``_common`` (each script runs with ``bench/`` first on its path).
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
SERVER_START_TRIES = 300  # × 0.1 s


def setup_django(var_dir: str | Path, *, migrate: bool = True) -> None:
    """Configure Django on SQLite in ``var_dir`` (never the caller's DATABASE_URL) and migrate.

    Call before importing anything from Masthead; a script that needs another
    database sets its variables after this module's defaults in its own code.
    """
    os.environ.update(
        {
            "MASTHEAD_VAR_DIR": str(var_dir),
            "SECRET_KEY": "bench",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def start_server(env: dict, port: int) -> subprocess.Popen:
    """Start ``make run``'s gunicorn with ``env`` and wait for /healthz; exit the script if it never answers."""
    server = subprocess.Popen(
        [BIN / "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(SERVER_START_TRIES):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    os.killpg(server.pid, signal.SIGKILL)
    sys.exit("gunicorn did not start")


def stop_server(server: subprocess.Popen) -> None:
    """Stop the server and its workers (its own process group)."""
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=20)

"""gunicorn settings for make run; the scheduled-publishing loop starts and stops with the server."""

import os
import subprocess
import sys

from config import env

bind = f"127.0.0.1:{env.get(env.PORT)}"
workers = int(env.get(env.WEB_CONCURRENCY) or 2)
worker_class = "sync"
timeout = 30
graceful_timeout = 10
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
preload_app = False

_scheduler = None


def on_starting(server):
    global _scheduler
    if env.get_bool(env.SCHEDULER):
        _scheduler = subprocess.Popen(
            [sys.executable, "-m", "masthead.cli", "scheduler"], env={**os.environ}
        )
        server.log.info("Scheduled publishing runs every minute (pid %s)", _scheduler.pid)


def on_exit(server):
    if _scheduler is not None and _scheduler.poll() is None:
        _scheduler.terminate()
        try:
            _scheduler.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _scheduler.kill()

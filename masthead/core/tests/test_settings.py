"""Settings from the environment (STYLE.md convention 10) and the health check."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import config.settings as settings_module
from config import env

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.django_db
def test_healthz_answers_ok_json_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["status"] == "ok"
    assert "no-cache" in response.get("Cache-Control", "") or "max-age=0" in response.get(
        "Cache-Control", ""
    )


@pytest.mark.django_db
def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


def test_every_declared_env_var_is_in_the_readme():
    readme = REPO / "README.md"
    assert readme.is_file(), "README.md is missing"
    text = readme.read_text(encoding="utf-8")
    missing = [
        name for name in env.ENV_VARS if not re.search(rf"(?<![A-Z_]){name}(?![A-Z_])", text)
    ]
    assert not missing, f"README.md does not document: {', '.join(missing)}"


def test_env_declares_the_settings_the_issue_names():
    assert {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"} <= set(
        env.ENV_VARS
    )


@pytest.fixture
def bare_settings(monkeypatch, tmp_path):
    """config.settings with DEBUG off, no SECRET_KEY in the environment and an empty var dir."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(settings_module, "DEBUG", False)
    monkeypatch.setattr(settings_module, "VAR_DIR", tmp_path)
    return settings_module


def test_secret_key_is_required_when_debug_is_off(bare_settings):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        bare_settings._secret_key()


def test_secret_key_comes_from_the_environment(bare_settings, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert bare_settings._secret_key() == "from-the-environment"


def test_secret_key_comes_from_the_var_dir_file(bare_settings, tmp_path):
    (tmp_path / "secret_key").write_text("from-the-file\n")
    assert bare_settings._secret_key() == "from-the-file"


def test_debug_gets_a_development_key(bare_settings, monkeypatch):
    monkeypatch.setattr(bare_settings, "DEBUG", True)
    assert bare_settings._secret_key()


def test_settings_module_refuses_to_load_without_a_secret_key(tmp_path):
    environ = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}
    }
    environ["MASTHEAD_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1", True),
        ("true", True),
        ("On", True),
        ("yes", True),
        ("0", False),
        ("", False),
        ("no", False),
    ],
)
def test_boolean_env_vars(monkeypatch, value, expected):
    monkeypatch.setenv("DEBUG", value)
    assert env.get_bool(env.DEBUG) is expected


def test_empty_env_var_falls_back_to_its_default(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "")
    assert env.get(env.ALLOWED_HOSTS) == env.ALLOWED_HOSTS.default


def test_require_names_the_missing_variable(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env.require(env.DATABASE_URL)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            "smtp://desk%40courier.example:s%3Acret@mail.example.org:587",
            {
                "EMAIL_HOST": "mail.example.org",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "desk@courier.example",
                "EMAIL_HOST_PASSWORD": "s:cret",
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
            },
        ),
        ("smtps://mail.example.org", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
        ("smtp://relay.internal:25", {"EMAIL_USE_TLS": False, "EMAIL_HOST_USER": ""}),
    ],
)
def test_email_url_becomes_django_mail_settings(monkeypatch, url, expected):
    monkeypatch.setenv("MASTHEAD_EMAIL_URL", url)
    result = env.email_settings()
    assert {key: result[key] for key in expected} == expected


def test_email_url_with_another_scheme_is_refused(monkeypatch):
    monkeypatch.setenv("MASTHEAD_EMAIL_URL", "http://mail.example.org")
    with pytest.raises(ImproperlyConfigured, match="MASTHEAD_EMAIL_URL"):
        env.email_settings()


def test_the_wsgi_application_loads_its_routes_before_the_first_request(tmp_path):
    """A worker imports config.wsgi at start: the URL index is built then, not for a reader."""
    code = (
        "import config.wsgi\n"
        "from django.urls import get_resolver\n"
        "print(get_resolver()._populated)\n"
    )
    env_vars = {**os.environ, "SECRET_KEY": "test", "MASTHEAD_VAR_DIR": str(tmp_path)}
    env_vars.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env_vars,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "True"

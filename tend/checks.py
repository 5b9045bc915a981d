"""System checks for settings that are easy to get wrong in production.

Ids are stable so they can be silenced deliberately (SILENCED_SYSTEM_CHECKS) and searched for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1", "testserver"}


def _public() -> bool:
    """True when the app answers on a host other than this machine."""
    return any(host not in LOCAL_HOSTS for host in settings.ALLOWED_HOSTS)


@register(Tags.security, deploy=False)
def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    if not _public():
        return problems
    if settings.DEBUG:
        problems.append(
            Error(
                "TEND_DEBUG is on while TEND_ALLOWED_HOSTS lets other machines in.",
                hint="Unset TEND_DEBUG in production: debug pages show settings and code.",
                id="tend.E001",
            )
        )
    if getattr(settings, "SECRET_KEY_GENERATED", False):
        problems.append(
            Warning(
                "TEND_SECRET_KEY is not set; using the key generated in the data folder.",
                hint="Set TEND_SECRET_KEY so every web and worker process shares one key "
                "and a lost data folder does not log everyone out.",
                id="tend.W002",
            )
        )
    if not settings.SESSION_COOKIE_SECURE:
        problems.append(
            Warning(
                "Cookies are sent over plain HTTP.",
                hint="Serve Tend over HTTPS and set TEND_SECURE_COOKIES=1.",
                id="tend.W003",
            )
        )
    if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        problems.append(
            Warning(
                "TEND_EMAIL_URL is not set: emails are printed, not sent.",
                hint="Set TEND_EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587.",
                id="tend.W004",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def check_data_dir_is_private(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """The data folder holds the SQLite database, the secret key and uploaded customer files."""
    folder = Path(settings.DATA_DIR)
    try:
        mode = folder.stat().st_mode & 0o777
    except OSError:
        return []
    if mode & 0o077:
        return [
            Warning(
                f"The data folder {folder} can be read by other users (mode {mode:o}).",
                hint=f"Tend creates it with mode 700; make an existing one private: "
                f"chmod 700 {folder}",
                id="tend.W030",
            )
        ]
    return []


@register(Tags.security)
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if len(settings.SECRET_KEY) < 32:
        return [
            Error(
                "TEND_SECRET_KEY is shorter than 32 characters.",
                hint="Generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))'",
                id="tend.E005",
            )
        ]
    return []

"""Serving beyond loopback: who can reach the UI, and what they must do to use it.

Anyone who reaches the UI can ask, rebuild and (unless --read-only) replace corpus files, so a
server that other machines can reach needs a login, or an explicit --no-auth from whoever starts it.
"""

from __future__ import annotations

import ipaddress

from .errors import SettingsError
from .settings import Settings


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def parse_auth(value: str) -> tuple[str, str]:
    """USER:PASS as Gradio's (user, password); the password may itself contain colons."""
    user, colon, password = value.partition(":")
    if not (user and colon and password):
        raise SettingsError("--auth needs USER:PASS with both parts non-empty (env AIQA_AUTH).")
    return user, password


def check_exposure(settings: Settings) -> str | None:
    """A warning to print when the UI will be reachable from other machines, or None.

    Raises SettingsError when it would be reachable without a login nobody asked for.
    """
    if settings.auth and settings.no_auth:
        raise SettingsError("--auth and --no-auth contradict each other; give one of them.")
    if settings.auth:
        parse_auth(settings.auth)
    where = "a public Gradio link" if settings.share else f"{settings.host}:{settings.port}"
    if not settings.share and is_loopback(settings.host):
        return None
    if not (settings.auth or settings.no_auth):
        raise SettingsError(
            f"Serving on {where} lets other machines reach the UI; add --auth USER:PASS for a login, "
            "or --no-auth to serve it without one on purpose."
        )
    login = "with a login" if settings.auth else "WITHOUT a login (--no-auth)"
    writes = (
        "read-only" if settings.read_only else "uploads and rebuilds allowed (--read-only turns them off)"
    )
    return f"serving on {where}, reachable from other machines, {login}; {writes}."

"""Serving beyond loopback needs a login or an explicit --no-auth, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiqa.errors import SettingsError
from aiqa.exposure import check_exposure, parse_auth
from aiqa.settings import Settings
from hostile_helpers import assert_clear_failure, run_aiqa


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "::1", "[::1]"])
def test_loopback_needs_nothing(host: str) -> None:
    assert check_exposure(Settings(host=host)) is None


@pytest.mark.parametrize(
    "options",
    [{"host": "0.0.0.0"}, {"host": "::"}, {"host": "192.168.1.20"}, {"host": "example.org"}, {"share": True}],
)
def test_beyond_loopback_without_a_login_is_refused(options: dict) -> None:
    with pytest.raises(SettingsError, match="add --auth USER:PASS"):
        check_exposure(Settings(**options))


def test_beyond_loopback_warns_with_or_without_a_login() -> None:
    with_login = check_exposure(Settings(host="0.0.0.0", auth="ann:pw"))
    assert with_login and "reachable from other machines" in with_login and "with a login" in with_login
    open_on_purpose = check_exposure(Settings(host="0.0.0.0", no_auth=True, read_only=True))
    assert open_on_purpose and "WITHOUT a login" in open_on_purpose and "read-only" in open_on_purpose


@pytest.mark.parametrize("value", ["nopassword", ":pw", "ann:", ""])
def test_a_malformed_login_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="USER:PASS"):
        parse_auth(value)
    assert parse_auth("ann:p:w") == ("ann", "p:w")


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--host", "0.0.0.0"], "add --auth USER:PASS"),
        (["--host", "0.0.0.0", "--auth", "nopassword"], "USER:PASS"),
        (["--host", "0.0.0.0", "--auth", "a:b", "--no-auth"], "contradict"),
    ],
)
def test_serve_refuses_before_building_anything(
    corpus_copy: Path, tmp_path: Path, flags: list[str], needle: str
) -> None:
    index = tmp_path / "index"
    result = run_aiqa("serve", "--corpus", str(corpus_copy), "--index", str(index), *flags, timeout=60)
    assert_clear_failure(result, needle)
    assert not index.exists()

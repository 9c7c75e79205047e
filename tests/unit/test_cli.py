"""The `hoso-dev` command line: development tokens only in local mode."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from hoso_dev.cli import app
from typer.testing import CliRunner

runner = CliRunner()


def test_token_is_refused_outside_local_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HOSO_LOCAL_MODE", raising=False)
    monkeypatch.setenv("HOSO_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["token", "--role", "applicant", "--sub", "citizen-1"])
    assert result.exit_code == 2
    assert "only in local mode" in result.output
    assert not (tmp_path / "keys").exists()


def test_token_in_local_mode_carries_the_claims(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOSO_LOCAL_MODE", "1")
    monkeypatch.setenv("HOSO_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["token", "--role", "leader", "--sub", "o-1", "--agency", "BNNMT"])
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), options={"verify_signature": False})
    assert claims["sub"] == "o-1"
    assert claims["roles"] == ["leader"]
    assert claims["agency"] == "BNNMT"
    assert claims["iss"] == "hoso-local"
    assert claims["aud"] == "hoso"
    assert (tmp_path / "keys" / "jwks.json").is_file()


def test_an_unknown_role_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOSO_LOCAL_MODE", "1")
    monkeypatch.setenv("HOSO_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["token", "--role", "emperor", "--sub", "x"])
    assert result.exit_code == 2

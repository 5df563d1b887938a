"""The deployment files in deploy/ stay in step with the code they start."""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path

from server.cli import _parser
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def test_the_systemd_unit_starts_a_valid_command_line() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "chat-server.service")
    program, *argv = shlex.split(unit["Service"]["ExecStart"])
    assert program.endswith("/bin/chat-server")
    args = _parser().parse_args(argv)
    assert (args.command, args.workers) == ("serve", 2)
    assert unit["Service"]["EnvironmentFile"] == "/etc/chat-server/env"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_environment_file_names_only_real_settings() -> None:
    values: dict[str, str] = {}
    for line in (DEPLOY / "chat-server.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert key.startswith("CHAT_"), key
            values[key.removeprefix("CHAT_").lower()] = value
    assert set(values) <= set(Settings.model_fields), set(values) - set(Settings.model_fields)
    settings = Settings(**values)  # type: ignore[arg-type]
    assert settings.redis_url and not settings.is_sqlite and settings.log_format == "json"


def test_the_containerfile_copies_every_package() -> None:
    containerfile = (DEPLOY / "Containerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) \./\1$", containerfile, flags=re.MULTILINE))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert copied == {pattern.rstrip("*") for pattern in include}
    assert 'CMD ["chat-server", "serve"]' in containerfile

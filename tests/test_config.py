"""Configuration: SWITCHBOARD_* variables over an optional TOML file over defaults.

``load_settings`` is tested directly; the promise to the operator (exit code 2 and ONE line on
stderr naming the variable) is tested on the real command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.config import DEFAULT_DB, INSECURE_DEV_KEY, ConfigError, load_settings

SWITCHBOARD = Path(sys.executable).parent / "switchboard"
GOOD_KEY = "k" * 32


@pytest.fixture(autouse=True)
def no_switchboard_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from a clean environment, whatever the developer's shell exports."""
    for name in list(os.environ):
        if name.startswith("SWITCHBOARD_"):
            monkeypatch.delenv(name)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- load_settings ------------------------------------------------------------------------------------------


def test_defaults() -> None:
    settings = load_settings()
    assert (settings.database_url, settings.bus_url, settings.secret_key) == (DEFAULT_DB, "memory://", INSECURE_DEV_KEY)
    assert (settings.host, settings.port, settings.default_region) == ("127.0.0.1", 8000, "RU")
    assert (settings.body_limit_bytes, settings.session_hours, settings.cookie_secure) == (1_048_576, 12, False)
    assert (settings.log_format, settings.log_level, settings.db_pool_size) == ("json", "info", 20)


def test_environment_sets_values_and_overrides_win_over_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_PORT", "9000")
    monkeypatch.setenv("SWITCHBOARD_DEFAULT_REGION", "us")
    monkeypatch.setenv("SWITCHBOARD_BODY_LIMIT_BYTES", "2048")
    monkeypatch.setenv("SWITCHBOARD_BUS_URL", "amqp://guest:guest@rabbit:5672/")
    monkeypatch.setenv("SWITCHBOARD_COOKIE_SECURE", "true")
    settings = load_settings()
    assert (settings.port, settings.default_region, settings.body_limit_bytes) == (9000, "US", 2048)
    assert (settings.bus_url, settings.cookie_secure) == ("amqp://guest:guest@rabbit:5672/", True)
    assert load_settings(port=9100).port == 9100


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SWITCHBOARD_PORT", "abc", "Input should be a valid integer, unable to parse string as an integer"),
        ("SWITCHBOARD_PORT", "0", "Input should be greater than or equal to 1"),
        ("SWITCHBOARD_PORT", "65536", "Input should be less than or equal to 65535"),
        ("SWITCHBOARD_BUS_URL", "redis://localhost", "must be memory:// or an amqp:// URL"),
        ("SWITCHBOARD_SECRET_KEY", "short", "must be at least 32 characters"),
        ("SWITCHBOARD_DEFAULT_REGION", "XX", "'XX' is not a region code such as RU or US"),
        ("SWITCHBOARD_DATABASE_URL", "mysql://db/x", "must be a sqlite:/// or postgresql:// URL"),
        ("SWITCHBOARD_BODY_LIMIT_BYTES", "100", "Input should be greater than or equal to 1024"),
        ("SWITCHBOARD_BODY_LIMIT_BYTES", "104857601", "Input should be less than or equal to 104857600"),
        ("SWITCHBOARD_LOG_FORMAT", "xml", "Input should be 'json' or 'console'"),
        ("SWITCHBOARD_LOG_LEVEL", "loud", "Input should be 'debug', 'info', 'warning' or 'error'"),
        ("SWITCHBOARD_SESSION_HOURS", "0", "Input should be greater than or equal to 1"),
        ("SWITCHBOARD_COOKIE_SECURE", "perhaps", "Input should be a valid boolean, unable to interpret input"),
        ("SWITCHBOARD_DB_POOL_SIZE", "1000", "Input should be less than or equal to 200"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == f"{variable}: {message}"


def test_a_toml_file_is_read_and_the_environment_wins_over_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # given a TOML file with a [switchboard] table (and tables and keys that are not ours)
    config = write(
        tmp_path / "switchboard.toml",
        f"""
        [switchboard]
        port = 8100
        host = "0.0.0.0"
        default_region = "de"
        secret_key = "{GOOD_KEY}"
        not_a_setting = 1

        [other]
        port = 1
    """.replace("\n        ", "\n"),
    )
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config))
    # then its values are used
    settings = load_settings()
    assert (settings.port, settings.host, settings.default_region, settings.secret_key) == (
        8100,
        "0.0.0.0",
        "DE",
        GOOD_KEY,
    )
    assert not hasattr(settings, "not_a_setting")
    # and the environment wins over it, and explicit overrides over both
    monkeypatch.setenv("SWITCHBOARD_PORT", "8200")
    monkeypatch.setenv("SWITCHBOARD_HOST", "10.0.0.1")
    settings = load_settings(host="10.0.0.2")
    assert (settings.port, settings.host, settings.default_region) == (8200, "10.0.0.2", "DE")


def test_a_toml_file_without_a_switchboard_table_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    defaults = load_settings()
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(write(tmp_path / "c.toml", "[server]\nport = 1\n")))
    assert load_settings() == defaults
    assert defaults.port == 8000


def test_a_bad_value_in_the_toml_file_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(write(tmp_path / "c.toml", '[switchboard]\nport = "abc"\n')))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert (
        str(raised.value) == "SWITCHBOARD_PORT: Input should be a valid integer, unable to parse string as an integer"
    )
    # the environment's good value wins over the file's bad one
    monkeypatch.setenv("SWITCHBOARD_PORT", "8080")
    assert load_settings().port == 8080


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "No such file or directory"),
        ("[switchboard]\nport = \n", "Invalid value (at line 2, column 8)"),
        ("port = 1\nport = 2\n", "Cannot overwrite a value (at line 2, column 9)"),
        ("directory", "Is a directory"),
    ],
    ids=["missing", "syntax", "duplicate-key", "directory"],
)
def test_an_unreadable_toml_file_names_switchboard_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "c.toml"
    if content == "directory":
        path.mkdir()
    elif content is not None:
        write(path, content)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(path))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"SWITCHBOARD_CONFIG: cannot read {path}: ")
    assert reason in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "content", [b"\xff\xfe[switchboard]\n", b'switchboard = "production"\n'], ids=["not-utf8", "not-a-table"]
)
def test_a_toml_file_that_is_not_utf8_or_not_a_table_names_switchboard_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(content)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(path))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value).startswith("SWITCHBOARD_CONFIG: ")


# --- the command: exit code 2 and one line ------------------------------------------------------------------


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    clean.update({"SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'switchboard.db'}", "COLUMNS": "200"})
    clean.update(env)
    return subprocess.run(
        [str(SWITCHBOARD), *args],
        cwd=tmp_path,
        env=clean,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SWITCHBOARD_BUS_URL", "http://rabbit", "must be memory:// or an amqp:// URL"),
        ("SWITCHBOARD_PORT", "abc", "Input should be a valid integer, unable to parse string as an integer"),
        ("SWITCHBOARD_SECRET_KEY", "short", "must be at least 32 characters"),
        ("SWITCHBOARD_DEFAULT_REGION", "XX", "'XX' is not a region code such as RU or US"),
    ],
)
def test_a_bad_variable_stops_the_command_with_exit_2_and_one_line(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    done = run(tmp_path, "migrate", **{variable: value})
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"switchboard: {variable}: {message}\n")
    assert not (tmp_path / "switchboard.db").exists()


@pytest.mark.parametrize(
    "command",
    [
        ("serve",),
        ("demo",),
        ("tokens", "create", "shop"),
        ("users", "create", "anna", "--name", "A", "--password", "secret-pass-1"),
    ],
    ids=["serve", "demo", "tokens-create", "users-create"],
)
def test_every_command_checks_the_configuration_first(tmp_path: Path, command: tuple[str, ...]) -> None:
    done = run(tmp_path, *command, SWITCHBOARD_PORT="abc")
    expected = "switchboard: SWITCHBOARD_PORT: Input should be a valid integer, unable to parse string as an integer\n"
    assert (done.returncode, done.stdout, done.stderr) == (2, "", expected)


def test_the_command_reads_the_toml_file_and_the_environment_wins(tmp_path: Path) -> None:
    # given a TOML file that puts the database elsewhere and has a bad port
    elsewhere = tmp_path / "from-toml.db"
    config = write(
        tmp_path / "switchboard.toml", f'[switchboard]\ndatabase_url = "sqlite:///{elsewhere}"\nport = "abc"\n'
    )
    # when the command runs with it, the file's bad port stops it
    done = run(tmp_path, "migrate", SWITCHBOARD_CONFIG=str(config))
    assert (done.returncode, done.stderr) == (
        2,
        "switchboard: SWITCHBOARD_PORT: Input should be a valid integer, unable to parse string as an integer\n",
    )
    # and with a good port in the environment it runs, on the file's database (the variable for it is unset)
    env = {"SWITCHBOARD_CONFIG": str(config), "SWITCHBOARD_PORT": "8080"}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")} | env | {"COLUMNS": "200"}
    done = subprocess.run(
        [str(SWITCHBOARD), "migrate"],
        cwd=tmp_path,
        env=clean,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert elsewhere.exists()
    assert not (tmp_path / "switchboard.db").exists()


def test_an_unreadable_toml_file_stops_the_command_naming_switchboard_config(tmp_path: Path) -> None:
    config = write(tmp_path / "broken.toml", "[switchboard\n")
    done = run(tmp_path, "migrate", SWITCHBOARD_CONFIG=str(config))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"switchboard: SWITCHBOARD_CONFIG: cannot read {config}: ")
    assert done.stderr.count("\n") == 1

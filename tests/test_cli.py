"""The ``switchboard`` command, run for real as a subprocess on a temporary SQLite file.

What the command wrote is then checked through the application itself (``load_settings`` +
``build`` + the auth use cases), the way the server would see it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from switchboard.adapters.storage import tables
from switchboard.application.access import Principal
from switchboard.application.auth import authenticate, login
from switchboard.application.contacts import search_contacts
from switchboard.application.context import Services
from switchboard.application.errors import Unauthenticated
from switchboard.application.ports.storage import ContactQuery
from switchboard.bootstrap import build
from switchboard.config import load_settings
from switchboard.domain.operators import Role

SWITCHBOARD = Path(sys.executable).parent / "switchboard"
HAS_SIMULATOR = importlib.util.find_spec("switchboard.cli_simulate") is not None


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any SWITCHBOARD_* setting, a wide plain terminal, and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    env.update(extra)
    return env


def run(cwd: Path, *args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SWITCHBOARD), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Place:
    """A temporary working directory and the SQLite database the command is pointed at."""

    cwd: Path
    url: str
    env: dict[str, str]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run(self.cwd, *args, env=self.env, stdin=stdin)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated by ``switchboard migrate``; each test works on a copy."""
    where = tmp_path_factory.mktemp("migrated")
    database = where / "switchboard.db"
    done = run(where, "migrate", env=clean_env(SWITCHBOARD_DATABASE_URL=f"sqlite:///{database}"))
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"database at revision \w+\n", done.stdout), done.stdout
    return database


@pytest.fixture
def place(tmp_path: Path, migrated: Path) -> Place:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    database = tmp_path / "switchboard.db"
    shutil.copy(migrated, database)
    url = f"sqlite:///{database}"
    return Place(cwd, url, clean_env(SWITCHBOARD_DATABASE_URL=url))


@pytest.fixture
async def services(place: Place) -> AsyncIterator[Services]:
    """The application over the same database file, as the server would build it."""
    container = build(load_settings(database_url=place.url), fast_hashing=True)
    try:
        yield container.services
    finally:
        await container.database.dispose()


async def count_users(place: Place) -> int:
    container = build(load_settings(database_url=place.url))
    try:
        async with container.database.engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(tables.users))).scalar_one())
    finally:
        await container.database.dispose()


# --- help ---------------------------------------------------------------------------------------------------

HELP = [
    ((), ("serve", "migrate", "demo", "users", "tokens")),
    (("serve",), ("--host", "--port", "--workers")),
    (("migrate",), ("Apply the database migrations",)),
    (("demo",), ("--force",)),
    (("users",), ("create",)),
    (("users", "create"), ("LOGIN", "--name", "--role", "--password", "--email")),
    (("tokens",), ("create",)),
    (("tokens", "create"), ("NAME", "--role")),
    (("contacts",), ("duplicates", "import")),
    (("contacts", "import"), ("FILE", "--map", "--date-format", "--delimiter", "--encoding")),
    (("contacts", "duplicates"), ("--min-score", "--format", "--save")),
]
if HAS_SIMULATOR:
    HELP.append((("simulate",), ("simulate",)))


@pytest.mark.parametrize(("command", "words"), HELP, ids=[" ".join(c) or "switchboard" for c, _ in HELP])
def test_help_works_for_every_command(tmp_path: Path, command: tuple[str, ...], words: tuple[str, ...]) -> None:
    # a broken configuration does not stop --help: nothing is loaded to show it
    done = run(tmp_path, *command, "--help", env=clean_env(SWITCHBOARD_PORT="abc"))
    assert done.returncode == 0, done.stderr
    assert f"Usage: switchboard {' '.join(command)}".rstrip() in done.stdout
    for word in words:
        assert word.lower() in done.stdout.lower(), word


def test_the_top_level_help_lists_the_simulator_exactly_when_it_is_registered(tmp_path: Path) -> None:
    done = run(tmp_path, "--help", env=clean_env())
    assert done.returncode == 0
    assert (re.search(r"^\W*simulate\b", done.stdout, re.MULTILINE) is not None) is HAS_SIMULATOR


def test_no_command_shows_the_help(tmp_path: Path) -> None:
    done = run(tmp_path, env=clean_env())
    assert "Usage: switchboard" in done.stdout + done.stderr
    assert "Commands" in done.stdout + done.stderr


# --- migrate and demo ---------------------------------------------------------------------------------------


async def test_migrate_is_idempotent_and_demo_loads_once(place: Place, services: Services) -> None:
    # given a migrated database, migrating again changes nothing
    again = place.run("migrate")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("database at revision ")
    # when the demo is loaded
    demo = place.run("demo")
    # then it prints where to sign in and the logins
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.splitlines() == [
        "demo data loaded",
        "sign in at http://127.0.0.1:8000 — demo logins (when the demo is loaded):",
        "  admin       admin / admin-demo-1",
        "  supervisor  supervisor / supervisor-demo-1",
        "  operator    olga / operator-demo-1",
        "  operator    ivan / operator-demo-1",
        "  operator    maria / operator-demo-1",
    ]
    # and those logins work
    signed_in = await login(services, "supervisor", "supervisor-demo-1")
    assert (signed_in.user.login, signed_in.user.role) == ("supervisor", Role.SUPERVISOR)
    users = await count_users(place)
    assert users == 5
    # and its lines route: sales evenly with a welcome, support in strict order within working hours
    async with services.uow(read_only=True) as uow:
        lines = {line.name: line.routing for line in await uow.lines.list()}
    assert (lines["Продажи"]["mode"], lines["Продажи"]["actions"]["welcome"]) == ("evenly", "first_contact_ever")
    assert (lines["Поддержка"]["mode"], lines["Поддержка"]["forwarding_timeout_s"]) == ("strict_order", 60)
    # when it is loaded a second time, it says so and adds nothing
    second = place.run("demo")
    assert second.returncode == 0, second.stderr
    assert (
        second.stdout.splitlines()[0] == "the database already has data; demo not loaded (use --force to add it anyway)"
    )
    assert second.stdout.splitlines()[2:] == demo.stdout.splitlines()[2:]
    assert await count_users(place) == users


# --- users --------------------------------------------------------------------------------------------------


async def test_users_create_with_a_password_option_does_not_prompt_and_the_user_signs_in(
    place: Place, services: Services
) -> None:
    # when a supervisor is created with the password on the command line (stdin closed: a prompt would fail)
    done = place.run(
        "users",
        "create",
        "carol",
        "--name",
        "Carol Smith",
        "--role",
        "supervisor",
        "--password",
        "secret-pass-1",
        "--email",
        "carol@example.com",
    )
    # then no prompt is shown and the user is created
    assert done.returncode == 0, done.stderr
    assert "Password" not in done.stdout + done.stderr
    created = re.fullmatch(r"created supervisor carol \(id (\d+)\)\n", done.stdout)
    assert created is not None, done.stdout
    # and can sign in with that password, and only that one
    signed_in = await login(services, "carol", "secret-pass-1")
    user = signed_in.user
    assert (user.id, user.name, user.role, user.email) == (
        int(created.group(1)),
        "Carol Smith",
        Role.SUPERVISOR,
        "carol@example.com",
    )
    principal = await authenticate(services, signed_in.token)
    assert (principal.role, principal.user_id) == (Role.SUPERVISOR, user.id)
    with pytest.raises(Unauthenticated):
        await login(services, "carol", "secret-pass-2")


async def test_users_create_prompts_for_the_password_when_it_is_not_given(place: Place, services: Services) -> None:
    done = place.run("users", "create", "dave", "--name", "Dave", stdin="secret-pass-1\nsecret-pass-1\n")
    assert done.returncode == 0, done.stderr
    assert re.search(r"created operator dave \(id \d+\)", done.stdout), done.stdout
    assert (await login(services, "dave", "secret-pass-1")).user.role is Role.OPERATOR


async def test_users_create_with_a_bad_role_fails_clearly_and_creates_nobody(place: Place) -> None:
    done = place.run("users", "create", "eve", "--name", "Eve", "--role", "boss", "--password", "secret-pass-1")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Invalid value for '--role'" in done.stderr
    assert "'boss' is not one of" in done.stderr
    assert await count_users(place) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("frank", "--name", "Frank", "--password", "short"),
            "switchboard: password must be at least 8 characters (password)\n",
        ),
        (
            ("frank", "--name", "Frank", "--role", "integration", "--password", "secret-pass-1"),
            "switchboard: integration is a role for API tokens, not for people (role)\n",
        ),
        (
            ("x", "--name", "Frank", "--password", "secret-pass-1"),
            "switchboard: login must be 3 to 100 letters, digits, dots, dashes or underscores (login)\n",
        ),
    ],
    ids=["short-password", "integration-role", "short-login"],
)
async def test_users_create_refuses_bad_input_with_exit_2_naming_the_field(
    place: Place, args: tuple[str, ...], message: str
) -> None:
    done = place.run("users", "create", *args)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", message)
    assert await count_users(place) == 0


async def test_users_create_refuses_a_taken_login(place: Place) -> None:
    first = place.run("users", "create", "grace", "--name", "Grace", "--password", "secret-pass-1")
    assert first.returncode == 0, first.stderr
    again = place.run("users", "create", "grace", "--name", "Grace 2", "--password", "secret-pass-1")
    assert (again.returncode, again.stdout, again.stderr) == (2, "", "switchboard: login 'grace' is taken (login)\n")
    assert await count_users(place) == 1


# --- tokens -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "supervisor"])
async def test_tokens_create_prints_a_token_that_authenticates(
    place: Place, services: Services, role: str | None
) -> None:
    # when a token is created
    done = place.run("tokens", "create", "shop website", *(("--role", role) if role else ()))
    # then it is printed once, with its id and role
    assert done.returncode == 0, done.stderr
    expected_role = Role(role or "integration")
    printed = re.fullmatch(rf"token (\d+) \({expected_role.value}\): (sbt_[A-Za-z0-9_-]{{20,}})\n", done.stdout)
    assert printed is not None, done.stdout
    # and it authenticates as that role
    principal = await authenticate(services, printed.group(2))
    assert (principal.role, principal.token_id, principal.user_id) == (expected_role, int(printed.group(1)), None)
    # while a token that differs by one character does not
    forged = printed.group(2)[:-1] + ("A" if printed.group(2)[-1] != "A" else "B")
    with pytest.raises(Unauthenticated):
        await authenticate(services, forged)


def test_tokens_create_refuses_a_blank_name(place: Place) -> None:
    done = place.run("tokens", "create", "   ")
    assert (done.returncode, done.stdout, done.stderr) == (
        2,
        "",
        "switchboard: name must be 1 to 200 characters (name)\n",
    )


def test_contacts_duplicates_prints_jsonl_and_refuses_a_bad_score(place: Place) -> None:
    # given a migrated database with the demo (no duplicates among its contacts)
    assert place.run("demo").returncode == 0
    found = place.run("contacts", "duplicates", "--format", "jsonl")
    assert found.returncode == 0, found.stderr
    for line in found.stdout.splitlines():
        pair = json.loads(line)
        assert set(pair) >= {"a", "b", "score"}
    bad = place.run("contacts", "duplicates", "--min-score", "2")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "switchboard: --min-score must be greater than 0 and at most 1"


# --- contacts import and duplicates ---------------------------------------------------------------------------


def write_csv(place: Place, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = place.cwd / name
    path.write_bytes(text.encode(encoding))
    return path


IMPORT_MAP = ("--map", "ФИО=name", "--map", "Телефон=phone", "--map", "ДР=birth_date", "--map", "Код=external_id")


async def test_contacts_import_keeps_good_rows_reports_bad_ones_and_shows_progress(
    place: Place, services: Services
) -> None:
    # given a file of 1,050 good rows and two bad ones
    rows = [f"Клиент {n},+7 916 {n // 10000:03d}-{n % 10000:04d},01.02.1980,ext-{n}" for n in range(1050)]
    rows.insert(10, "Плохая дата,+7 916 999-00-01,31.02.1980,ext-bad")
    rows.insert(20, "Повтор,+7 916 999-00-02,,ext-5")
    path = write_csv(place, "people.csv", "ФИО,Телефон,ДР,Код\n" + "\n".join(rows) + "\n")
    # when it is imported
    done = place.run("contacts", "import", str(path), *IMPORT_MAP)
    # then the good rows are in, the bad ones listed by line, the exit code says some failed, progress went to stderr
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == [
        "line 12: failed: birth_date: '31.02.1980' is not a date (YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY)",
        "line 22: failed: external_id: external id ext-5 repeats line 7",
    ]
    assert re.fullmatch(r"1052 rows: 1050 created, 0 matched, 2 failed \(\d+\.\d s\)", lines[2])
    assert re.match(r"1,000 rows \([\d,]+ rows/s\)\n", done.stderr)
    found = await search_contacts(services, Principal(Role.ADMIN), ContactQuery(phone="+79160001049"), 5, 0)
    assert [(c.name, c.external_id, c.birth_date) for c in found] == [("Клиент 1049", "ext-1049", date(1980, 2, 1))]
    # and importing it again matches every phone instead of duplicating, refusing the external ids already taken
    again = place.run("contacts", "import", str(path), *IMPORT_MAP)
    assert again.returncode == 1
    assert "1052 rows: 0 created, 0 matched, 1052 failed" in again.stdout
    assert "line 2: failed: external_id: external id ext-0 already belongs to contact" in again.stdout


async def test_contacts_import_refuses_an_unusable_file_and_imports_nothing(place: Place) -> None:
    path = write_csv(place, "cp1251.csv", "ФИО,Телефон,ДР,Код\nИван,+79161234567,,x\n", "cp1251")
    wrong = place.run("contacts", "import", str(path), *IMPORT_MAP)
    assert (wrong.returncode, wrong.stdout) == (2, "")
    assert wrong.stderr == (
        "switchboard: the file is not utf-8 (line 1: byte 0xd4); give its encoding, e.g. cp1251 (encoding)\n"
    )
    missing = place.run("contacts", "import", str(path), "--encoding", "cp1251", "--map", "Почта=email")
    assert (missing.returncode, missing.stderr) == (
        2,
        "switchboard: the file has no column 'Почта' (its columns: ФИО, Телефон, ДР, Код) (map)\n",
    )
    absent = place.run("contacts", "import", "nowhere.csv", *IMPORT_MAP)
    assert (absent.returncode, absent.stderr) == (2, "switchboard: nowhere.csv is not a readable file\n")
    assert await count_contacts(place) == 0
    right = place.run("contacts", "import", str(path), "--encoding", "cp1251", *IMPORT_MAP)
    assert right.returncode == 0 and right.stdout.startswith("1 rows: 1 created, 0 matched, 0 failed")


def test_contacts_duplicates_prints_the_imports_external_ids(place: Place) -> None:
    # given one person imported twice from two systems (Cyrillic and Latin, same phone typo-free and birth date)
    path = write_csv(
        place,
        "two.csv",
        "ФИО,Телефон,ДР,Код\nЮлия Щукина,+79161112233,17.05.1990,crm-1\nShchukina Yulia,,17.05.1990,shop-9\n",
    )
    assert place.run("contacts", "import", str(path), *IMPORT_MAP).returncode == 0
    other = write_csv(place, "mail.csv", "name,email,born\nShchukina Yulia,y@example.com,1990-05-17\n")
    assert place.run("contacts", "import", str(other), "--map", "name=name", "--map", "email=email").returncode == 0
    # when the duplicates are listed as JSON lines and saved for the API
    found = place.run("contacts", "duplicates", "--format", "jsonl", "--min-score", "0.5", "--save")
    # then each pair carries the external ids the import gave (null where a contact has none)
    assert found.returncode == 0, found.stderr
    pairs = [json.loads(line) for line in found.stdout.splitlines()]
    assert [(p["a_external_id"], p["b_external_id"]) for p in pairs] == [
        ("crm-1", "shop-9"),
        ("crm-1", None),
        ("shop-9", None),
    ]
    assert all(set(p) == {"a", "b", "score", "a_external_id", "b_external_id"} for p in pairs)


async def count_contacts(place: Place) -> int:
    container = build(load_settings(database_url=place.url))
    try:
        async with container.database.engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(tables.contacts))).scalar_one())
    finally:
        await container.database.dispose()

"""A private Dovecot IMAP server for the tests: its own config in a temp dir, a passwd-file of users,
mail in temp maildirs, plaintext login on loopback only, a free port, no system service touched.

Needs Debian's `dovecot-imapd` package. Without it the tests are skipped, or fail when CI=true.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import aioimaplib
import pytest

PASSWORD = "imap-secret"
USERS = tuple(f"agent{i}" for i in range(1, 11))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Dovecot: {reason} (CI=true: install the apt package dovecot-imapd)")
    pytest.skip(f"Dovecot: {reason}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accounts() -> tuple[str, str, int, int]:
    """(login user, internal user, mail uid, mail gid): Dovecot's own users when root, else ourselves."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    for name in ("dovenull", "dovecot"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            _unavailable(f"system user {name!r} is missing (is dovecot-imapd installed?)")
    nobody = pwd.getpwnam("nobody")  # Dovecot refuses to run mail processes as root
    return "dovenull", "dovecot", nobody.pw_uid, nobody.pw_gid


class Dovecot:
    def __init__(self) -> None:
        binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
        if binary is None:
            _unavailable("the dovecot binary is not installed")
        self.binary = str(binary)
        self.root = Path(tempfile.mkdtemp(prefix="sb-dovecot-"))
        self.root.chmod(0o755)  # the login processes run as another user and must reach base_dir
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    def write_config(self) -> None:
        login_user, internal_user, uid, gid = _accounts()
        for folder in ("mail", "home"):
            (self.root / folder).mkdir()
            os.chown(self.root / folder, uid, gid)
        (self.root / "users").write_text("".join(f"{user}:{{PLAIN}}{PASSWORD}\n" for user in USERS))
        self.config_path.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log_path}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
mail_location = maildir:{self.root}/mail/%u
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
        )

    def start(self) -> None:
        self.write_config()
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config_path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                _unavailable(f"exited with {self.process.returncode}: {stderr.strip()} {self._log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.settimeout(2)
                if conn.recv(100).startswith(b"* OK"):
                    return
            time.sleep(0.1)
        self.stop()
        _unavailable(f"did not answer on 127.0.0.1:{self.port}: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-5:])
        except OSError:
            return ""

    def kick(self, user: str) -> None:
        """Disconnect every session of a user (as an admin or a network failure would)."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        subprocess.run([doveadm, "-c", str(self.config_path), "kick", user], check=True, capture_output=True)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)

    # --- mailbox helpers (through IMAP, as a mail delivery agent would APPEND) ------------------

    async def _client(self, user: str) -> aioimaplib.IMAP4:
        client = aioimaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        await client.wait_hello_from_server()
        assert (await client.login(user, PASSWORD)).result == "OK"
        assert (await client.select("INBOX")).result == "OK"
        return client

    async def deliver(self, user: str, raw: bytes, *, seen: bool = False) -> None:
        client = await self._client(user)
        try:
            response = await client.append(raw, mailbox="INBOX", flags="(\\Seen)" if seen else None)
            assert response.result == "OK", response
        finally:
            await client.logout()

    async def flags(self, user: str) -> dict[str, set[str]]:
        """Message-ID → flags of every message in the user's INBOX."""
        client = await self._client(user)
        try:
            response = await client.uid("fetch", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        finally:
            await client.logout()
        found: dict[str, set[str]] = {}
        lines = response.lines
        for index, line in enumerate(lines):
            if isinstance(line, bytearray):
                header = bytes(lines[index - 1])
                flags = header.split(b"FLAGS (", 1)[1].split(b")", 1)[0].decode().split()
                message_id = bytes(line).decode().split(":", 1)[1].strip().strip("<>")
                found[message_id] = set(flags)
        return found

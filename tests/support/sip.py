"""Real SIP peers for end-to-end tests: Kamailio with the repo's config, and sipp as callers and operators' phones.

Needs Debian's kamailio, kamailio-json-modules, kamailio-utils-modules and sip-tester (sipp). Without
them the tests are skipped, or fail when CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
SCENARIOS = ROOT / "tests" / "e2e" / "sipp"
MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")
NEEDED_MODULES = ("http_client.so", "json.so", "registrar.so", "usrloc.so", "tm.so")


def require_sip_tools() -> None:
    missing = [tool for tool in ("kamailio", "sipp") if shutil.which(tool, path="/usr/sbin:/usr/bin") is None]
    missing += [module for module in NEEDED_MODULES if not (MODULES / module).exists()]
    if not missing:
        return
    message = f"missing for the SIP tests: {', '.join(missing)} (apt-get install kamailio kamailio-json-modules "
    message += "kamailio-utils-modules sip-tester)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true: a missing service is a failure")
    pytest.skip(message)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def udp_port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


async def _wait_bound(port: int, process: asyncio.subprocess.Process, log: Path, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not udp_port_taken(port):
        if process.returncode is not None or time.monotonic() > deadline:
            raise AssertionError(f"nothing listens on udp {port}:\n{_tail(log)}")
        await asyncio.sleep(0.05)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


@dataclass
class Kamailio:
    port: int
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.asynccontextmanager
async def kamailio(workdir: Path, switchboard_url: str, secret: str, queue_wait_s: int = 10) -> AsyncIterator[Kamailio]:
    """The repo's kamailio.cfg on a free loopback port, asking the Switchboard at ``switchboard_url``."""
    port = free_udp_port()
    log = workdir / "kamailio.log"
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "SWITCHBOARD_URL": switchboard_url, "SWITCHBOARD_SIP_SECRET": secret}
    args = ["-f", str(CONFIG), "-DD", "-E", "-Y", str(workdir), "-A", f"SIP_PORT={port}"]
    args += ["-A", f"QUEUE_WAIT_S={queue_wait_s}", "-m", "64", "-M", "8"]
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            "/usr/sbin/kamailio", *args, cwd=workdir, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    try:
        await _wait_bound(port, process, log)
        yield Kamailio(port, log)
    finally:
        await _stop(process)


@dataclass
class Phone:
    """An operator's phone: a sipp UAS on its own port, registered with Kamailio as ``user``."""

    user: str
    port: int
    messages: Path
    process: asyncio.subprocess.Process
    exit_code: int | None = None

    def trace(self) -> str:
        return self.messages.read_text(errors="replace") if self.messages.exists() else ""

    def rang(self) -> bool:
        return "INVITE sip:" in self.trace()

    async def finished(self, seconds: float = 20.0) -> int:
        """The phone's one call is over: sipp's exit code (0: the scenario ran to its end)."""
        self.exit_code = await asyncio.wait_for(self.process.wait(), seconds)
        return self.exit_code


@dataclass
class Phones:
    workdir: Path
    proxy: Kamailio
    started: list[Phone] = field(default_factory=list)

    async def register(self, user: str, scenario: str = "phone_answers.xml") -> Phone:
        port = free_udp_port()
        messages = self.workdir / f"{user}.messages.log"
        args = ["-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-p", str(port), "-m", "1", "-nostdin"]
        args += ["-trace_msg", "-message_file", str(messages), "-trace_err", "-error_file", str(messages) + ".err"]
        process = await _sipp(self.workdir, args, self.workdir / f"{user}.out")
        phone = Phone(user, port, messages, process)
        self.started.append(phone)
        await _wait_bound(port, process, self.workdir / f"{user}.out")
        code = await run_sipp(
            self.workdir,
            f"register-{user}",
            "register.xml",
            self.proxy.port,
            "-set",
            "user",
            user,
            "-set",
            "contact_port",
            str(port),
        )
        assert code == 0, f"{user} could not register: {(self.workdir / f'register-{user}.out').read_text()[-2000:]}"
        return phone

    async def stop(self) -> None:
        for phone in self.started:
            await _stop(phone.process)


@contextlib.asynccontextmanager
async def phones(workdir: Path, proxy: Kamailio) -> AsyncIterator[Phones]:
    registry = Phones(workdir, proxy)
    try:
        yield registry
    finally:
        await registry.stop()


async def _sipp(workdir: Path, args: list[str], out: Path) -> asyncio.subprocess.Process:
    with out.open("wb") as sink:
        return await asyncio.create_subprocess_exec(
            "/usr/bin/sipp", *args, cwd=workdir, stdin=asyncio.subprocess.DEVNULL, stdout=sink, stderr=sink
        )


async def run_sipp(workdir: Path, name: str, scenario: str, proxy_port: int, *extra: str, seconds: float = 60) -> int:
    """A sipp UAC run to its end (one call) against Kamailio; its exit code (0: every call as the scenario says)."""
    port = free_udp_port()
    args = [f"127.0.0.1:{proxy_port}", "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-p", str(port)]
    args += ["-m", "1", "-nostdin", "-timeout", f"{int(seconds)}s", "-timeout_error"]
    args += ["-trace_msg", "-message_file", str(workdir / f"{name}.messages.log"), *extra]
    process = await _sipp(workdir, args, workdir / f"{name}.out")
    try:
        return await asyncio.wait_for(process.wait(), seconds + 5)
    finally:
        await _stop(process)

"""The ASGI entry point uvicorn imports: settings from the environment, one container per process."""

from __future__ import annotations

from switchboard.bootstrap import build
from switchboard.config import load_settings
from switchboard.logs import configure
from switchboard.web.app import create_app
from switchboard.web.collector import settle

_settings = load_settings()
configure(_settings.log_format, _settings.log_level)
app = create_app(build(_settings))
settle()  # freeze what lives as long as the process; collect the young generation less often

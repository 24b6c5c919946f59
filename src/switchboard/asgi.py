"""The ASGI entry point uvicorn imports: settings from the environment, one container per process."""

from __future__ import annotations

import gc

from switchboard.bootstrap import build
from switchboard.config import load_settings
from switchboard.logs import configure
from switchboard.web.app import create_app

_settings = load_settings()
configure(_settings.log_format, _settings.log_level)
app = create_app(build(_settings))
# Everything imported so far lives as long as the process: the collector need not walk it again on
# every full collection (fewer long pauses under load).
gc.freeze()

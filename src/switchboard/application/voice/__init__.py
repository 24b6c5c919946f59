"""Voice: calls as conversations, driven by any PBX front end through ``CallControl``."""

from switchboard.application.voice.control import CallControl
from switchboard.application.voice.model import CallEvent, NewCall, Step, StepResult

__all__ = ["CallControl", "CallEvent", "NewCall", "Step", "StepResult"]

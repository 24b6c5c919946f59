"""Pure ACD routing: line configuration, distribution modes, the engine and its simulator."""

from switchboard.domain.routing.core import EngineSettings
from switchboard.domain.routing.engine import RoutingEngine

__all__ = ["EngineSettings", "RoutingEngine"]

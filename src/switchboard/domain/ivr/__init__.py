"""Interactive voice response: menu trees as data (``tree``) and the pure walk through them (``walk``)."""

from switchboard.domain.ivr.tree import IvrTree, parse_ivr
from switchboard.domain.ivr.walk import CallFacts, Turn, Walk, begin, resume

__all__ = ["CallFacts", "IvrTree", "Turn", "Walk", "begin", "parse_ivr", "resume"]

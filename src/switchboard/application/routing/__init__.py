"""Routing applied: the pure engine fed by committed events, its decisions written atomically."""

"""Ports: the only doors from the application to the outside world."""

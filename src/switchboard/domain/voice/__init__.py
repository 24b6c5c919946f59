"""Calls: a call's record and its outcome, callbacks, signed call control, what the caller hears."""

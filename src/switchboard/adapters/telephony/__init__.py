"""Telephony adapters: how Switchboard asks a PBX to do something (place a call)."""

"""SMPP 3.4 for the SMS connector: the pure PDU codec, the asyncio client and the per-channel sessions."""

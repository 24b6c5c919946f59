"""SMS: one channel kind over Twilio, SMS.ru or an SMPP 3.4 SMSC (see ``connector.py`` and ``docs/channels.md``)."""

from switchboard.adapters.connectors.sms.connector import SmsConnector
from switchboard.adapters.connectors.sms.smpp.sessions import SmppSessions

__all__ = ["SmppSessions", "SmsConnector"]

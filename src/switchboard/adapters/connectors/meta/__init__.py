"""Meta's messaging channels on the Graph API: WhatsApp Business Cloud API, Messenger, Instagram."""

from switchboard.adapters.connectors.meta.instagram import InstagramConnector
from switchboard.adapters.connectors.meta.messenger import MessengerConnector
from switchboard.adapters.connectors.meta.whatsapp import WhatsAppConnector

__all__ = ["InstagramConnector", "MessengerConnector", "WhatsAppConnector"]

"""Channel connectors: one module per medium, each implementing ``application/ports/connectors.Connector``."""

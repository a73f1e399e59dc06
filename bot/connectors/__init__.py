"""Platform connectors: each verifies and parses its webhooks and sends replies (base.py)."""

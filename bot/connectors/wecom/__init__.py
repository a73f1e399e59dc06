"""WeCom (企业微信): the self-built app connector and group robots."""

"""WeChat Official Account (微信公众号): the connector and its passive replies."""

"""The HTTP surface besides webhooks: health, metrics, admin API, console, task and public pages."""

"""The conversation scenario suite: data (*.yml, FORMAT.md), loader, runner and judge."""

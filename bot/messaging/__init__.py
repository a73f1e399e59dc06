"""Messages in and out: store then queue (ingest), consume, run a turn (pipeline), outbox."""

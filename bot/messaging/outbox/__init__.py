"""The outbox: replies stored in SQL become delivery jobs (enqueue) that send them (send)."""

"""The sync facade: one event-loop thread behind blocking twins of the async API."""

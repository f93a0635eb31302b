"""Background work: the one task API and what runs on it (data loading, deferred refreshes, GC pauses)."""

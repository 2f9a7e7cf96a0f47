"""Landing order events in the warehouse: validation, arrival stamping, exactly-once files,
nothing lost, and the per-day versions through which late data marks old days stale."""

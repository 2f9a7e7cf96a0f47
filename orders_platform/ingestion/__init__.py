"""Landing order events in the warehouse: validation, arrival stamping, exactly-once files."""

"""When things run: hourly landing, yesterday's partition, and the nightly 14-day re-merge."""

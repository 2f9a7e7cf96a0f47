"""Noticing new data: landing files, and late data that changes historical partitions."""

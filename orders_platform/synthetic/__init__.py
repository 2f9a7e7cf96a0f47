"""Seeded synthetic mobile-SDK traffic for the demo, the tests and the benchmarks."""

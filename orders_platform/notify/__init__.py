"""Telling people when late data revised numbers they may already have used."""

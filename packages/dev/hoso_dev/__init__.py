"""Hoso's development tools: never part of a service's image."""

"""Providers (utförare) and their units, registered by the municipality's admin."""

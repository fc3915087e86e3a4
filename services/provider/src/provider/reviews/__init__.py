"""Quarterly access reviews: each provider confirms its list of active users."""

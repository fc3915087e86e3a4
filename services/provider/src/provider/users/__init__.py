"""A provider's own users, administered by its manager, and the check every provider request makes."""

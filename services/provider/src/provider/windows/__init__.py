"""Service windows the municipality announces to providers (PR-11)."""

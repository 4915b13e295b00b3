"""Users, login sessions, API tokens and rate limits."""

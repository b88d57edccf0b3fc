"""Notifications service: tells people what happened, in their language, exactly once per event."""

"""The messaging kit: outbox and relay, inbox, batch consumers, dead letters, topics."""

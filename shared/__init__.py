"""What the four Inspraak services share: the event contract, the messaging kit and plumbing."""

"""Advisory service: advisory councils, advice requests with deadlines, and the advice given."""

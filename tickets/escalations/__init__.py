"""Escalations to cross-functional queues (by hand or by rule), their hand back, and the notices they send."""

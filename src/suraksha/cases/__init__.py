"""Human review and cases: review tasks from the scan's outbox, decisions, escalation, second
review, banking confirmed hashes, and cases that group items, accounts and decisions."""

"""Background work driven by database rows: expiry, reminders, waitlists, tickets."""

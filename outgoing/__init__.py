"""Outgoing mail: verification codes by SMTP, or printed to the console in the demo."""

"""Storage-level outcomes the services may need to tell apart, without SQLAlchemy types."""


class Conflict(Exception):
    """A unique rule of the schema refused the write (someone else got there first)."""

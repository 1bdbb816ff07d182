"""School administrators, the audit log and the latest news (R40-R42)."""

from __future__ import annotations

from storage.repos.base import Repository


class AdministrationRepository(Repository):
    pass

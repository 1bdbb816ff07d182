"""The operator's back office: imports, sessions, capacities, admins, audit, exports, news."""

"""The operator's back office: session and roster imports, capacities, admins, audit, exports, news."""

"""The HTTP side of payments: the gateway callback endpoint and the sandbox payment server."""

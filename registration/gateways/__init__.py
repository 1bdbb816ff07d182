"""Payment gateways behind one interface (R28): the sandbox by default, real ones plug in."""

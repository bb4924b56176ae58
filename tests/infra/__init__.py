"""Real servers started by tests (loopback only, owned and stopped by PID)."""

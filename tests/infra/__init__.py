"""Real services for the tests (a Chroma server, a Ray cluster): started once per session on loopback
ports, owned by the test session and stopped by PID."""

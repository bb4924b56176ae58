"""Real services for the tests (a Chroma server, a Ray cluster, a PostgreSQL cluster): started once per session
on loopback ports, owned by the test session and stopped by PID."""

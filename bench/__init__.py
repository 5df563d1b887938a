"""The benchmark harness: `python -m bench` starts the server as a user would and drives it
with real WebSocket clients in separate processes (see the README's Benchmarks section)."""

"""The ASGI application, its WebSocket protocols and the `chat-server` command line."""

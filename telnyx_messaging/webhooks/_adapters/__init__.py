"""The web-framework edges of the receiver: aiohttp, ASGI and WSGI (Flask, Django)."""

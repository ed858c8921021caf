"""What carries a request's bytes: the seam (``base``), aiohttp (default) and the mock."""

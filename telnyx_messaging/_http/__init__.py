"""The outbound call path: codec, retry policy, request loop and the transports. No public names."""

"""The ``telnyx-messaging`` command line: demo, fake-server and send-bulk (entry: ``main.main``)."""

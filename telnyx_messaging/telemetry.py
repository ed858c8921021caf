"""OpenTelemetry traces and metrics for the SDK: switched on here, free when off.

::

    import telnyx_messaging.telemetry

    telnyx_messaging.telemetry.enable()  # every client made from now on reports
    client = AsyncClient()

or for one client: ``AsyncClient(telemetry=True)`` (or ``telemetry=Telemetry(...)``). Needs
``pip install "telnyx-messaging[otel]"`` (the OpenTelemetry API) and, to see anything, an
OpenTelemetry SDK and exporter of your choice. What is reported: ``docs/observability.md``.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from telnyx_messaging._telemetry import Telemetry, disable, enable

__all__ = ["Telemetry", "disable", "enable"]

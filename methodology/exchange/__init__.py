"""The PACT data-exchange API (PACT Technical Specifications v3.0.3, host system): ``pcf serve``.

``credentials`` reads the clients allowed in (secrets stored hashed), ``footprints`` holds the PACT files the
runs wrote and filters them as the spec's ListFootprints says, ``events`` checks CloudEvents and answers a
RequestCreatedEvent asynchronously, ``server`` is the Starlette application run by uvicorn.
"""

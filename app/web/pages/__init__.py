"""The dashboard's views, one module each: ``layout()`` and ``register(app, ctx)``, with the
figures and rows built by pure functions of a stored report."""

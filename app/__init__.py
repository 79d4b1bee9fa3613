"""pmdesk application: configuration, store, collector, alerts and the web UI."""

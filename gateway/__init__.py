"""cloudgw core: config, model, driver interface, scope, store, operations, app."""

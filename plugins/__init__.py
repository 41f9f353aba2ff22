"""Built-in plugins: one package per plugin, switched on in config.toml [plugins] enabled."""

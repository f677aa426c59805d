"""The `countyhub` command line, an edge: it reads the settings, builds the runtime and calls the flow."""

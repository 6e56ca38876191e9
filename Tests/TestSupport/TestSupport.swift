/// Shared test helpers: servers and temporary directories.

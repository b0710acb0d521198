"""Virtual populations: keyed random draws, subject sampling and the compiled kernel."""

"""Model builders: a config in, a Keras model out. No I/O here."""

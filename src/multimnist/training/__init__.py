"""One training path for every model: seeding, Keras fit with callbacks, run folders."""

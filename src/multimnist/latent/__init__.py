"""Samplers fitted on autoencoder encodings, for generating images from the decoder."""

"""One training path for every model: the pack trainer (many networks, one compiled JAX program), run folders,
seeding, optimizers and inference."""

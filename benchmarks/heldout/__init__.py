"""Held-out entity-resolution benchmark: an independent generator of noisy Chinese credit
records (written without reading the matcher), a pairwise scorer, and a runner that calls
`credithub resolve` as a black box. See README.md for the noise model."""

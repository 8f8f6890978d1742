"""Numba kernels: arrays and scalars in, results written into ``out`` arrays. No RNG, no I/O."""

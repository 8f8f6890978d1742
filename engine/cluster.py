"""A dask.distributed client for joblib's dask backend (an optional dependency)."""

from __future__ import annotations

from contextlib import contextmanager

from .errors import InputError


@contextmanager
def dask_client(address: str | None, n_workers: int):
    """Connect to ``address``, or start a local cluster of ``n_workers`` single-threaded
    worker processes on loopback; closed on exit."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("backend", "'dask' needs the dask extra: pip install "
                                    "'invswarm[dask]'") from None
    if address:
        client = Client(address)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

"""The redeployment service: firms post their own data, the engine re-plans in the background,
donors approve transfers (``invswarm serve``; docs/service.md).

Needs the ``service`` extra (``pip install invswarm[service]``); the engine does not import it.
"""

from .app import create_app
from .config import ServiceConfig

__all__ = ["ServiceConfig", "create_app"]

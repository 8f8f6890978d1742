"""``invswarm serve``: run the service (uvicorn), optionally with the electronics demo."""

from __future__ import annotations

import sys
import warnings

from ..errors import InputError
from ..jsonio import write_json_atomic
from .auth import new_token
from .config import ServiceConfig
from .db import driver_url


def serve(args) -> int:
    import uvicorn

    # The demo loads its data through the app in process, with Starlette's test client;
    # its notice about the HTTP library it is built on is for test suites, not for users.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx`")
        from fastapi.testclient import TestClient

    from ..models.network import electronics_doc
    from .app import create_app
    from .demo import load_instance_doc

    token = args.operator_token or new_token()
    try:
        config = ServiceConfig(db_url=driver_url(args.db), operator_token=token,
                               method=args.method, time_limit=args.time_limit,
                               seed=args.seed, debounce=args.debounce,
                               period_seconds=args.period_seconds)
    except ValueError as exc:
        field, _, problem = str(exc).partition(": ")
        raise InputError(field, problem) from None
    app = create_app(config)
    tokens: dict = {"operator": token, "firms": {}}
    if args.demo:
        # loaded through the API before the server listens (no lifespan: no planner yet;
        # it plans once it starts)
        client = TestClient(app)
        if client.get("/firms", headers={"Authorization": f"Bearer {token}"}).json()["total"]:
            print("invswarm serve: --demo needs an empty database (this one has firms)",
                  file=sys.stderr)
            return 2
        tokens["firms"] = load_instance_doc(client, token, electronics_doc())
        app.state.planner.nudge("demo loaded")
    if args.tokens:
        write_json_atomic(args.tokens, tokens)
    base = f"http://{args.host}:{args.port}"
    print(f"invswarm serve: {base} (API document {base}/openapi.json, pages {base}/ui)")
    if not args.operator_token:
        print(f"operator token: {token}")
    for name, t in tokens["firms"].items():
        print(f"firm {name}: {t}")
    sys.stdout.flush()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0

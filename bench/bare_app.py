"""The bare endpoint ``bench/load.py`` measures zonecase against: FastAPI answering a small JSON document, nothing
else (no token, no store), served by uvicorn the way ``zonecase serve`` is.

    python -m uvicorn bench.bare_app:app --port 8001
"""

from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
def bare() -> dict[str, Any]:
    return {"status": "ok", "items": [1, 2, 3]}

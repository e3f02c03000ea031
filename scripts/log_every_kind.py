#!/usr/bin/env python3
"""Log one entry of every kind through /api/v1 with a personal access token, then replay one request.

    BEATBOOK_TOKEN=bb_... python3 scripts/log_every_kind.py [http://127.0.0.1:5000]

Make the token on Menu -> API tokens (read and write). Standard library only: this is what any client does.
Prints one line per entry and exits 1 if anything is refused or the replay made a second entry.
"""
from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import datetime, timedelta, timezone
from urllib.error import HTTPError
from urllib.request import Request, urlopen


def call(base: str, token: str, method: str, path: str, body: dict | None = None, key: str | None = None):
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Idempotency-Key"] = f'"{key}"'
    request = Request(base + path, method=method, headers=headers,
                      data=None if body is None else json.dumps(body).encode())
    try:
        with urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def bodies(me: dict, school_id: int) -> dict[str, dict]:
    when = (datetime.now(timezone.utc) - timedelta(minutes=20)).isoformat(timespec="seconds")
    common = {"occurred_at": when, "lat": 53.464903, "lon": -2.260757, "accuracy_m": 12, "location_source": "gps"}
    return {
        "patrols": common | {"mode": "foot", "purpose": "Car crime on Shrewsbury Street"},
        "asb-incidents": common | {"summary": "Youths on the tram platform", "nsir_category": "nuisance",
                                   "asb_type": "rowdy_behaviour", "description": "Shouting at passengers",
                                   "people": [{"name": "Sam Reed", "role": "victim"}], "victim_risk": "low",
                                   "vehicles": [{"vrm": "MW61 VCZ", "colour": "Silver"}]},
        "school-visits": common | {"summary": "Assembly on knife crime", "school_id": school_id,
                                   "visit_type": "assembly", "topic": "Knife crime", "year_groups": ["Y9"]},
        "welfare-checks": common | {"summary": "Planned visit, RM", "child_name": "Riley Morgan",
                                    "child_born_on": "2012-03-04", "spoc_id": me["id"], "visit_type": "planned",
                                    "is_seen_alone": True, "risk_level": "medium"},
        "intelligence-reports": common | {"summary": "Red Audi at the precinct", "source_evaluation": "2",
                                          "assessment": "B", "handling_code": "P",
                                          "sanitised_text": "A red Audi A3 stops at the precinct most evenings."},
    }


def main(base: str, token: str) -> int:
    status, me = call(base, token, "GET", "/api/v1/me")
    if status != 200:
        print(f"GET /api/v1/me: {status} {me}")
        return 1
    status, schools = call(base, token, "GET", "/api/v1/schools")
    school_id = schools[0]["id"] if status == 200 and schools else None
    failures = 0
    for slug, body in bodies(me, school_id).items():
        key = str(uuid.uuid4())
        status, entry = call(base, token, "POST", f"/api/v1/{slug}", body, key)
        print(f"POST /api/v1/{slug}: {status} {entry.get('id') if status < 300 else entry}")
        failures += status != 201
        if slug == "asb-incidents" and status == 201:
            again, replayed = call(base, token, "POST", f"/api/v1/{slug}", body, key)
            same = again == 201 and replayed.get("id") == entry["id"]
            print(f"  replayed with the same Idempotency-Key: {again}, same entry: {same}")
            failures += not same
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000", os.environ["BEATBOOK_TOKEN"]))

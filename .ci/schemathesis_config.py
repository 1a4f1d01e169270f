"""Writes the schemathesis configuration for a running celltrail demo.

    python3 .ci/schemathesis_config.py BASE_URL OUT.toml

Signs in as every demo role and the administrator, then, for each operation
of the served OpenAPI document, picks the first role the route admits (a
probe that is answered 403 means the role is refused), so schemathesis's
requests reach the handler rather than stop at the role check. Path
parameters get a dictionary of real identifiers of the demo (lots, vials,
patients, doses, ...), used in about half the cases; the other half stay
random, so both a record's answer and a missing record's 404 are checked
against the document. Scan bodies likewise get real label payloads.

Standard library only: it runs before schemathesis is installed too.
"""

import json
import sys
import urllib.error
import urllib.request

NIL = "00000000-0000-0000-0000-000000000000"

# (username, password) per role; the demo prints these (README).
ACCOUNTS = {
    "lab": ("lab.demo", "demo-lab-password"),
    "pharmacist": ("pharmacist.demo", "demo-pharmacist-password"),
    "clinician": ("clinician.demo", "demo-clinician-password"),
    "quality": ("quality.demo", "demo-quality-password"),
}
# Probed in this order: the first admitted role tests the route.
PROBE_ORDER = ["lab", "pharmacist", "clinician", "quality", "admin"]


def call(base, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw = error.read()
        status = error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def sign_in(base, username, password):
    status, body = call(
        base, "POST", "/api/v1/auth/login", body={"username": username, "password": password}
    )
    if status != 200:
        sys.exit(f"cannot sign in as {username}: {status} {body}")
    return body["token"]


def collect_ids(base, tokens):
    """Real identifiers of the demo, by kind."""
    quality = tokens["quality"]
    ids = {kind: [] for kind in (
        "donors", "donations", "lots", "vials", "storage", "patients", "doses",
        "infusions", "users", "weights", "screening", "qc", "checkpoints",
    )}
    payloads = []

    def get(path, token=quality):
        status, body = call(base, "GET", path, token)
        if status != 200:
            sys.exit(f"GET {path} answered {status}: {body}")
        return body

    for patient in get("/api/v1/patients?limit=3")["items"]:
        record = get(f"/api/v1/patients/{patient['id']}")
        ids["patients"].append(record["id"])
        payloads.append(record["scan_payload"])
        ids["weights"] += [w["id"] for w in record["weights"][:2]]
        ids["doses"] += [d["id"] for d in record["doses"][:2]]
        ids["infusions"] += [i["id"] for i in record["infusions"][:2]]
    for status in ("available", "quarantine", "infused", "recalled", "thawed"):
        for vial in get(f"/api/v1/vials?status={status}&limit=1")["items"]:
            ids["vials"].append(vial["id"])
            payloads.append(vial["scan_payload"])
    for lot_id in sorted({lot["id"] for lot in get("/api/v1/lots?limit=500")["items"]}):
        lot = get(f"/api/v1/lots/{lot_id}")
        ids["lots"].append(lot_id)
        ids["donations"].append(lot["donation_id"])
        ids["qc"] += [q["id"] for q in lot["qc"][:2]]
    for donation_id in sorted(set(ids["donations"])):
        donation = get(f"/api/v1/donations/{donation_id}")
        ids["donors"].append(donation["donor_id"])
    for donor_id in sorted(set(ids["donors"])):
        donor = get(f"/api/v1/donors/{donor_id}")
        ids["screening"] += [s["id"] for s in donor["screening"][:2]]
    ids["storage"] = [unit["id"] for unit in get("/api/v1/storage")[:6]]
    ids["users"] = [user["id"] for user in get("/api/v1/users", tokens["admin"])]
    ids["checkpoints"] = [
        c["seq"] for c in get("/api/v1/audit/checkpoints")["checkpoints"][:3]
    ]
    return {kind: sorted(set(values)) for kind, values in ids.items() if values}, payloads


def dictionary_for(path, parameter):
    """Which kind of identifier a path parameter names."""
    parts = path.split("/")
    if parameter == "id":
        return parts[parts.index("{id}") - 1]
    return {"result_id": "qc" if "/lots/" in path else "screening",
            "weight_id": "weights", "seq": "checkpoints"}.get(parameter)


def request_properties(doc, operation):
    """The top-level properties of an operation's JSON body."""
    schema = (
        operation.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
    )
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema.get("properties", {})


def toml_string(value):
    return json.dumps(value)


def main():
    base, out = sys.argv[1].rstrip("/"), sys.argv[2]
    tokens = {role: sign_in(base, *account) for role, account in ACCOUNTS.items()}
    tokens["admin"] = sign_in(base, "admin", sys.argv[3] if len(sys.argv) > 3 else "")
    ids, payloads = collect_ids(base, tokens)
    _, doc = call(base, "GET", "/api/openapi.json")

    lines = [
        "# Written by .ci/schemathesis_config.py for one run; not kept.",
        "",
        "# Each operation carries its role's token below; no account is made.",
        "[auth]",
        "auto-signup = false",
        "",
    ]
    for kind, values in sorted(ids.items()):
        lines += [f"[dictionaries.{kind}]", f"values = {toml_string(values)}", ""]
    lines += ["[dictionaries.payloads]", f"values = {toml_string(sorted(payloads))}", ""]
    # Signed routes get the signer's own password in part of the cases, so
    # schemathesis reaches past the signature (the administrator's is left
    # out: it would deactivate the demo accounts whose tokens the run uses).
    passwords = dict(ACCOUNTS, verifier=("verifier.demo", "demo-verifier-password"))
    for role, (_, password) in sorted(passwords.items()):
        lines += [f"[dictionaries.password_{role}]", f"values = {toml_string([password])}", ""]

    roles_chosen = {}
    for path, item in sorted(doc["paths"].items()):
        for method, operation in sorted(item.items()):
            # Signing out ends the token every later request needs: the
            # script tests it last, on its own token.
            if not operation.get("security") or operation["operationId"] == "logout":
                continue
            probe_path = path
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    placeholder = "0" if parameter["name"] == "seq" else NIL
                    probe_path = probe_path.replace("{" + parameter["name"] + "}", placeholder)
            body = {} if "requestBody" in operation else None
            role = next(
                (r for r in PROBE_ORDER
                 if call(base, method.upper(), probe_path, tokens[r], body)[0] != 403),
                None,
            )
            if role is None:
                sys.exit(f"no role is admitted to {method.upper()} {path}")
            # A second pharmacist verifies what the first counted.
            if operation["operationId"] == "verify_dose":
                role = "verifier"
                tokens.setdefault("verifier", sign_in(base, "verifier.demo", "demo-verifier-password"))
            roles_chosen[role] = roles_chosen.get(role, 0) + 1
            lines += [
                "[[operations]]",
                f"include-operation-id = {toml_string(operation['operationId'])}",
                f"headers = {{ Authorization = {toml_string('Bearer ' + tokens[role])} }}",
            ]
            bindings = []
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    continue
                kind = dictionary_for(path, parameter["name"])
                if kind in ids:
                    bindings.append(
                        f'"path.{parameter["name"]}" = {{ dictionary = "{kind}", probability = 0.5 }}'
                    )
            if role != "admin" and "signature" in request_properties(doc, operation):
                bindings.append(
                    f'"body.signature.password" = {{ dictionary = "password_{role}", probability = 0.5 }}'
                )
            if operation["operationId"] == "scan":
                bindings.append('"body.payload" = { dictionary = "payloads", probability = 0.5 }')
            if bindings:
                lines.append(f"parameters = {{ {', '.join(bindings)} }}")
            lines.append("")
    with open(out, "w", encoding="utf-8") as file:
        file.write("\n".join(lines))
    print(
        "schemathesis config: "
        + ", ".join(f"{len(v)} {k}" for k, v in sorted(ids.items()))
        + "; operations by role: "
        + ", ".join(f"{k} {v}" for k, v in sorted(roles_chosen.items()))
    )


if __name__ == "__main__":
    main()

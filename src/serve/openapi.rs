//! The OpenAPI 3.1 description of the server, built in code (served at
//! `/api/v1/openapi.json`, committed as `docs/openapi.json`; a test fails
//! when the two differ).

use serde_json::{Value, json};

fn error_responses(codes: &[(&str, &str)]) -> Value {
    let mut out = serde_json::Map::new();
    for (status, what) in codes {
        out.insert(
            (*status).to_owned(),
            json!({
                "description": what,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            }),
        );
    }
    Value::Object(out)
}

fn ok_json(status: &str, description: &str, schema: &str, errors: &[(&str, &str)]) -> Value {
    let mut responses = error_responses(errors);
    if let Value::Object(m) = &mut responses {
        m.insert(
            status.to_owned(),
            json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
            }),
        );
    }
    responses
}

fn ok_text(description: &str, media: &str, errors: &[(&str, &str)]) -> Value {
    let mut responses = error_responses(errors);
    if let Value::Object(m) = &mut responses {
        m.insert(
            "200".to_owned(),
            json!({
                "description": description,
                "content": {media: {"schema": {"type": "string"}}}
            }),
        );
    }
    responses
}

fn body(schema: &str) -> Value {
    json!({
        "required": true,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

fn path_param(name: &str, description: &str, pattern: Option<&str>) -> Value {
    let mut schema = json!({"type": "string"});
    if let Some(p) = pattern {
        schema["pattern"] = json!(p);
    }
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema})
}

fn query_param(name: &str, description: &str, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": description,
           "schema": {"type": "integer", "minimum": 0}})
}

const BAD: (&str, &str) = ("400", "Malformed request (code names the problem)");
const NOT_FOUND: (&str, &str) = ("404", "Not in the log");
const TOO_LARGE: (&str, &str) = ("413", "Request body over the limit (docs/limits.md)");
const REFUSED: (&str, &str) = (
    "409",
    "Refused in the log's current state (rollback, window open, already ruled)",
);
const FORBIDDEN: (&str, &str) = ("403", "Not signed by the pinned vendor key");
const UNPROCESSABLE: (&str, &str) = (
    "422",
    "A signature or statement does not verify, or the manifest does not validate",
);
const UNAVAILABLE: (&str, &str) = ("503", "Registry busy or shutting down");

fn report_id() -> Value {
    path_param(
        "id",
        "Report id (`sha256:<hex>`)",
        Some("^sha256:[0-9a-f]{64}$"),
    )
}

/// The document.
pub fn document() -> Value {
    let write_errors = [
        BAD,
        NOT_FOUND,
        FORBIDDEN,
        REFUSED,
        TOO_LARGE,
        UNPROCESSABLE,
        UNAVAILABLE,
    ];
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "blueprint escrow registry",
            "version": "1",
            "description": "The escrow registry over HTTP (docs/escrow.md, docs/log.md). Every state change carries the signature that authorises it; the server verifies it and answers 2xx only after the entry is committed. Errors are {\"error\": {\"code\", \"message\"}}.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "paths": {
            "/api/v1/log/public-key": {"get": {
                "summary": "The log's public key (SPKI PEM), to verify checkpoints and receipts offline",
                "operationId": "logPublicKey",
                "responses": ok_text("The key file", "text/plain", &[])
            }},
            "/api/v1/checkpoint": {"get": {
                "summary": "The latest signed checkpoint (C2SP tlog-checkpoint signed note)",
                "operationId": "checkpoint",
                "responses": ok_text("The signed note", "text/plain", &[UNAVAILABLE])
            }},
            "/checkpoint": {"get": {
                "summary": "C2SP tlog-tiles: the latest signed checkpoint",
                "operationId": "tilesCheckpoint",
                "responses": ok_text("The signed note", "text/plain", &[UNAVAILABLE])
            }},
            "/tile/{path}": {"get": {
                "summary": "C2SP tlog-tiles: a hash tile (tile/<L>/<N>[.p/<W>]) or entry bundle (tile/entries/<N>[.p/<W>]), served live",
                "operationId": "tile",
                "parameters": [path_param("path", "The rest of the tile path, e.g. 0/x001/234 or entries/000.p/7", None)],
                "responses": ok_text("The tile bytes", "application/octet-stream", &[BAD, NOT_FOUND])
            }},
            "/api/v1/entries/{index}": {"get": {
                "summary": "One entry: its index, type and canonical event JSON",
                "operationId": "entry",
                "parameters": [path_param("index", "Entry index", Some("^[0-9]+$"))],
                "responses": ok_json("200", "The entry", "Entry", &[BAD, NOT_FOUND])
            }},
            "/api/v1/proofs/inclusion/{index}": {"get": {
                "summary": "Inclusion proof of an entry (verify offline with `blueprint proof inclusion`)",
                "operationId": "inclusionProof",
                "parameters": [
                    path_param("index", "Entry index", Some("^[0-9]+$")),
                    query_param("size", "Tree size of a signed checkpoint (default: the latest)", false)
                ],
                "responses": ok_json("200", "The proof", "InclusionProof", &[BAD, NOT_FOUND])
            }},
            "/api/v1/proofs/consistency": {"get": {
                "summary": "Consistency proof between two tree sizes (verify offline with `blueprint proof consistency`)",
                "operationId": "consistencyProof",
                "parameters": [
                    query_param("from", "The older tree size", true),
                    query_param("to", "Tree size of a signed checkpoint (default: the latest)", false)
                ],
                "responses": ok_json("200", "The proof", "ConsistencyProof", &[BAD, NOT_FOUND])
            }},
            "/api/v1/deposits": {"post": {
                "summary": "Deposit a vendor-signed blueprint envelope with its bond; returns the receipt",
                "operationId": "deposit",
                "requestBody": body("DepositRequest"),
                "responses": ok_json("201", "Committed: the receipt (verify offline with `blueprint proof receipt`)", "Receipt", &write_errors)
            }},
            "/api/v1/blueprints": {"get": {
                "summary": "Every deposited blueprint id",
                "operationId": "listBlueprints",
                "responses": ok_json("200", "The ids", "BlueprintList", &[])
            }},
            "/api/v1/blueprints/{id}": {"get": {
                "summary": "Every deposited version of a blueprint id with its bond",
                "operationId": "blueprintHistory",
                "parameters": [path_param("id", "Blueprint id", None)],
                "responses": ok_json("200", "The history", "History", &[NOT_FOUND])
            }},
            "/api/v1/escrow": {"get": {
                "summary": "Bond states of every deposited blueprint id",
                "operationId": "escrowAll",
                "responses": ok_json("200", "Bonds", "EscrowList", &[])
            }},
            "/api/v1/escrow/{id}": {"get": {
                "summary": "Each version's bond of one blueprint id and the entries that decided it",
                "operationId": "escrow",
                "parameters": [path_param("id", "Blueprint id", None)],
                "responses": ok_json("200", "Bonds", "Escrow", &[NOT_FOUND])
            }},
            "/api/v1/reports": {"post": {
                "summary": "File a deviation report signed by a registered member key",
                "operationId": "fileReport",
                "requestBody": body("EnvelopeRequest"),
                "responses": ok_json("201", "Filed", "Filed", &write_errors)
            }},
            "/api/v1/reports/{id}": {"get": {
                "summary": "A report, its envelope (co-signatures are over its PAE) and the reported deposit's digest",
                "operationId": "report",
                "parameters": [report_id()],
                "responses": ok_json("200", "The report", "Report", &[BAD, NOT_FOUND])
            }},
            "/api/v1/reports/{id}/cosignatures": {"post": {
                "summary": "Co-sign a report with another member key (Ed25519 over the report envelope's PAE)",
                "operationId": "cosign",
                "parameters": [report_id()],
                "requestBody": body("SignatureRequest"),
                "responses": ok_json("201", "Recorded", "Cosigned", &write_errors)
            }},
            "/api/v1/reports/{id}/rebuttals": {"post": {
                "summary": "The vendor's rebuttal envelope, signed by the pinned vendor key, within the window",
                "operationId": "rebut",
                "parameters": [report_id()],
                "requestBody": body("EnvelopeRequest"),
                "responses": ok_json("201", "Recorded", "Rebutted", &write_errors)
            }},
            "/api/v1/reports/{id}/rebuttal-acceptances": {"post": {
                "summary": "Accept the rebuttal with a member key (Ed25519 over the rebuttal envelope's PAE)",
                "operationId": "acceptRebuttal",
                "parameters": [report_id()],
                "requestBody": body("SignatureRequest"),
                "responses": ok_json("201", "Recorded", "Accepted", &write_errors)
            }},
            "/api/v1/reports/{id}/ruling": {"post": {
                "summary": "Record the ruling the escrow rule computes at the server's time (409 while the window is open)",
                "operationId": "rule",
                "parameters": [report_id()],
                "responses": ok_json("201", "Recorded", "Ruled", &write_errors)
            }},
            "/api/v1/releases": {"post": {
                "summary": "Release a deposit's bond after its support period, with no report pending",
                "operationId": "release",
                "requestBody": body("ReleaseRequest"),
                "responses": ok_json("201", "Recorded", "Released", &write_errors)
            }},
            "/api/v1/openapi.json": {"get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}}
            }}
        },
        "components": {"schemas": schemas()}
    })
}

fn strings(names: &[&str]) -> Value {
    let mut m = serde_json::Map::new();
    for n in names {
        m.insert((*n).to_owned(), json!({"type": "string"}));
    }
    Value::Object(m)
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

fn schemas() -> Value {
    let int = json!({"type": "integer", "minimum": 0});
    let hexes = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "Error": object(&["error"], json!({"error": object(&["code", "message"], strings(&["code", "message"]))})),
        "Envelope": {"type": "object", "description": "A DSSE envelope (payloadType, payload, signatures)",
                     "required": ["payloadType", "payload", "signatures"]},
        "Bond": object(&["amount", "currency"], json!({
            "amount": {"type": "string", "pattern": "^[0-9]{1,15}(\\.[0-9]{1,4})?$"},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}})),
        "DepositRequest": {"type": "object", "required": ["envelope", "bond"], "additionalProperties": false,
            "properties": {
                "envelope": {"$ref": "#/components/schemas/Envelope"},
                "bond": {"$ref": "#/components/schemas/Bond"},
                "vendor_public_key": {"type": "string", "description": "SPKI PEM; required with a blueprint id's first deposit"}}},
        "EnvelopeRequest": {"type": "object", "required": ["envelope"], "additionalProperties": false,
            "properties": {"envelope": {"$ref": "#/components/schemas/Envelope"}}},
        "SignatureRequest": {"type": "object", "required": ["keyid", "signature"], "additionalProperties": false,
            "properties": {"keyid": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                           "signature": {"type": "string", "description": "base64 Ed25519 signature over the envelope's PAE"}}},
        "ReleaseRequest": {"type": "object", "required": ["blueprint_id"], "additionalProperties": false,
            "properties": {"blueprint_id": {"type": "string"}, "version": int}},
        "Receipt": object(&["format", "origin", "index", "entry", "leaf_hash", "tree_size", "root", "checkpoint", "inclusion_proof", "blueprint_id", "version", "digest"], json!({
            "format": {"type": "string"}, "origin": {"type": "string"}, "index": int, "entry": {"type": "string"},
            "leaf_hash": {"type": "string"}, "tree_size": int, "root": {"type": "string"}, "checkpoint": {"type": "string"},
            "inclusion_proof": hexes, "blueprint_id": {"type": "string"}, "version": int, "digest": {"type": "string"}})),
        "Entry": object(&["index", "kind", "event"], json!({"index": int, "kind": {"type": "string"}, "event": {"type": "object"}})),
        "InclusionProof": object(&["index", "tree_size", "root", "leaf_hash", "entry", "inclusion_proof", "checkpoint"], json!({
            "index": int, "tree_size": int, "root": {"type": "string"}, "leaf_hash": {"type": "string"},
            "entry": {"type": "string"}, "inclusion_proof": hexes, "checkpoint": {"type": "string"}})),
        "ConsistencyProof": object(&["size1", "root1", "size2", "root2", "consistency_proof", "checkpoint"], json!({
            "size1": int, "root1": {"type": "string"}, "size2": int, "root2": {"type": "string"},
            "consistency_proof": hexes, "checkpoint": {"type": "string"}})),
        "BlueprintList": object(&["blueprints"], json!({"blueprints": {"type": "array", "items": object(
            &["blueprint_id", "latest_version", "latest_index", "vendor_keyid", "rotations"], json!({
                "blueprint_id": {"type": "string"}, "latest_version": int, "latest_index": int,
                "vendor_keyid": {"type": "string"}, "rotations": {"type": "array", "items": int}}))}})),
        "History": object(&["blueprint_id", "versions"], json!({"blueprint_id": {"type": "string"},
            "versions": {"type": "array", "items": {"type": "object", "description": "version, index, time, digest, bond, bond_state, status, reason, support_end, supersedes, superseded_by"}}})),
        "Escrow": object(&["blueprint_id", "versions"], json!({"blueprint_id": {"type": "string"},
            "versions": {"type": "array", "items": {"type": "object", "description": "version, index, digest, support_end, bond {amount, currency, state, decided_by}, reports"}}})),
        "EscrowList": object(&["blueprints"], json!({"blueprints": {"type": "array", "items": {"$ref": "#/components/schemas/Escrow"}}})),
        "Report": object(&["report_id", "blueprint_digest", "report"], json!({
            "report_id": {"type": "string"}, "blueprint_digest": {"type": "string"},
            "report": {"type": "object", "description": "index, time, blueprint_id, version, classes, verdict, signers, envelope, rebuttal, rebuttal_envelope, rebuttal_accepted_by, ruling"}})),
        "Filed": object(&["report_id", "index", "blueprint_id", "version", "classes", "verdict", "window_until"], json!({
            "report_id": {"type": "string"}, "index": int, "blueprint_id": {"type": "string"}, "version": int,
            "classes": {"type": "array", "items": {"type": "string"}}, "verdict": {"type": "string"}, "window_until": {"type": "string"}})),
        "Cosigned": object(&["index", "report_id", "signers", "quorum"], json!({"index": int, "report_id": {"type": "string"}, "signers": int, "quorum": int})),
        "Rebutted": object(&["index", "report_id"], json!({"index": int, "report_id": {"type": "string"}})),
        "Accepted": object(&["index", "report_id", "accepted_by", "quorum"], json!({"index": int, "report_id": {"type": "string"}, "accepted_by": int, "quorum": int})),
        "Ruled": object(&["index", "report_id", "outcome", "reason", "decided_by", "detail"], json!({
            "index": int, "report_id": {"type": "string"}, "outcome": {"type": "string", "enum": ["forfeit", "dismissed"]},
            "reason": {"type": "string"}, "decided_by": {"type": "string"}, "detail": {"type": "string"}})),
        "Released": object(&["index", "blueprint_id", "version"], json!({"index": int, "blueprint_id": {"type": "string"}, "version": int}))
    })
}

/// The document as committed in `docs/openapi.json`: pretty JSON and a
/// final newline.
pub fn document_text() -> String {
    let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
    s.push('\n');
    s
}

//! The served OpenAPI document: valid OpenAPI 3.1 by a well-kept validator,
//! the same as the reviewed snapshot `docs/openapi.json`, and truthful about
//! who is refused (401 without a token, 403 for a role a route refuses).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp};
use crate::on_both_databases;

on_both_databases!(
    #[needs(openapi_spec_validator)]
    openapi_document_passes_openapi_spec_validator,
    openapi_document_matches_the_snapshot,
    openapi_documents_every_refusal_of_a_token_or_a_role,
);

async fn served_document(app: &TestApp) -> Value {
    app.get("/api/openapi.json", None).await.expect(200)
}

/// Keys sorted at every level: the snapshot does not depend on the order a
/// map happens to keep.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut sorted = serde_json::Map::new();
            for key in keys {
                sorted.insert(key.clone(), canonical(&map[key]));
            }
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn pretty(doc: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&canonical(doc)).expect("JSON");
    text.push('\n');
    text
}

async fn openapi_document_passes_openapi_spec_validator(app: TestApp) {
    let doc = served_document(&app).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, pretty(&doc)).expect("the document is written");
    // built to run only where the validator is on PATH (or under CI, which
    // must have it): missing now, the test fails
    let out = Command::new("openapi-spec-validator")
        .arg(&file)
        .output()
        .expect("openapi-spec-validator runs: pip install openapi-spec-validator");
    assert!(
        out.status.success(),
        "the served OpenAPI document is invalid:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn snapshot_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json")
}

async fn openapi_document_matches_the_snapshot(app: TestApp) {
    let served = pretty(&served_document(&app).await);
    let path = snapshot_path();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        // Both engines' halves may write at once: write aside, then rename.
        let aside = path.with_extension(format!("json.{:?}", app.backend));
        std::fs::write(&aside, &served).expect("the snapshot is written");
        std::fs::rename(&aside, &path).expect("the snapshot is replaced");
        return;
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    if kept != served {
        let first_difference = kept
            .lines()
            .zip(served.lines())
            .enumerate()
            .find(|(_, (k, s))| k != s)
            .map(|(i, (k, s))| format!("line {}:\n  kept:   {k}\n  served: {s}", i + 1))
            .unwrap_or_else(|| "one is longer than the other".into());
        panic!(
            "the served OpenAPI document differs from docs/openapi.json ({first_difference}).\n\
             If the change to the API is meant, update the snapshot and review its diff:\n\
             \n    UPDATE_OPENAPI=1 cargo test openapi\n"
        );
    }
}

/// Every operation of the document, its method and a path with its
/// parameters filled with a record that does not exist.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let mut concrete = path.clone();
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "path" {
                    let name = parameter["name"].as_str().unwrap();
                    let placeholder = if parameter["schema"]["type"] == "integer" {
                        "0".to_owned()
                    } else {
                        uuid::Uuid::nil().to_string()
                    };
                    concrete = concrete.replace(&format!("{{{name}}}"), &placeholder);
                }
            }
            found.push((method.to_uppercase(), concrete, operation));
        }
    }
    // Signing out ends the token: last.
    found.sort_by_key(|(_, _, operation)| operation["operationId"] == "logout");
    found
}

async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>, body: bool) -> Answer {
    let mut request = app
        .client
        .request(method.parse().expect("a method"), app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if body {
        request = request.json(&json!({}));
    }
    app.send(request).await
}

async fn openapi_documents_every_refusal_of_a_token_or_a_role(app: TestApp) {
    let doc = served_document(&app).await;
    let admin = app.admin_token().await;
    let (_, lab) = app.staff("lab.refusals", "lab").await;
    let mut checked_403 = 0;
    for (method, path, operation) in operations(&doc) {
        let documented = |status: &str| operation["responses"][status].is_object();
        let has_body = operation["requestBody"].is_object();
        if operation["security"].is_null() {
            continue;
        }
        assert!(documented("401"), "{method} {path} does not document 401");
        let answer = call(&app, &method, &path, None, has_body).await;
        assert_eq!(answer.status, 401, "{method} {path} without a token");
        for (who, token) in [("the administrator", &admin), ("the lab", &lab)] {
            let answer = call(&app, &method, &path, Some(token), has_body).await;
            assert!(
                answer.status.as_u16() < 500,
                "{method} {path} as {who}: {:#}",
                answer.body
            );
            if answer.status == 403 {
                checked_403 += 1;
                assert!(
                    documented("403"),
                    "{method} {path} refuses {who} but does not document 403"
                );
            }
            assert!(
                documented(answer.status.as_str()),
                "{method} {path} as {who} answered {} which it does not document: {:#}",
                answer.status,
                answer.body
            );
        }
    }
    // The administrator is refused every product route, the lab every
    // account, quality, pharmacy and clinic route.
    assert!(checked_403 > 60, "only {checked_403} refusals were seen");
}

//! Health, readiness, the OpenAPI document, the docs page, and the error
//! body on everything that is not a happy request.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;

on_both_databases!(
    health_and_readiness_answer_without_a_token,
    the_openapi_document_describes_every_route,
    the_docs_page_is_served_from_the_binary,
    unknown_routes_and_wrong_methods_answer_with_the_error_body,
    malformed_requests_are_400_with_the_error_body,
    every_answer_carries_a_request_id_and_no_cache,
    sqlite_is_durable_and_checks_foreign_keys,
);

async fn health_and_readiness_answer_without_a_token(app: TestApp) {
    assert_eq!(
        app.get("/healthz", None).await.expect(200),
        json!({"status": "ok"})
    );
    assert_eq!(
        app.get("/readyz", None).await.expect(200),
        json!({"status": "ok"})
    );
}

async fn the_openapi_document_describes_every_route(app: TestApp) {
    let doc = app.get("/api/openapi.json", None).await.expect(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, method) in [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/users", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/users/me", "get"),
        ("/api/v1/users/me/password", "post"),
        ("/api/v1/users/{id}", "get"),
        ("/api/v1/users/{id}/deactivate", "post"),
        ("/api/v1/users/{id}/reactivate", "post"),
        ("/api/v1/donors", "post"),
        ("/api/v1/donors/{id}", "get"),
        ("/api/v1/donors/{id}/screening", "post"),
        ("/api/v1/donors/{id}/eligibility", "post"),
        ("/api/v1/donations", "post"),
        ("/api/v1/lots", "post"),
        ("/api/v1/lots/{id}", "get"),
        ("/api/v1/lots/{id}/qc", "post"),
        ("/api/v1/lots/{id}/freeze", "post"),
        ("/api/v1/lots/{id}/release", "post"),
        ("/api/v1/lots/{id}/reject", "post"),
        ("/api/v1/storage", "post"),
        ("/api/v1/storage/{id}", "get"),
        ("/api/v1/vials", "get"),
        ("/api/v1/vials/{id}", "get"),
        ("/api/v1/vials/{id}/store", "post"),
        ("/api/v1/vials/{id}/discard", "post"),
        ("/api/v1/scan", "post"),
        ("/api/v1/vials/{id}/label.png", "get"),
        ("/api/v1/vials/{id}/label.svg", "get"),
        ("/api/v1/vials/{id}/label.zpl", "get"),
        ("/api/v1/lots/{id}/labels.pdf", "get"),
        ("/api/v1/lots/{id}/label-issues", "post"),
        ("/api/v1/vials/{id}/label-issues", "post"),
        ("/api/v1/protocol", "get"),
        ("/api/v1/protocol", "put"),
        ("/api/v1/patients", "post"),
        ("/api/v1/patients", "get"),
        ("/api/v1/patients/{id}", "get"),
        ("/api/v1/patients/{id}/weights", "post"),
        ("/api/v1/patients/{id}/wristband.png", "get"),
        ("/api/v1/dose-calculations", "post"),
        ("/api/v1/doses", "post"),
        ("/api/v1/doses/{id}", "get"),
        ("/api/v1/doses/{id}/thaw", "post"),
        ("/api/v1/doses/{id}/verify", "post"),
        ("/api/v1/doses/{id}/cancel", "post"),
        ("/api/v1/doses/{id}/label.png", "get"),
        ("/api/v1/infusions", "post"),
        ("/api/v1/infusions/{id}/complete", "post"),
        ("/api/v1/patients/{id}/assessments", "post"),
        ("/api/v1/lots/{id}/recall", "post"),
        ("/api/v1/lots/{id}/outcomes", "get"),
        ("/api/v1/trace/lots/{id}", "get"),
        ("/api/v1/trace/patients/{id}", "get"),
        ("/api/v1/trace/donors/{id}", "get"),
        ("/api/v1/audit", "get"),
        ("/api/v1/audit/verify", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

async fn the_docs_page_is_served_from_the_binary(app: TestApp) {
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the docs page must not load from the internet"
    );
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let answer = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{asset}");
    }
    let initializer = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(initializer.contains("/api/openapi.json"));
}

async fn unknown_routes_and_wrong_methods_answer_with_the_error_body(app: TestApp) {
    app.get("/api/v1/no-such-thing", None)
        .await
        .expect_error(404, "not_found");
    app.get("/nowhere", None)
        .await
        .expect_error(404, "not_found");
    app.send(app.client.delete(app.url("/healthz")))
        .await
        .expect_error(405, "method_not_allowed");
    app.send(app.client.put(app.url("/api/v1/auth/login")))
        .await
        .expect_error(405, "method_not_allowed");
    let admin = app.admin_token().await;
    app.send(
        app.client
            .delete(app.url("/api/v1/users"))
            .bearer_auth(&admin),
    )
    .await
    .expect_error(405, "method_not_allowed");
}

async fn malformed_requests_are_400_with_the_error_body(app: TestApp) {
    let login = app.url("/api/v1/auth/login");
    // not JSON at all
    app.send(
        app.client
            .post(&login)
            .header("content-type", "application/json")
            .body("{username: admin"),
    )
    .await
    .expect_error(400, "malformed_request");
    // JSON without the content type
    app.send(
        app.client
            .post(&login)
            .body(r#"{"username":"admin","password":"x"}"#),
    )
    .await
    .expect_error(400, "malformed_request");
    // a missing field
    app.post("/api/v1/auth/login", None, json!({ "username": "admin" }))
        .await
        .expect_error(400, "malformed_request");
    // a field of the wrong type
    app.post(
        "/api/v1/auth/login",
        None,
        json!({ "username": 7, "password": "x" }),
    )
    .await
    .expect_error(400, "malformed_request");
    // an empty body
    app.send(
        app.client
            .post(&login)
            .header("content-type", "application/json"),
    )
    .await
    .expect_error(400, "malformed_request");

    let admin = app.admin_token().await;
    // a path parameter that is not a UUID
    app.get("/api/v1/users/not-a-uuid", Some(&admin))
        .await
        .expect_error(400, "malformed_request");
    // an unknown role
    app.post(
        "/api/v1/users",
        Some(&admin),
        json!({"username": "someone", "full_name": "Some One", "role": "surgeon", "password": "long-enough-pw"}),
    )
    .await
    .expect_error(400, "malformed_request");
    // an unknown field is refused, not ignored
    app.post(
        "/api/v1/users",
        Some(&admin),
        json!({"username": "someone", "full_name": "Some One", "role": "lab", "password": "long-enough-pw", "is_admin": true}),
    )
    .await
    .expect_error(400, "malformed_request");
    // a body far over the limit
    let huge = "x".repeat(3 * 1024 * 1024);
    app.post(
        "/api/v1/auth/login",
        None,
        json!({ "username": huge, "password": "x" }),
    )
    .await
    .expect_error(413, "payload_too_large");
}

async fn every_answer_carries_a_request_id_and_no_cache(app: TestApp) {
    let ok = app.get("/healthz", None).await;
    let refused = app.get("/api/v1/users/me", None).await;
    for answer in [&ok, &refused] {
        let id = answer.headers.get("x-request-id").expect("a request id");
        assert_eq!(id.len(), 36);
        assert_eq!(answer.headers.get("cache-control").unwrap(), "no-store");
        assert_eq!(
            answer.headers.get("x-content-type-options").unwrap(),
            "nosniff"
        );
    }
    assert_ne!(
        ok.headers.get("x-request-id"),
        refused.headers.get("x-request-id")
    );
}

async fn sqlite_is_durable_and_checks_foreign_keys(app: TestApp) {
    if app.backend != Backend::Sqlite {
        return;
    }
    let db = app.state.db.conn();
    let pragma = |name: &str| {
        let sql = format!("PRAGMA {name}");
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("synchronous").await, "2", "FULL");
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_eq!(pragma("busy_timeout").await, "10000");
}

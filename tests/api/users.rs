//! Accounts: creation, roles at the routes, signed deactivation.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use celltrail::entities::signature;
use celltrail::services::ledger;

use crate::helpers::{ADMIN_PASSWORD, STAFF_PASSWORD, TestApp, token_of};
use crate::on_both_databases;

on_both_databases!(
    an_admin_creates_accounts_of_every_role,
    every_admin_route_refuses_the_other_roles,
    account_creation_refuses_what_breaks_the_rules,
    deactivation_is_signed_bound_to_its_event_and_ends_sessions,
    a_wrong_signature_changes_nothing,
    signatures_need_a_meaning_and_the_signers_own_password,
    the_last_administrator_cannot_be_deactivated,
    deactivating_twice_is_a_conflict_and_reactivation_restores_access,
);

async fn an_admin_creates_accounts_of_every_role(app: TestApp) {
    let admin = app.admin_token().await;
    for role in ["lab", "pharmacist", "quality", "clinician", "admin"] {
        let username = format!("user.{role}");
        let created = app
            .post(
                "/api/v1/users",
                Some(&admin),
                json!({"username": username, "full_name": "Ana Pérez", "role": role, "password": STAFF_PASSWORD}),
            )
            .await
            .expect(201);
        assert_eq!(created["role"], role);
        assert_eq!(created["active"], true);
        assert!(created.get("password_hash").is_none());
        let token = token_of(app.login(&username, STAFF_PASSWORD).await);
        let me = app.get("/api/v1/users/me", Some(&token)).await.expect(200);
        assert_eq!(me["role"], role);
        assert_eq!(me["full_name"], "Ana Pérez");
    }
    let all = app.get("/api/v1/users", Some(&admin)).await.expect(200);
    assert_eq!(all.as_array().unwrap().len(), 6);
    let first = &all[0];
    let one = app
        .get(
            &format!("/api/v1/users/{}", first["id"].as_str().unwrap()),
            Some(&admin),
        )
        .await
        .expect(200);
    assert_eq!(&one, first);
    app.get(&format!("/api/v1/users/{}", Uuid::nil()), Some(&admin))
        .await
        .expect_error(404, "not_found");
}

async fn every_admin_route_refuses_the_other_roles(app: TestApp) {
    let admin = app.admin_token().await;
    let me = app.get("/api/v1/users/me", Some(&admin)).await.expect(200);
    let admin_id = me["id"].as_str().unwrap();
    for role in ["lab", "pharmacist", "quality", "clinician"] {
        let (_, token) = app.staff(&format!("staff.{role}"), role).await;
        let signed =
            json!({"reason": "test", "signature": TestApp::signature(STAFF_PASSWORD, "approval")});
        let refusals = [
            app.post(
                "/api/v1/users",
                Some(&token),
                json!({"username": "intruder", "full_name": "I", "role": "admin", "password": STAFF_PASSWORD}),
            )
            .await,
            app.get("/api/v1/users", Some(&token)).await,
            app.get(&format!("/api/v1/users/{admin_id}"), Some(&token)).await,
            app.post(&format!("/api/v1/users/{admin_id}/deactivate"), Some(&token), signed.clone())
                .await,
            app.post(&format!("/api/v1/users/{admin_id}/reactivate"), Some(&token), signed).await,
        ];
        for refusal in refusals {
            let details = refusal.expect_error(403, "forbidden");
            assert_eq!(details["role"], role);
            assert_eq!(details["required_roles"], json!(["admin"]));
        }
        // what everyone may do
        app.get("/api/v1/users/me", Some(&token)).await.expect(200);
    }
    // nothing was created or changed
    let all = app.get("/api/v1/users", Some(&admin)).await.expect(200);
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|u| u["username"] != "intruder")
    );
    assert!(all.as_array().unwrap().iter().all(|u| u["active"] == true));
    // and without a token, 401 before 403
    app.get("/api/v1/users", None)
        .await
        .expect_error(401, "unauthenticated");
}

async fn account_creation_refuses_what_breaks_the_rules(app: TestApp) {
    let admin = app.admin_token().await;
    let create = |username: &str, full_name: &str, password: &str| json!({"username": username, "full_name": full_name, "role": "lab", "password": password});
    app.post(
        "/api/v1/users",
        Some(&admin),
        create("tech.one", "Tech One", STAFF_PASSWORD),
    )
    .await
    .expect(201);
    let details = app
        .post(
            "/api/v1/users",
            Some(&admin),
            create("Tech.One", "Someone Else", STAFF_PASSWORD),
        )
        .await
        .expect_error(409, "username_taken");
    assert_eq!(details["username"], "tech.one");
    let details = app
        .post(
            "/api/v1/users",
            Some(&admin),
            create("tech.two", "Tech Two", "123456789"),
        )
        .await
        .expect_error(422, "weak_password");
    assert_eq!(details["min_chars"], 10);
    app.post(
        "/api/v1/users",
        Some(&admin),
        create("tech.two", "Tech Two", "tech.two"),
    )
    .await
    .expect_error(422, "weak_password");
    let details = app
        .post(
            "/api/v1/users",
            Some(&admin),
            create("t w o", "Tech Two", STAFF_PASSWORD),
        )
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(details["field"], "username");
    let details = app
        .post(
            "/api/v1/users",
            Some(&admin),
            create("tech.two", "  ", STAFF_PASSWORD),
        )
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(details["field"], "full_name");
    let all = app.get("/api/v1/users", Some(&admin)).await.expect(200);
    assert_eq!(all.as_array().unwrap().len(), 2);
}

async fn deactivation_is_signed_bound_to_its_event_and_ends_sessions(app: TestApp) {
    let admin = app.admin_token().await;
    let (lab_id, lab_token) = app.staff("leaving.tech", "lab").await;
    let user = app
        .post(
            &format!("/api/v1/users/{lab_id}/deactivate"),
            Some(&admin),
            json!({"reason": "left the unit", "signature": TestApp::signature(ADMIN_PASSWORD, "approval")}),
        )
        .await
        .expect(200);
    assert_eq!(user["active"], false);

    // their session ended and they cannot sign in again
    app.get("/api/v1/users/me", Some(&lab_token))
        .await
        .expect_error(401, "unauthenticated");
    app.login("leaving.tech", STAFF_PASSWORD)
        .await
        .expect_error(401, "account_deactivated");
    // a wrong password still reads as wrong, not as "deactivated"
    app.login("leaving.tech", "wrong-password")
        .await
        .expect_error(401, "invalid_credentials");

    // the event carries the signature's manifestation...
    let events = ledger::events_of(&app.state.db, "user", lab_id)
        .await
        .unwrap();
    let event = events.last().unwrap();
    assert_eq!(event.action, "user.deactivated");
    assert_eq!(event.actor_username, "admin");
    let details: serde_json::Value = serde_json::from_str(&event.details).unwrap();
    assert_eq!(details["reason"], "left the unit");
    assert_eq!(details["sessions_ended"], 1);
    assert_eq!(
        details["signature"],
        json!({"signer": "admin", "full_name": "Administrator", "meaning": "approval"})
    );
    // ...and the signature row is bound to that event
    let signatures = signature::Entity::find()
        .filter(signature::Column::SubjectId.eq(lab_id))
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(signatures.len(), 1);
    let sig = &signatures[0];
    assert_eq!(sig.event_seq, event.seq);
    assert_eq!(sig.event_hash, event.hash);
    assert_eq!(sig.signed_at, event.occurred_at);
    assert_eq!(sig.signer_full_name, "Administrator");
    assert_eq!(sig.meaning, "approval");
    assert_eq!(sig.action, "user.deactivated");

    assert!(ledger::verify(&app.state.db).await.unwrap().ok);
}

async fn a_wrong_signature_changes_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let (lab_id, lab_token) = app.staff("staying.tech", "lab").await;
    let before = ledger::verify(&app.state.db).await.unwrap();
    let details = app
        .post(
            &format!("/api/v1/users/{lab_id}/deactivate"),
            Some(&admin),
            json!({"reason": "mistake", "signature": TestApp::signature("not-my-password", "approval")}),
        )
        .await
        .expect_error(401, "signature_invalid");
    assert_eq!(details, json!({}));
    let user = app
        .get(&format!("/api/v1/users/{lab_id}"), Some(&admin))
        .await
        .expect(200);
    assert_eq!(user["active"], true);
    app.get("/api/v1/users/me", Some(&lab_token))
        .await
        .expect(200);
    let after = ledger::verify(&app.state.db).await.unwrap();
    assert_eq!(before, after, "nothing may be appended");
    let signatures = signature::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert!(signatures.is_empty());
    // the admin's own session is unharmed by one wrong signature
    app.get("/api/v1/users/me", Some(&admin)).await.expect(200);
}

async fn signatures_need_a_meaning_and_the_signers_own_password(app: TestApp) {
    let admin = app.admin_token().await;
    let (lab_id, _) = app.staff("some.tech", "lab").await;
    let (_, other_admin) = app.staff("second.admin", "admin").await;
    let path = format!("/api/v1/users/{lab_id}/deactivate");
    // no signature at all
    app.post(&path, Some(&admin), json!({"reason": "left"}))
        .await
        .expect_error(400, "malformed_request");
    // a blank meaning
    let details = app
        .post(
            &path,
            Some(&admin),
            json!({"reason": "left", "signature": TestApp::signature(ADMIN_PASSWORD, " ")}),
        )
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(details["field"], "signature.meaning");
    // a blank reason
    app.post(
        &path,
        Some(&admin),
        json!({"reason": "", "signature": TestApp::signature(ADMIN_PASSWORD, "approval")}),
    )
    .await
    .expect_error(422, "invalid_field");
    // someone else's password is not a signature
    app.post(
        &path,
        Some(&other_admin),
        json!({"reason": "left", "signature": TestApp::signature(ADMIN_PASSWORD, "approval")}),
    )
    .await
    .expect_error(401, "signature_invalid");
    // five wrong signatures in a row lock the signer and end the session
    // (whoever holds it does not know the password)
    for _ in 0..4 {
        app.post(&path, Some(&other_admin), json!({"reason": "left", "signature": TestApp::signature("wrong-password", "approval")}))
            .await
            .expect_error(401, "signature_invalid");
    }
    let details = app
        .post(
            &path,
            Some(&other_admin),
            json!({"reason": "left", "signature": TestApp::signature(STAFF_PASSWORD, "approval")}),
        )
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(details["reason"], "token_revoked");
    app.login("second.admin", STAFF_PASSWORD)
        .await
        .expect_error(401, "account_locked");
}

async fn the_last_administrator_cannot_be_deactivated(app: TestApp) {
    let admin = app.admin_token().await;
    let me = app.get("/api/v1/users/me", Some(&admin)).await.expect(200);
    let signed =
        json!({"reason": "test", "signature": TestApp::signature(ADMIN_PASSWORD, "approval")});
    app.post(
        &format!("/api/v1/users/{}/deactivate", me["id"].as_str().unwrap()),
        Some(&admin),
        signed.clone(),
    )
    .await
    .expect_error(422, "last_administrator");
    // with a second administrator it is allowed
    let (second, _) = app.staff("second.admin", "admin").await;
    app.post(
        &format!("/api/v1/users/{second}/deactivate"),
        Some(&admin),
        signed.clone(),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/users/{}/deactivate", me["id"].as_str().unwrap()),
        Some(&admin),
        signed,
    )
    .await
    .expect_error(422, "last_administrator");
}

async fn deactivating_twice_is_a_conflict_and_reactivation_restores_access(app: TestApp) {
    let admin = app.admin_token().await;
    let (id, _) = app.staff("returning.tech", "lab").await;
    let signed = json!({"reason": "leave of absence", "signature": TestApp::signature(ADMIN_PASSWORD, "approval")});
    app.post(
        &format!("/api/v1/users/{id}/deactivate"),
        Some(&admin),
        signed.clone(),
    )
    .await
    .expect(200);
    let details = app
        .post(
            &format!("/api/v1/users/{id}/deactivate"),
            Some(&admin),
            signed.clone(),
        )
        .await
        .expect_error(409, "account_already_in_state");
    assert_eq!(details["active"], false);
    app.post(
        &format!("/api/v1/users/{id}/reactivate"),
        Some(&admin),
        signed.clone(),
    )
    .await
    .expect(200);
    token_of(app.login("returning.tech", STAFF_PASSWORD).await);
    app.post(
        &format!("/api/v1/users/{id}/reactivate"),
        Some(&admin),
        signed.clone(),
    )
    .await
    .expect_error(409, "account_already_in_state");
    app.post(
        &format!("/api/v1/users/{}/deactivate", Uuid::nil()),
        Some(&admin),
        signed,
    )
    .await
    .expect_error(404, "not_found");
    let events = ledger::events_of(&app.state.db, "user", id).await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["user.created", "user.deactivated", "user.reactivated"]
    );
}

//! The custody ledger over HTTP and the command line: history, verification
//! (quality only), a hundred concurrent state changes, tampering.

use futures::future::join_all;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::id;

on_both_databases!(
    a_hundred_concurrent_state_changes_leave_an_intact_chain,
    verification_is_for_quality_and_names_the_first_broken_link,
    the_history_of_a_subject_reads_oldest_first,
);

async fn a_hundred_concurrent_state_changes_leave_an_intact_chain(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.released_lot(&team, "UCD-3000", 100).await;
    let the_box = app.storage_box(&team, "1", 10, 10).await;
    let box_id = id(&the_box);
    let before = app.verify_ledger(&team).await;
    let stores = vials.iter().enumerate().map(|(i, vial)| {
        let position = format!("{}{}", char::from(b'A' + (i / 10) as u8), i % 10 + 1);
        let (app, team, box_id) = (&app, &team, &box_id);
        async move {
            app.store(team, &id(vial), box_id, &position)
                .await
                .expect(200)
        }
    });
    join_all(stores).await;
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["events"], before["events"].as_u64().unwrap() + 100);
    assert_eq!(report["first_bad_seq"], json!(null));
    let contents = app
        .get(&format!("/api/v1/storage/{box_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(contents["free_positions"], 0);
    // and the command line agrees
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_celltrail"))
        .arg("verify-audit")
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(cli["head_hash"], report["head_hash"]);
}

async fn verification_is_for_quality_and_names_the_first_broken_link(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.quarantined_lot(&team, "UCD-3100", 3).await;
    app.get("/api/v1/audit/verify", Some(&team.lab))
        .await
        .expect_error(403, "forbidden");
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true);
    assert_eq!(report["head_hash"].as_str().unwrap().len(), 64);

    // someone edits the freeze event behind the service's back
    let events = app
        .get(
            &format!("/api/v1/audit?subject_kind=lot&subject_id={}", id(&lot)),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let frozen = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "lot.frozen")
        .unwrap()
        .clone();
    let seq = frozen["seq"].as_i64().unwrap();
    let db = app.state.db.conn();
    app.tamper();
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!("UPDATE custody_events SET details = replace(details, '\"vial_count\":3', '\"vial_count\":2') WHERE seq = {seq}"),
    ))
    .await
    .unwrap();
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad_seq"], seq);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_celltrail"))
        .arg("verify-audit")
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(!output.status.success(), "a broken chain fails the command");
    let cli: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(cli["first_bad_seq"], seq);

    // put it back: the chain is whole again
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!("UPDATE custody_events SET details = replace(details, '\"vial_count\":2', '\"vial_count\":3') WHERE seq = {seq}"),
    ))
    .await
    .unwrap();
    assert_eq!(app.verify_ledger(&team).await["ok"], true);

    // a deleted event leaves a gap, found where it was
    let deleted = seq + 2; // a vial.frozen event
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!("DELETE FROM custody_events WHERE seq = {deleted}"),
    ))
    .await
    .unwrap();
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad_seq"], deleted);
}

async fn the_history_of_a_subject_reads_oldest_first(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.released_lot(&team, "UCD-3200", 1).await;
    let events = app
        .get(
            &format!("/api/v1/audit?subject_kind=lot&subject_id={}", id(&lot)),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let events = events.as_array().unwrap();
    let actions: Vec<_> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "lot.created");
    assert_eq!(
        actions.iter().filter(|a| **a == "lot.qc_recorded").count(),
        12
    );
    assert_eq!(
        &actions[actions.len() - 2..],
        ["lot.frozen", "lot.released"]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    for event in events {
        assert_eq!(event["subject_id"], lot["id"]);
        assert_eq!(event["hash"].as_str().unwrap().len(), 64);
    }
    // paging through everything
    let page = app
        .get("/api/v1/audit?after_seq=2&limit=3", Some(&team.lab))
        .await
        .expect(200);
    let seqs: Vec<i64> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [3, 4, 5]);
    app.get("/api/v1/audit?subject_id=not-a-uuid", Some(&team.lab))
        .await
        .expect_error(400, "malformed_request");
    app.get("/api/v1/audit", None)
        .await
        .expect_error(401, "unauthenticated");
}

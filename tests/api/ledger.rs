//! The custody ledger under concurrent writers, and tampering.

use futures::future::join_all;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use celltrail::services::ledger;

use crate::helpers::{STAFF_PASSWORD, TestApp};
use crate::on_both_databases;

on_both_databases!(
    concurrent_writers_never_fork_the_chain,
    an_event_edited_behind_the_services_back_is_found,
    events_moved_far_ahead_are_still_read_and_named,
);

async fn concurrent_writers_never_fork_the_chain(app: TestApp) {
    let admin = app.admin_token().await;
    let creations = (0..24).map(|i| {
        let (app, admin) = (&app, &admin);
        async move {
            app.post(
                "/api/v1/users",
                Some(admin),
                json!({"username": format!("tech{i:02}"), "full_name": "Tech", "role": "lab", "password": STAFF_PASSWORD}),
            )
            .await
            .expect(201)
        }
    });
    join_all(creations).await;
    let report = ledger::verify(&app.state.db).await.unwrap();
    assert!(report.ok, "{report:?}");
    // the seeded protocol, the default site, the bootstrap administrator,
    // and 24
    assert_eq!(report.events, 27);
}

async fn an_event_edited_behind_the_services_back_is_found(app: TestApp) {
    for i in 0..3 {
        app.staff(&format!("tech{i}"), "lab").await;
    }
    let report = ledger::verify(&app.state.db).await.unwrap();
    assert!(report.ok);
    // the seeded protocol, the default site, the bootstrap administrator,
    // and 3
    assert_eq!(report.events, 6);
    let db = app.state.db.conn();
    let backend = db.get_database_backend();
    app.tamper();
    db.execute_raw(Statement::from_string(
        backend,
        "UPDATE custody_events SET details = replace(details, 'lab', 'admin') WHERE seq = 4",
    ))
    .await
    .unwrap();
    let report = ledger::verify(&app.state.db).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_seq, Some(4));
}

async fn events_moved_far_ahead_are_still_read_and_named(app: TestApp) {
    for i in 0..4 {
        app.staff(&format!("tech{i}"), "lab").await;
    }
    // the last two events renumbered a long way on: verification reads in
    // ranges of numbers, and must neither stop at the gap nor skip them
    let db = app.state.db.conn();
    app.tamper();
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "UPDATE custody_events SET seq = seq + 1000000 WHERE seq >= 5",
    ))
    .await
    .unwrap();
    let report = ledger::verify_with(&app.state.db, None).await.unwrap();
    assert!(!report.ok);
    // a gap is named at its first missing number
    assert_eq!(report.first_bad_seq, Some(5));
    // with the checkpoints judged, every event is read, the moved ones too
    let judge = celltrail::domain::checkpoint::CheckpointJudge::new(None, Vec::new());
    let report = ledger::verify_with(&app.state.db, Some(judge))
        .await
        .unwrap();
    assert_eq!(report.last_seq, 1_000_007, "{report:?}");
    assert_eq!(report.first_bad_seq, Some(5));
}

//! What an operation costs the database, counted: the statements each
//! write transaction runs between its BEGIN and COMMIT, recorded by
//! `Db::trace_writes` (every statement of a write goes through its
//! transaction). The request path's goals (issue 13) are in round trips,
//! because on SQLite each statement is a hand-off to the driver's thread
//! and on PostgreSQL a trip over the network.

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::id;

on_both_databases!(
    a_dose_order_is_at_most_six_statements,
    a_vial_move_is_two_statements,
);

/// The one write transaction `work` commits, statement by statement.
async fn traced<F: Future>(app: &TestApp, work: F) -> (F::Output, Vec<String>) {
    app.state.db.traced_writes();
    app.state.db.trace_writes(true);
    let output = work.await;
    app.state.db.trace_writes(false);
    let mut writes = app.state.db.traced_writes();
    assert_eq!(writes.len(), 1, "one write transaction: {writes:#?}");
    (output, writes.remove(0))
}

async fn a_dose_order_is_at_most_six_statements(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    // stock in two lots: the order takes the first-expiring
    app.dosing_stock(&team, "UCD-S100", 6, 300).await;
    let (sooner, _) = app.dosing_stock(&team, "UCD-S101", 4, 100).await;
    let first = app.weighed_patient(&clinic, "PV-S01", 40).await;
    let second = app.weighed_patient(&clinic, "PV-S02", 40).await;
    // the first order after start reads the protocol and the ledger head
    app.order(&clinic, &id(&first)).await.expect(201);
    let (answer, statements) = traced(&app, app.order(&clinic, &id(&second))).await;
    println!(
        "{} statements:\n{}",
        statements.len(),
        statements.join("\n")
    );
    let dose = answer.expect(201);
    assert_eq!(dose["lot_id"], sooner["id"]);
    assert_eq!(dose["vials_needed"], 2);
    assert!(
        statements.len() <= 6,
        "a dose order is at most six statements: {statements:#?}"
    );
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn a_vial_move_is_two_statements(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.released_lot(&team, "UCD-S200", 1).await;
    let the_box = app.storage_box(&team, "S", 9, 9).await;
    let vial = id(&vials[0]);
    app.store(&team, &vial, &id(&the_box), "A1")
        .await
        .expect(200);
    let (answer, statements) = traced(&app, app.store(&team, &vial, &id(&the_box), "B2")).await;
    answer.expect(200);
    // the move (one UPDATE that returns where the vial was) and its event
    assert_eq!(statements.len(), 2, "{statements:#?}");
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

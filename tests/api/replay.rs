//! The state replayed from the ledger, held against the tables: rows
//! edited behind the service's back are named, each with what the table
//! says and what the ledger says, through the API and `verify-audit`.
//!
//! (Every other test checks the other half as it ends: whatever it did
//! through the service replays to exactly its tables; see `helpers`.)

use serde_json::{Value, json};

use crate::clinic::signature;
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{id, rfc3339};

on_both_databases!(
    rows_edited_behind_the_service_are_named,
    a_row_no_event_made_and_a_row_removed_are_named,
);

/// A trial in small: a released lot of four vials stored in a box, a patient
/// weighed twice (the second voided under signature), one dose prepared,
/// verified under signature and infused.
async fn small_trial(app: &TestApp) -> Trial {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, vials) = app.dosing_stock(&team, "UCD-R001", 8, 300).await;
    let the_box = app.storage_box(&team, "RB1", 9, 9).await;
    for (n, vial) in vials.iter().enumerate() {
        app.store(&team, &id(vial), &id(&the_box), &format!("A{}", n + 1))
            .await
            .expect(200);
    }
    let patient = app.weighed_patient(&clinic, "P-R01", 70).await;
    let slip = app
        .weigh(&clinic, &id(&patient), json!(71), "kg", 0)
        .await
        .expect(201);
    app.post(
        &format!(
            "/api/v1/patients/{}/weights/{}/void",
            id(&patient),
            id(&slip)
        ),
        Some(&clinic.clinician),
        json!({ "reason": "weighed in shoes", "signature": signature("weight voided") }),
    )
    .await
    .expect(200);
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let infusion = app.infuse(&clinic, &patient, &dose).await;
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["replay"]["differences"], 0, "{report:#}");
    assert!(
        report["replay"]["rows_compared"].as_u64().unwrap() > 20,
        "{report:#}"
    );
    Trial {
        quality: team.quality.clone(),
        lot,
        vials,
        slip,
        dose,
        infusion,
    }
}

struct Trial {
    quality: String,
    lot: Value,
    vials: Vec<Value>,
    slip: Value,
    dose: Value,
    infusion: Value,
}

impl TestApp {
    async fn problems(&self, quality: &str) -> (Value, Vec<String>) {
        let report = self
            .get("/api/v1/audit/verify", Some(quality))
            .await
            .expect(200);
        let problems = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        (report, problems)
    }

    /// A uuid as a SQL literal of this database (SQLite keeps them as blobs).
    fn literal(&self, uuid: &str) -> String {
        match self.backend {
            crate::helpers::Backend::Sqlite => {
                format!("X'{}'", uuid.replace('-', ""))
            }
            crate::helpers::Backend::Postgres => format!("'{uuid}'"),
        }
    }

    async fn scalar(&self, sql: &str) -> String {
        use sea_orm::ConnectionTrait;
        let db = self.state.db.conn();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        self.literal(&row.try_get_by_index::<uuid::Uuid>(0).unwrap().to_string())
    }
}

#[track_caller]
fn named(problems: &[String], expected: &str) {
    assert!(
        problems.iter().any(|p| p.contains(expected)),
        "no problem says {expected:?}:\n{}",
        problems.join("\n")
    );
}

async fn rows_edited_behind_the_service_are_named(app: TestApp) {
    let trial = small_trial(&app).await;
    let dose_vials: Vec<String> = trial.dose["vials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    let infused = app.literal(&dose_vials[0]);
    let infused_code = trial.dose["vials"][0]["code"].as_str().unwrap();
    let stored = trial
        .vials
        .iter()
        .find(|v| !dose_vials.contains(&id(v)))
        .unwrap();
    let lot_code = trial.lot["code"].as_str().unwrap();
    let verification = app
        .scalar(&format!(
            "SELECT id FROM signatures WHERE action = 'dose.verified' AND subject_id = {}",
            app.literal(&id(&trial.dose))
        ))
        .await;
    let void = app
        .scalar("SELECT id FROM signatures WHERE action = 'patient.weight_voided'")
        .await;
    let qc = app
        .scalar(&format!(
            "SELECT id FROM qc_results WHERE lot_id = {} AND test = 'viability'",
            app.literal(&id(&trial.lot))
        ))
        .await;

    // an infused vial back in stock, a stored vial moved, a lot set back
    // to quarantine
    app.sql(format!(
        "UPDATE vials SET status = 'available' WHERE id = {infused}"
    ))
    .await;
    app.sql(format!(
        "UPDATE vials SET position = 'I9' WHERE id = {}",
        app.literal(&id(stored))
    ))
    .await;
    app.sql(format!(
        "UPDATE lots SET status = 'quarantine' WHERE id = {}",
        app.literal(&id(&trial.lot))
    ))
    .await;
    // the infusion started an hour earlier and ran 1 µL more
    app.sql(format!(
        "UPDATE infusions SET started_at = '2026-01-01T00:00:00+00:00', volume_infused_ul = volume_infused_ul + 1 WHERE id = {}",
        app.literal(&id(&trial.infusion))
    ))
    .await;
    // the verification signed by someone else, the void's meaning changed
    app.sql(format!(
        "UPDATE signatures SET signer_username = 'quality.one' WHERE id = {verification}"
    ))
    .await;
    app.sql(format!(
        "UPDATE signatures SET meaning = 'approved' WHERE id = {void}"
    ))
    .await;
    // the voided weight counted again; a QC value changed
    app.sql(format!(
        "UPDATE weights SET voided_at = NULL WHERE id = {}",
        app.literal(&id(&trial.slip))
    ))
    .await;
    app.sql(format!(
        "UPDATE qc_results SET value = '99.5' WHERE id = {qc}"
    ))
    .await;
    // a vial taken out of the dose's record
    app.sql(format!(
        "UPDATE dose_vials SET removed_at = '2026-01-01T00:00:00+00:00' WHERE vial_id = {infused}"
    ))
    .await;

    let (report, problems) = app.problems(&trial.quality).await;
    assert_eq!(report["ok"], false, "{report:#}");
    // the chain itself is intact: only the tables were edited
    assert_eq!(report["first_bad_seq"], Value::Null, "{report:#}");
    named(
        &problems,
        &format!("vial {infused_code}: table says available, ledger says infused"),
    );
    named(
        &problems,
        &format!(
            "vial {}: table says box Box 1 position I9, ledger says box Box 1 position A",
            stored["code"].as_str().unwrap()
        ),
    );
    named(
        &problems,
        &format!("lot {lot_code}: table says quarantine, ledger says released"),
    );
    named(
        &problems,
        "P-R01 infusion 1: table says started 2026-01-01T00:00:00.000000Z, ledger says started",
    );
    let volume = trial.dose["volume_ul"].as_i64().unwrap();
    named(
        &problems,
        &format!(
            "P-R01 infusion 1: table says {} µL infused, ledger says {volume} µL infused",
            volume + 1
        ),
    );
    named(&problems, "table says signed by quality.one");
    named(&problems, "meaning \"approved\"");
    named(
        &problems,
        "weight of P-R01: table says not voided, ledger says voided",
    );
    named(
        &problems,
        &format!("viability of lot {lot_code}: table says viability 99.5"),
    );
    named(
        &problems,
        &format!(
            "dose P-R01 {}: table says",
            trial.dose["code"].as_str().unwrap()
        ),
    );
    assert_eq!(report["replay"]["differences"], 10, "{report:#}");
    assert_eq!(
        report["alarm"],
        Value::Null,
        "replay differences are not a cut tail"
    );

    // the quality home page lists them, in words
    let cookie = crate::web::sign_in(&app, "qa.officer").await;
    let (_, home) = crate::web::page(&app, "/", &cookie).await;
    assert!(
        home.contains(&format!(
            "vial {infused_code}: table says available, ledger says infused"
        )),
        "{home}"
    );

    // the auditor's command names them too, and fails
    let output = app.cli().arg("verify-audit").output().unwrap();
    assert!(!output.status.success());
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains(&format!(
            "vial {infused_code}: table says available, ledger says infused"
        )),
        "{printed}"
    );
    let _ = rfc3339;
}

async fn a_row_no_event_made_and_a_row_removed_are_named(app: TestApp) {
    let trial = small_trial(&app).await;
    // a storage unit inserted by hand, an adverse-event-free infusion's
    // volume left alone; a screening result deleted
    app.sql(
        format!("INSERT INTO storage_units (id, name, kind, parent_id, rows, cols, created_at) VALUES ({}, 'GHOST', 'tank', NULL, NULL, NULL, '2026-01-01T00:00:00+00:00')", app.literal("018f0000-0000-7000-8000-000000000001")),
    )
    .await;
    let screening = app.scalar("SELECT id FROM screening_results LIMIT 1").await;
    app.sql(format!(
        "DELETE FROM screening_results WHERE id = {screening}"
    ))
    .await;
    let (report, problems) = app.problems(&trial.quality).await;
    assert_eq!(report["ok"], false, "{report:#}");
    named(
        &problems,
        "storage unit GHOST: table says tank GHOST, ledger says absent (no event made it)",
    );
    named(
        &problems,
        "of donor UCD-R001: table says absent, ledger says it exists",
    );
    assert_eq!(report["replay"]["differences"], 2, "{report:#}");
}

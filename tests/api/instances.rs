//! Two instances on one PostgreSQL database, as behind a load balancer:
//! this test's own app (instance A) and the real binary (instance B), with
//! the same ledger key (copied to each host) and a checkpoint log each
//! (each host keeps its own). They race for the same vials, patients and
//! positions; every contest has one winner, and the losers get 409 or 422.
//! Both sign checkpoints of the one shared chain without either refusing
//! writes, and the chain verifies against either log.
//!
//! PostgreSQL only: a SQLite database is one process's file (its writers
//! queue on a lock inside that process), so there is no second instance to
//! race.

use futures::future::join_all;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::clinic::Clinic;
use crate::helpers::TestApp;
use crate::on_postgresql;
use crate::processes::{Client, Reply, ServerProcess, verify_audit_passes};
use crate::story::{Team, id};

on_postgresql!(two_instances_race_for_the_same_vials_patients_and_positions);

async fn two_instances_race_for_the_same_vials_patients_and_positions(app: TestApp) {
    let b_files = tempfile::tempdir().unwrap();
    let mut b = ServerProcess::start(
        &app.database_url,
        &app.files.path().join("celltrail-ledger.key"),
        &b_files.path().join("checkpoints"),
        &b_files.path().join("serve.log"),
    );
    let race = Race {
        app: &app,
        a: app.base.clone(),
        b: b.base.clone(),
        client: Client::new(),
    };
    let team = app.team().await;
    let clinic = app.clinic().await;

    race.one_dose_of_stock_goes_to_one_patient(&team, &clinic)
        .await;
    race.one_patient_gets_one_dose_at_a_time(&team, &clinic)
        .await;
    race.one_vial_per_position(&team).await;
    race.both_sign_checkpoints_and_neither_refuses_writes(&team)
        .await;

    // B stopped (it signs at shutdown) and started again on its own log
    b.stop();
    let b = ServerProcess::start(
        &app.database_url,
        &app.files.path().join("celltrail-ledger.key"),
        &b_files.path().join("checkpoints"),
        &b_files.path().join("serve.log"),
    );
    let race = Race {
        b: b.base.clone(),
        ..race
    };
    race.both_sign_checkpoints_and_neither_refuses_writes(&team)
        .await;

    assert_eq!(b.errors(), Vec::<String>::new(), "instance B logged errors");

    // no vial in two open doses, no position holding two vials
    for (sql, what) in [
        (
            "SELECT dv.vial_id FROM dose_vials dv JOIN doses d ON d.id = dv.dose_id \
             WHERE dv.removed_at IS NULL AND d.status <> 'cancelled' \
             GROUP BY dv.vial_id HAVING COUNT(*) > 1",
            "a vial reserved twice",
        ),
        (
            "SELECT box_id FROM vials WHERE box_id IS NOT NULL \
             GROUP BY box_id, position HAVING COUNT(*) > 1",
            "a position holding two vials",
        ),
    ] {
        let db = app.state.db.conn();
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .unwrap();
        assert!(rows.is_empty(), "{what}");
    }

    // the ledger verifies on both, and against either log with the one key
    for base in [&race.a, &race.b] {
        let (status, report) = race.get(base, "/api/v1/audit/verify", &team.quality).await;
        assert_eq!(status, 200);
        assert_eq!(report["ok"], true, "{report}");
        assert!(report["alarm"].is_null(), "{report}");
        assert!(report["checkpoints"]["checked"].as_u64().unwrap() >= 2);
    }
    let a_log = app.files.path().join("checkpoints/checkpoints.jsonl");
    let b_log = b_files.path().join("checkpoints/checkpoints.jsonl");
    let both = b_files.path().join("both.jsonl");
    std::fs::write(
        &both,
        std::fs::read_to_string(&a_log).unwrap() + &std::fs::read_to_string(&b_log).unwrap(),
    )
    .unwrap();
    for log in [&a_log, &b_log, &both] {
        verify_audit_passes(app.cli(), &["--checkpoints".as_ref(), log.as_os_str()]);
    }
}

struct Race<'a> {
    app: &'a TestApp,
    /// Instance A (in this process) and B (the binary).
    a: String,
    b: String,
    client: Client,
}

impl Race<'_> {
    /// Instance A for even calls, B for odd ones.
    fn instance(&self, n: usize) -> &str {
        if n.is_multiple_of(2) {
            &self.a
        } else {
            &self.b
        }
    }

    async fn post(&self, base: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
        let reply: Reply = self.client.post(base, path, token, body).await;
        reply.expect("both instances answer")
    }

    async fn get(&self, base: &str, path: &str, token: &str) -> (u16, Value) {
        let reply: Reply = self.client.get(base, path, token).await;
        reply.expect("both instances answer")
    }

    /// Stock for one 40 kg patient (two vials); six patients order at
    /// once, three at each instance: one dose, five told there is no stock.
    async fn one_dose_of_stock_goes_to_one_patient(&self, team: &Team, clinic: &Clinic) {
        let (lot, _) = self.app.dosing_stock(team, "UCD-R100", 2, 300).await;
        let mut patients = Vec::new();
        for n in 0..6 {
            patients.push(id(&self
                .app
                .weighed_patient(clinic, &format!("PV-R1{n}"), 40)
                .await));
        }
        let answers = join_all(patients.iter().enumerate().map(|(n, patient)| {
            self.post(
                self.instance(n),
                "/api/v1/doses",
                &clinic.pharmacist,
                json!({ "patient_id": patient }),
            )
        }))
        .await;
        let won: Vec<&Value> = answers
            .iter()
            .filter(|(status, _)| *status == 201)
            .map(|(_, body)| body)
            .collect();
        assert_eq!(won.len(), 1, "{answers:?}");
        for (status, body) in answers.iter().filter(|(status, _)| *status != 201) {
            assert_eq!(*status, 422, "{body}");
            assert_eq!(body["error"]["code"], "insufficient_stock", "{body}");
        }
        let vials = won[0]["vial_ids"].as_array().unwrap();
        assert_eq!(vials.len(), 2);
        assert_ne!(vials[0], vials[1]);
        let (_, stock) = self
            .get(
                &self.b,
                &format!("/api/v1/vials?lot_id={}&status=reserved", id(&lot)),
                &team.lab,
            )
            .await;
        assert_eq!(stock["items"].as_array().unwrap().len(), 2, "{stock}");
    }

    /// Enough stock for all; each of three patients is ordered for at both
    /// instances at once: one dose each, the other order 409.
    async fn one_patient_gets_one_dose_at_a_time(&self, team: &Team, clinic: &Clinic) {
        self.app.dosing_stock(team, "UCD-R200", 12, 300).await;
        let mut patients = Vec::new();
        for n in 0..3 {
            patients.push(id(&self
                .app
                .weighed_patient(clinic, &format!("PV-R2{n}"), 40)
                .await));
        }
        let orders = patients
            .iter()
            .flat_map(|p| [(p, &self.a), (p, &self.b)])
            .map(|(patient, base)| async move {
                let answer = self
                    .post(
                        base,
                        "/api/v1/doses",
                        &clinic.pharmacist,
                        json!({ "patient_id": patient }),
                    )
                    .await;
                (patient.clone(), answer)
            });
        let answers = join_all(orders).await;
        let mut reserved = Vec::new();
        for patient in &patients {
            let theirs: Vec<_> = answers.iter().filter(|(p, _)| p == patient).collect();
            let won: Vec<_> = theirs.iter().filter(|(_, (s, _))| *s == 201).collect();
            assert_eq!(won.len(), 1, "{theirs:?}");
            let lost = theirs.iter().find(|(_, (s, _))| *s != 201).unwrap();
            assert_eq!(lost.1.0, 409, "{:?}", lost.1.1);
            assert_eq!(lost.1.1["error"]["code"], "dose_in_progress");
            assert_eq!(lost.1.1["error"]["details"]["code"], won[0].1.1["code"]);
            reserved.extend(won[0].1.1["vial_ids"].as_array().unwrap().clone());
        }
        let count = reserved.len();
        reserved.sort_by_key(ToString::to_string);
        reserved.dedup();
        assert_eq!((count, reserved.len()), (6, 6), "no vial in two doses");
    }

    /// Four vials sent to one position at once, two through each instance:
    /// one is stored, three told the position is occupied. One vial sent to
    /// two positions at once ends in one of them, and its history says how
    /// it got there.
    async fn one_vial_per_position(&self, team: &Team) {
        let (_, vials) = self.app.quarantined_lot(team, "UCD-R300", 5).await;
        let box_unit = self.app.storage_box(team, "R3", 4, 4).await;
        let box_id = id(&box_unit);
        let answers = join_all(vials[..4].iter().enumerate().map(|(n, vial)| {
            let path = format!("/api/v1/vials/{}/store", id(vial));
            let body = json!({ "box_id": box_id, "position": "A1" });
            async move { self.post(self.instance(n), &path, &team.lab, body).await }
        }))
        .await;
        assert_eq!(
            answers.iter().filter(|(s, _)| *s == 200).count(),
            1,
            "{answers:?}"
        );
        for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
            assert_eq!(*status, 409, "{body}");
            assert_eq!(body["error"]["code"], "position_occupied", "{body}");
        }
        let (_, contents) = self
            .get(&self.a, &format!("/api/v1/storage/{box_id}"), &team.lab)
            .await;
        assert_eq!(contents["occupied"].as_array().unwrap().len(), 1);

        let vial = id(&vials[4]);
        let answers = join_all(["B1", "B2"].iter().enumerate().map(|(n, position)| {
            let path = format!("/api/v1/vials/{vial}/store");
            let body = json!({ "box_id": box_id, "position": position });
            async move { self.post(self.instance(n), &path, &team.lab, body).await }
        }))
        .await;
        assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
        let (_, now) = self
            .get(&self.b, &format!("/api/v1/vials/{vial}"), &team.lab)
            .await;
        let held = now["location"]["position"].as_str().unwrap().to_owned();
        let (_, history) = self
            .get(
                &self.a,
                &format!("/api/v1/audit?subject_kind=vial&subject_id={vial}"),
                &team.quality,
            )
            .await;
        let moves: Vec<&Value> = history
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "vial.stored" || e["action"] == "vial.moved")
            .collect();
        assert_eq!(moves.len(), 2, "{history:#}");
        assert_eq!(moves[0]["action"], "vial.stored");
        assert_eq!(moves[1]["action"], "vial.moved");
        assert_eq!(
            moves[1]["details"]["from_position"],
            moves[0]["details"]["position"]
        );
        assert_eq!(moves[1]["details"]["position"], held.as_str());
    }

    /// Checkpoints asked of both instances while both write: every write
    /// is taken, every checkpoint signed.
    async fn both_sign_checkpoints_and_neither_refuses_writes(&self, team: &Team) {
        let salt = uuid::Uuid::new_v4().simple().to_string();
        let calls = (0..12).map(|n| {
            let salt = &salt;
            async move {
                let base = self.instance(n);
                if n.is_multiple_of(3) {
                    self.post(base, "/api/v1/audit/checkpoints", &team.quality, json!({}))
                        .await
                } else {
                    self.post(
                        base,
                        "/api/v1/storage",
                        &team.lab,
                        json!({ "name": format!("Tank {salt} {n}"), "kind": "tank" }),
                    )
                    .await
                }
            }
        });
        for (status, body) in join_all(calls).await {
            assert!(matches!(status, 200 | 201), "{status}: {body}");
        }
        // the same head asked of both, one after the other: B does not know
        // A signed it, signs it too, and the database keeps one row
        let (status, at_a) = self
            .post(
                &self.a,
                "/api/v1/audit/checkpoints",
                &team.quality,
                json!({}),
            )
            .await;
        assert!(matches!(status, 200 | 201), "{status}: {at_a}");
        let (status, at_b) = self
            .post(
                &self.b,
                "/api/v1/audit/checkpoints",
                &team.quality,
                json!({}),
            )
            .await;
        assert!(matches!(status, 200 | 201), "{status}: {at_b}");
        assert_eq!(at_a["seq"], at_b["seq"]);
        // and one more of each after the checkpoints
        for n in 0..2 {
            let (status, body) = self
                .post(
                    self.instance(n),
                    "/api/v1/storage",
                    &team.lab,
                    json!({ "name": format!("Tank {salt} after {n}"), "kind": "tank" }),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
    }
}

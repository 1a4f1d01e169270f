//! The lab's common story, so each test states only what it is about: a
//! team, an eligible donor with a donation, a lot that passes QC, frozen
//! vials, a released lot, a box to put vials in.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{Answer, STAFF_PASSWORD, TestApp};

pub const QC_PASSING: [(&str, &str, Option<&str>); 12] = [
    ("sterility", "negative", None),
    ("mycoplasma", "negative", None),
    ("endotoxin", "0.1", Some("EU/mL")),
    ("viability", "92.5", Some("%")),
    ("cd73", "99.1", Some("%")),
    ("cd90", "98.7", Some("%")),
    ("cd105", "97.2", Some("%")),
    ("cd34", "0.4", Some("%")),
    ("cd45", "0.3", Some("%")),
    ("cd14", "0.2", Some("%")),
    ("cd19", "0.1", Some("%")),
    ("hla_dr", "0.5", Some("%")),
];

pub const REQUIRED_SCREENING: [&str; 5] = ["hiv", "hbv", "hcv", "syphilis", "htlv"];

/// Tokens of a lab technician and a quality officer.
pub struct Team {
    pub lab: String,
    pub quality: String,
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

pub fn signed(extra: Value) -> Value {
    let mut body = extra;
    body["signature"] = json!({ "password": STAFF_PASSWORD, "meaning": "approval" });
    body
}

impl TestApp {
    pub async fn team(&self) -> Team {
        let (_, lab) = self.staff("lab.tech", "lab").await;
        let (_, quality) = self.staff("qa.officer", "quality").await;
        Team { lab, quality }
    }

    /// The same team signed in again (after the clock moved past their
    /// tokens' 12 hours).
    pub async fn team_again(&self) -> Team {
        Team {
            lab: crate::helpers::token_of(self.login("lab.tech", STAFF_PASSWORD).await),
            quality: crate::helpers::token_of(self.login("qa.officer", STAFF_PASSWORD).await),
        }
    }

    pub fn days_ago(&self, days: i64) -> DateTime<Utc> {
        self.clock.now() - Duration::days(days)
    }

    pub async fn register_donor(&self, team: &Team, code: &str) -> Value {
        self.post(
            "/api/v1/donors",
            Some(&team.lab),
            json!({ "code": code, "consent_at": rfc3339(self.days_ago(30)) }),
        )
        .await
        .expect(201)
    }

    pub async fn screen(
        &self,
        team: &Team,
        donor_id: &str,
        test: &str,
        result: &str,
        at: DateTime<Utc>,
    ) -> Value {
        self.post(
            &format!("/api/v1/donors/{donor_id}/screening"),
            Some(&team.lab),
            json!({ "test": test, "result": result, "tested_at": rfc3339(at) }),
        )
        .await
        .expect(201)
    }

    pub async fn donation(&self, team: &Team, donor_id: &str) -> Value {
        self.post(
            "/api/v1/donations",
            Some(&team.lab),
            json!({
                "donor_id": donor_id,
                "collected_at": rfc3339(self.days_ago(20)),
                "received_at": rfc3339(self.days_ago(20) + Duration::hours(3)),
            }),
        )
        .await
        .expect(201)
    }

    /// A donor screened negative around the collection, with a donation,
    /// declared eligible. Returns (donor, donation).
    pub async fn eligible_donor(&self, team: &Team, code: &str) -> (Value, Value) {
        let donor = self.register_donor(team, code).await;
        let id = donor["id"].as_str().unwrap().to_owned();
        let donation = self.donation(team, &id).await;
        for test in REQUIRED_SCREENING {
            self.screen(team, &id, test, "negative", self.days_ago(21))
                .await;
        }
        let donor = self
            .post(
                &format!("/api/v1/donors/{id}/eligibility"),
                Some(&team.quality),
                signed(json!({ "decision": "eligible" })),
            )
            .await
            .expect(200);
        (donor, donation)
    }

    pub async fn lot(&self, team: &Team, donation_id: &str) -> Value {
        self.post(
            "/api/v1/lots",
            Some(&team.lab),
            json!({
                "donation_id": donation_id,
                "product_code": "S1395",
                "passage": 4,
                "manufactured_at": rfc3339(self.days_ago(5)),
                "expires_at": rfc3339(self.days_ago(5) + Duration::days(365)),
            }),
        )
        .await
        .expect(201)
    }

    pub fn qc<'a>(
        &'a self,
        team: &Team,
        lot_id: &str,
        test: &str,
        value: &str,
        unit: Option<&str>,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.post(
            &format!("/api/v1/lots/{lot_id}/qc"),
            Some(&team.lab),
            json!({ "test": test, "value": value, "unit": unit }),
        )
    }

    pub async fn pass_all_qc(&self, team: &Team, lot_id: &str) {
        for (test, value, unit) in QC_PASSING {
            let result = self.qc(team, lot_id, test, value, unit).await.expect(201);
            assert_eq!(result["pass"], true, "{test}");
        }
    }

    pub async fn freeze(&self, team: &Team, lot_id: &str, vials: u32) -> Value {
        self.post(
            &format!("/api/v1/lots/{lot_id}/freeze"),
            Some(&team.lab),
            json!({
                "vial_count": vials,
                "cells_per_vial": 10_000_000,
                "volume_ul": 1000,
                "frozen_at": rfc3339(self.days_ago(4)),
            }),
        )
        .await
        .expect(201)
    }

    /// An eligible donor's lot, QC passed, frozen into `vials` vials, still
    /// in quarantine. Returns (lot, frozen vials).
    pub async fn quarantined_lot(
        &self,
        team: &Team,
        donor_code: &str,
        vials: u32,
    ) -> (Value, Vec<Value>) {
        let (_, donation) = self.eligible_donor(team, donor_code).await;
        let lot = self.lot(team, donation["id"].as_str().unwrap()).await;
        let lot_id = lot["id"].as_str().unwrap();
        self.pass_all_qc(team, lot_id).await;
        let frozen = self.freeze(team, lot_id, vials).await;
        (
            frozen["lot"].clone(),
            frozen["vials"].as_array().unwrap().clone(),
        )
    }

    pub fn release<'a>(
        &'a self,
        team: &Team,
        lot_id: &str,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.post(
            &format!("/api/v1/lots/{lot_id}/release"),
            Some(&team.quality),
            signed(json!({})),
        )
    }

    /// A released lot of `vials` available vials.
    pub async fn released_lot(
        &self,
        team: &Team,
        donor_code: &str,
        vials: u32,
    ) -> (Value, Vec<Value>) {
        let (lot, vials) = self.quarantined_lot(team, donor_code, vials).await;
        let lot = self
            .release(team, lot["id"].as_str().unwrap())
            .await
            .expect(200);
        (lot, vials)
    }

    /// Tank › Rack › Box of `rows` × `cols`; returns the box.
    pub async fn storage_box(&self, team: &Team, name: &str, rows: u8, cols: u8) -> Value {
        let tank = self
            .post(
                "/api/v1/storage",
                Some(&team.lab),
                json!({ "name": format!("Tank {name}"), "kind": "tank" }),
            )
            .await
            .expect(201);
        let rack = self
            .post(
                "/api/v1/storage",
                Some(&team.lab),
                json!({ "name": "Rack A", "kind": "rack", "parent_id": tank["id"] }),
            )
            .await
            .expect(201);
        self.post(
            "/api/v1/storage",
            Some(&team.lab),
            json!({ "name": "Box 1", "kind": "box", "parent_id": rack["id"], "rows": rows, "cols": cols }),
        )
        .await
        .expect(201)
    }

    pub fn store<'a>(
        &'a self,
        team: &Team,
        vial_id: &str,
        box_id: &str,
        position: &str,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.post(
            &format!("/api/v1/vials/{vial_id}/store"),
            Some(&team.lab),
            json!({ "box_id": box_id, "position": position }),
        )
    }

    pub async fn verify_ledger(&self, team: &Team) -> Value {
        self.get("/api/v1/audit/verify", Some(&team.quality))
            .await
            .expect(200)
    }
}

pub fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

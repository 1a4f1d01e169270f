//! A small clinic for the benchmarks: staff of every role, a released lot
//! and weighed patients, made through the API as people would.

use chrono::Utc;
use serde_json::{Value, json};

use celltrail::services::{Actor, accounts};

use super::{BenchApp, login};

pub const PASSWORD: &str = "bench-password-0001";

/// Tokens of one person of each role.
pub struct Staff {
    pub lab: String,
    pub quality: String,
    pub pharmacist: String,
    pub clinician: String,
}

/// Creates one account of each role (`lab.bench`, `qa.bench`,
/// `pharm.bench`, `nurse.bench`) and signs each in.
pub async fn staff(app: &BenchApp, http: &reqwest::Client) -> Staff {
    let actor = Actor::system("bench");
    for (name, role) in [
        ("lab.bench", "lab"),
        ("qa.bench", "quality"),
        ("pharm.bench", "pharmacist"),
        ("nurse.bench", "clinician"),
    ] {
        accounts::create(
            &app.state,
            &actor,
            accounts::NewAccount {
                username: name,
                full_name: name,
                role,
                password: PASSWORD,
            },
        )
        .await
        .unwrap();
    }
    Staff {
        lab: login(http, &app.base, "lab.bench", PASSWORD).await,
        quality: login(http, &app.base, "qa.bench", PASSWORD).await,
        pharmacist: login(http, &app.base, "pharm.bench", PASSWORD).await,
        clinician: login(http, &app.base, "nurse.bench", PASSWORD).await,
    }
}

pub async fn post(http: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    let response = http
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

/// An eligible donor's released stock of `vials` vials of 25 × 10^6 cells
/// (in lots of at most 999, as a lot holds).
pub async fn released_lot(app: &BenchApp, http: &reqwest::Client, t: &Staff, vials: usize) {
    let base = &app.base;
    let day = chrono::Duration::days(1);
    let now = Utc::now();
    let donor = post(
        http,
        format!("{base}/api/v1/donors"),
        &t.lab,
        json!({ "code": "BENCH-DONOR", "consent_at": now - day * 30 }),
    )
    .await;
    let donor_id = donor["id"].as_str().unwrap().to_owned();
    for test in ["hiv", "hbv", "hcv", "syphilis", "htlv"] {
        post(
            http,
            format!("{base}/api/v1/donors/{donor_id}/screening"),
            &t.lab,
            json!({ "test": test, "result": "negative", "tested_at": now - day * 20 }),
        )
        .await;
    }
    let signed = |meaning: &str| json!({ "password": PASSWORD, "meaning": meaning });
    post(
        http,
        format!("{base}/api/v1/donors/{donor_id}/eligibility"),
        &t.quality,
        json!({ "decision": "eligible", "signature": signed("eligible") }),
    )
    .await;
    let donation = post(
        http,
        format!("{base}/api/v1/donations"),
        &t.lab,
        json!({ "donor_id": donor_id, "collected_at": now - day * 20, "received_at": now - day * 20 }),
    )
    .await;
    let qc = [
        ("sterility", "negative", None),
        ("mycoplasma", "negative", None),
        ("endotoxin", "0.1", Some("EU/mL")),
        ("viability", "92", Some("%")),
        ("cd73", "99", Some("%")),
        ("cd90", "99", Some("%")),
        ("cd105", "98", Some("%")),
        ("cd34", "0.2", Some("%")),
        ("cd45", "0.2", Some("%")),
        ("cd14", "0.2", Some("%")),
        ("cd19", "0.2", Some("%")),
        ("hla_dr", "0.2", Some("%")),
    ];
    // a lot holds at most 999 vials: more stock is more lots of the donation
    let mut made = 0;
    while made < vials {
        let count = (vials - made).min(999);
        let lot = post(
            http,
            format!("{base}/api/v1/lots"),
            &t.lab,
            json!({
                "donation_id": donation["id"], "product_code": "S1395", "passage": 3,
                "manufactured_at": now - day * 10, "expires_at": now + day * 300,
            }),
        )
        .await;
        let lot_id = lot["id"].as_str().unwrap().to_owned();
        for (test, value, unit) in qc {
            post(
                http,
                format!("{base}/api/v1/lots/{lot_id}/qc"),
                &t.lab,
                json!({ "test": test, "value": value, "unit": unit }),
            )
            .await;
        }
        post(
            http,
            format!("{base}/api/v1/lots/{lot_id}/freeze"),
            &t.lab,
            json!({
                "vial_count": count, "cells_per_vial": 25_000_000, "volume_ul": 1500,
                "frozen_at": now - day * 9,
            }),
        )
        .await;
        post(
            http,
            format!("{base}/api/v1/lots/{lot_id}/release"),
            &t.quality,
            json!({ "signature": signed("released") }),
        )
        .await;
        made += count;
    }
}

/// An eligible patient, enrolled and weighed 40 kg an hour ago; its id.
pub async fn weighed_patient(
    app: &BenchApp,
    http: &reqwest::Client,
    t: &Staff,
    subject_code: &str,
) -> String {
    enrol_weighed(http, &app.base, &t.clinician, subject_code).await
}

/// The same, by a clinician's token against the server at `base` (for
/// workers that enrol many at once).
pub async fn enrol_weighed(
    http: &reqwest::Client,
    base: &str,
    clinician: &str,
    subject_code: &str,
) -> String {
    let now = Utc::now();
    let patient = post(
        http,
        format!("{base}/api/v1/patients"),
        clinician,
        json!({
            "subject_code": subject_code, "birth_date": "1980-01-01", "sex": "female",
            "enrolled_at": now - chrono::Duration::days(2), "baseline_pasi": 12,
            "criteria": {
                "stable_psoriasis_vulgaris_6_months": true, "active_despite_treatment": true,
                "no_other_psoriasis_treatment_during_study": true, "informed_consent": true,
                "other_psoriasis_type": false, "other_disease": false,
                "systemic_treatment_last_4_weeks": false, "topical_treatment_last_2_weeks": false,
                "uncontrolled_active_infection": false, "hbv_hcv_or_hiv": false,
                "severe_systemic_disease_or_malignancy": false,
                "pregnant_lactating_or_planning": false, "cannot_be_followed_up": false,
            },
        }),
    )
    .await;
    let id = patient["id"].as_str().unwrap().to_owned();
    post(
        http,
        format!("{base}/api/v1/patients/{id}/weights"),
        clinician,
        json!({ "value": 40, "unit": "kg", "measured_at": now - chrono::Duration::hours(1) }),
    )
    .await;
    id
}

//! Trace, recall, assessments and outcomes, on a small hand-built graph:
//! two lots from two donors, recipients of each, one patient with
//! infusions from both.

use serde_json::{Value, json};

use crate::clinic::{Clinic, signature};
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{Team, id, signed};

on_both_databases!(
    trace_follows_lots_patients_and_donors_exactly,
    trace_csv_is_one_flat_table_a_spreadsheet_opens,
    a_recall_stops_the_lot_and_names_every_recipient,
    a_recall_is_signed_by_quality_and_happens_once,
    pasi_and_dlqi_are_scored_exactly_and_refused_out_of_range,
    outcomes_show_each_recipient_and_the_lot_totals,
    the_demo_trial_loads_through_the_services_and_verifies,
);

/// Lot 1 (donor 1) and lot 2 (donor 2); PV-901 gets two infusions from
/// lot 1, PV-902 one from lot 2, PV-903 one from each.
struct Graph {
    lot1: Value,
    lot2: Value,
    donor1: String,
    donor2: String,
    a: Value,
    b: Value,
    c: Value,
    infusions: Vec<(String, String, Value)>,
}

async fn dose_from(app: &TestApp, clinic: &Clinic, patient: &Value, lot: &Value) -> Value {
    let dose = app
        .post(
            "/api/v1/doses",
            Some(&clinic.pharmacist),
            json!({ "patient_id": patient["id"], "lot_id": lot["id"] }),
        )
        .await
        .expect(201);
    app.thaw(clinic, &dose, 16_000_000, json!(90))
        .await
        .expect(200);
    app.verify_dose(clinic, &dose).await.expect(200)
}

async fn graph(app: &TestApp, team: &Team, clinic: &mut Clinic) -> Graph {
    let (lot1, _) = app.dosing_stock(team, "UCD-9001", 8, 300).await;
    let (lot2, _) = app.dosing_stock(team, "UCD-9002", 8, 300).await;
    let donor_of = |lot: &Value| {
        let lot_id = id(lot);
        async move {
            let trace = app
                .get(&format!("/api/v1/trace/lots/{lot_id}"), Some(&team.lab))
                .await
                .expect(200);
            trace["donor"]["id"].as_str().unwrap().to_owned()
        }
    };
    let (donor1, donor2) = (donor_of(&lot1).await, donor_of(&lot2).await);
    let a = app.weighed_patient(clinic, "PV-901", 40).await;
    let b = app.weighed_patient(clinic, "PV-902", 40).await;
    let c = app.weighed_patient(clinic, "PV-903", 40).await;
    let mut infusions = Vec::new();
    for (patient, lot, code) in [
        (&a, &lot1, "PV-901"),
        (&b, &lot2, "PV-902"),
        (&c, &lot1, "PV-903"),
    ] {
        let dose = dose_from(app, clinic, patient, lot).await;
        let done = app.infuse(clinic, patient, &dose).await;
        infusions.push((code.to_owned(), id(lot), done));
    }
    app.days_later(clinic, 9).await;
    for (patient, lot, code) in [(&a, &lot1, "PV-901"), (&c, &lot2, "PV-903")] {
        app.weigh(clinic, &id(patient), json!(40), "kg", 1)
            .await
            .expect(201);
        let dose = dose_from(app, clinic, patient, lot).await;
        let done = app.infuse(clinic, patient, &dose).await;
        infusions.push((code.to_owned(), id(lot), done));
    }
    Graph {
        lot1,
        lot2,
        donor1,
        donor2,
        a,
        b,
        c,
        infusions,
    }
}

fn codes(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[field].as_str().unwrap().to_owned())
        .collect()
}

async fn trace_follows_lots_patients_and_donors_exactly(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    let g = graph(&app, &team, &mut clinic).await;
    let team = crate::story::Team {
        lab: crate::helpers::token_of(app.login("lab.tech", crate::helpers::STAFF_PASSWORD).await),
        quality: crate::helpers::token_of(
            app.login("qa.officer", crate::helpers::STAFF_PASSWORD)
                .await,
        ),
    };
    let infusion_ids = |code: &str, lot: &Value| -> Vec<Value> {
        g.infusions
            .iter()
            .filter(|(c, l, _)| c == code && *l == id(lot))
            .map(|(_, _, i)| i["id"].clone())
            .collect()
    };

    // lot 1: forward to PV-901 (two infusions) and PV-903 (one), back to donor 1
    let lot1 = app
        .get(
            &format!("/api/v1/trace/lots/{}", id(&g.lot1)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(lot1["donor"]["id"], g.donor1.as_str());
    assert_eq!(lot1["donor"]["eligibility"], "eligible");
    assert_eq!(lot1["donation"]["din"], g.lot1["din"]);
    assert_eq!(lot1["qc"].as_array().unwrap().len(), 12);
    assert_eq!(
        codes(&lot1["recipients"], "subject_code"),
        ["PV-901", "PV-903"]
    );
    assert_eq!(
        lot1["recipients"][0]["infusion_ids"],
        json!(infusion_ids("PV-901", &g.lot1))
    );
    assert_eq!(
        lot1["recipients"][1]["infusion_ids"],
        json!(infusion_ids("PV-903", &g.lot1))
    );
    assert_eq!(lot1["vials"].as_array().unwrap().len(), 8);
    let infused: Vec<&Value> = lot1["vials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["status"] == "infused")
        .collect();
    // three doses of two vials each
    assert_eq!(infused.len(), 6);
    let by_subject = |s: &str| infused.iter().filter(|v| v["subject_code"] == s).count();
    assert_eq!((by_subject("PV-901"), by_subject("PV-903")), (4, 2));
    for v in lot1["vials"].as_array().unwrap() {
        if v["status"] == "available" {
            assert!(v["location"].is_null() && v["dose_id"].is_null(), "{v}");
        }
    }
    assert_eq!(lot1["doses"].as_array().unwrap().len(), 3);

    // PV-903: back through both lots to both donors
    let c = app
        .get(
            &format!("/api/v1/trace/patients/{}", id(&g.c)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(c["subject_code"], "PV-903");
    assert_eq!(c["doses"].as_array().unwrap().len(), 2);
    assert_eq!(c["vials"].as_array().unwrap().len(), 4);
    let mut lots = codes(&c["lots"], "code");
    lots.sort();
    let mut expected = vec![
        g.lot1["code"].as_str().unwrap().to_owned(),
        g.lot2["code"].as_str().unwrap().to_owned(),
    ];
    expected.sort();
    assert_eq!(lots, expected);
    let mut donors: Vec<String> = c["donors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    donors.sort();
    let mut both = vec![g.donor1.clone(), g.donor2.clone()];
    both.sort();
    assert_eq!(donors, both);
    for d in c["donors"].as_array().unwrap() {
        assert_eq!(d["eligibility"], "eligible");
    }

    // donor 2: lot 2, to PV-902 and PV-903
    let d2 = app
        .get(
            &format!("/api/v1/trace/donors/{}", g.donor2),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(
        codes(&d2["lots"], "code"),
        [g.lot2["code"].as_str().unwrap()]
    );
    assert_eq!(
        codes(&d2["recipients"], "subject_code"),
        ["PV-902", "PV-903"]
    );
    assert_eq!(d2["vials"].as_array().unwrap().len(), 8);

    // and the ledger agrees: every infused vial's event names its recipient
    let a_vial = infused
        .iter()
        .find(|v| v["subject_code"] == "PV-901")
        .unwrap();
    let history = app
        .get(
            &format!("/api/v1/audit?subject_kind=vial&subject_id={}", id(a_vial)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(last["action"], "vial.infused");
    assert_eq!(last["details"]["subject_code"], "PV-901");
    let _ = (&g.a, &g.b);
    for path in ["lots", "patients", "donors"] {
        app.get(
            &format!("/api/v1/trace/{path}/00000000-0000-0000-0000-000000000000"),
            Some(&team.lab),
        )
        .await
        .expect_error(404, "not_found");
    }
    app.get(&format!("/api/v1/trace/lots/{}", id(&g.lot1)), None)
        .await
        .expect_error(401, "unauthenticated");
}

/// Splits RFC 4180 CSV (quoted fields, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

async fn trace_csv_is_one_flat_table_a_spreadsheet_opens(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    let g = graph(&app, &team, &mut clinic).await;
    let quality = crate::helpers::token_of(
        app.login("qa.officer", crate::helpers::STAFF_PASSWORD)
            .await,
    );
    let (status, content_type, body) = app
        .get_bytes(
            &format!("/api/v1/trace/lots/{}?format=csv", id(&g.lot1)),
            Some(&quality),
        )
        .await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("\r\n"), "RFC 4180 line ends");
    let rows = parse_csv(&text);
    assert_eq!(rows[0][0], "lot_code");
    assert_eq!(rows.len(), 1 + 8, "a header and one row per vial");
    let width = rows[0].len();
    assert!(
        rows.iter().all(|r| r.len() == width),
        "every row as wide as the header"
    );
    let subject = rows[0].iter().position(|h| h == "subject_code").unwrap();
    let location = rows[0].iter().position(|h| h == "location").unwrap();
    let infused: Vec<_> = rows[1..]
        .iter()
        .filter(|r| !r[subject].is_empty())
        .collect();
    assert_eq!(infused.len(), 6);
    let _ = location;
    let (_, _, body) = app
        .get_bytes(
            &format!("/api/v1/trace/patients/{}?format=csv", id(&g.c)),
            Some(&quality),
        )
        .await;
    let rows = parse_csv(&String::from_utf8(body).unwrap());
    assert_eq!(rows.len(), 1 + 4);
    let (_, _, body) = app
        .get_bytes(
            &format!("/api/v1/trace/donors/{}?format=csv", g.donor1),
            Some(&quality),
        )
        .await;
    let rows = parse_csv(&String::from_utf8(body).unwrap());
    assert_eq!(rows.len(), 1 + 8);
    app.get(
        &format!("/api/v1/trace/lots/{}?format=xml", id(&g.lot1)),
        Some(&quality),
    )
    .await
    .expect_error(400, "malformed_request");
}

async fn a_recall_stops_the_lot_and_names_every_recipient(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-9100", 10, 300).await;
    let a = app.weighed_patient(&clinic, "PV-911", 40).await;
    let b = app.weighed_patient(&clinic, "PV-912", 40).await;
    let c = app.weighed_patient(&clinic, "PV-913", 40).await;
    let given = app.prepared_dose(&clinic, &id(&a)).await;
    let infusion = app.infuse(&clinic, &a, &given).await;
    let reserved = app.order(&clinic, &id(&b)).await.expect(201);
    let prepared = app.prepared_dose(&clinic, &id(&c)).await;
    let recall = app
        .post(
            &format!("/api/v1/lots/{}/recall", id(&lot)),
            Some(&team.quality),
            signed(json!({ "reason": "sterility retest positive" })),
        )
        .await
        .expect(200);
    assert_eq!(recall["lot"]["status"], "recalled");
    // 10 vials: 2 infused, 2 thawed for PV-913, 2 reserved for PV-912, 4 available
    assert_eq!(recall["vials_recalled"].as_array().unwrap().len(), 6);
    assert_eq!(
        codes(&recall["doses_cancelled"], "code"),
        [
            reserved["code"].as_str().unwrap(),
            prepared["code"].as_str().unwrap()
        ]
    );
    assert_eq!(
        recall["thawed_vials_to_discard"].as_array().unwrap().len(),
        2
    );
    assert_eq!(codes(&recall["recipients"], "subject_code"), ["PV-911"]);
    assert_eq!(
        recall["recipients"][0]["infusion_ids"],
        json!([infusion["id"]])
    );
    for vial in reserved["vial_ids"].as_array().unwrap() {
        let v = app
            .get(
                &format!("/api/v1/vials/{}", vial.as_str().unwrap()),
                Some(&team.lab),
            )
            .await
            .expect(200);
        assert_eq!(v["status"], "recalled");
    }
    // nothing more comes from the lot
    app.start_infusion(
        &clinic,
        &prepared,
        c["scan_payload"].as_str().unwrap(),
        prepared["scan_payload"].as_str().unwrap(),
    )
    .await
    .expect_error(409, "invalid_state");
    let details = app
        .post(
            "/api/v1/doses",
            Some(&clinic.pharmacist),
            json!({ "patient_id": b["id"], "lot_id": lot["id"] }),
        )
        .await
        .expect_error(422, "lot_recalled");
    assert_eq!(details["code"], lot["code"]);
    // asked for no lot in particular, the answer names the recall too
    let details = app
        .order(&clinic, &id(&b))
        .await
        .expect_error(422, "lot_recalled");
    assert_eq!(details["code"], lot["code"]);
    let signed_event = app
        .get(
            &format!("/api/v1/audit?subject_kind=lot&subject_id={}", id(&lot)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let last = signed_event.as_array().unwrap().last().unwrap();
    assert_eq!(last["action"], "lot.recalled");
    assert_eq!(last["details"]["signature"]["signer"], "qa.officer");
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn a_recall_is_signed_by_quality_and_happens_once(app: TestApp) {
    let team = app.team().await;
    let (quarantined, _) = app.quarantined_lot(&team, "UCD-9200", 2).await;
    let (lot, _) = app.dosing_stock(&team, "UCD-9201", 2, 300).await;
    let path = format!("/api/v1/lots/{}/recall", id(&lot));
    app.post(&path, Some(&team.lab), signed(json!({ "reason": "x" })))
        .await
        .expect_error(403, "forbidden");
    let before = app.verify_ledger(&team).await["events"].clone();
    app.post(
        &path,
        Some(&team.quality),
        json!({ "reason": "x", "signature": { "password": "not-my-password", "meaning": "recall" } }),
    )
    .await
    .expect_error(401, "signature_invalid");
    app.post(&path, Some(&team.quality), signed(json!({ "reason": " " })))
        .await
        .expect_error(422, "invalid_field");
    app.post(
        &path,
        Some(&team.quality),
        json!({ "reason": "no signature" }),
    )
    .await
    .expect_error(400, "malformed_request");
    assert_eq!(app.verify_ledger(&team).await["events"], before);
    let still = app
        .get(&format!("/api/v1/lots/{}", id(&lot)), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(still["status"], "released");
    app.post(
        &path,
        Some(&team.quality),
        signed(json!({ "reason": "endotoxin retest" })),
    )
    .await
    .expect(200);
    app.post(
        &path,
        Some(&team.quality),
        signed(json!({ "reason": "again" })),
    )
    .await
    .expect_error(409, "invalid_state");
    app.post(
        &format!("/api/v1/lots/{}/recall", id(&quarantined)),
        Some(&team.quality),
        signed(json!({ "reason": "never released" })),
    )
    .await
    .expect_error(409, "invalid_state");
}

fn pasi(regions: [[i32; 4]; 4]) -> Value {
    let region = |r: [i32; 4]| json!({ "erythema": r[0], "induration": r[1], "desquamation": r[2], "area": r[3] });
    json!({
        "head": region(regions[0]),
        "upper_limbs": region(regions[1]),
        "trunk": region(regions[2]),
        "lower_limbs": region(regions[3]),
    })
}

async fn pasi_and_dlqi_are_scored_exactly_and_refused_out_of_range(app: TestApp) {
    let clinic = app.clinic().await;
    let patient = app.patient(&clinic, "PV-920").await;
    let path = format!("/api/v1/patients/{}/assessments", id(&patient));
    let now = app.clock.now();
    let score = |body: Value| app.post(&path, Some(&clinic.clinician), body);
    let zero = score(json!({ "kind": "pasi", "assessed_at": now, "regions": pasi([[0; 4]; 4]) }))
        .await
        .expect(201);
    assert_eq!(zero["score"], 0.0);
    let max =
        score(json!({ "kind": "pasi", "assessed_at": now, "regions": pasi([[4, 4, 4, 6]; 4]) }))
            .await
            .expect(201);
    assert_eq!(max["score"], 72.0);
    let worked = score(json!({
        "kind": "pasi", "assessed_at": now,
        "regions": pasi([[2, 1, 1, 2], [3, 2, 2, 3], [2, 2, 1, 4], [3, 3, 2, 4]]),
    }))
    .await
    .expect(201);
    assert_eq!(worked["score"], 23.8);
    let tiny = score(json!({
        "kind": "pasi", "assessed_at": now,
        "regions": pasi([[1, 0, 0, 1], [1, 0, 0, 1], [0; 4], [0; 4]]),
    }))
    .await
    .expect(201);
    // 0.1 + 0.2, exactly 0.3
    assert_eq!(tiny["score"], 0.3);
    let dlqi = score(
        json!({ "kind": "dlqi", "assessed_at": now, "answers": [3, 3, 3, 3, 3, 3, 3, 3, 3, 3] }),
    )
    .await
    .expect(201);
    assert_eq!(dlqi["score"], 30);
    for (body, field) in [
        (
            json!({ "kind": "pasi", "assessed_at": now, "regions": pasi([[0, 0, 0, 7], [0; 4], [0; 4], [0; 4]]) }),
            "regions.head.area",
        ),
        (
            json!({ "kind": "pasi", "assessed_at": now, "regions": pasi([[0; 4], [5, 0, 0, 1], [0; 4], [0; 4]]) }),
            "regions.upper_limbs.erythema",
        ),
        (
            json!({ "kind": "pasi", "assessed_at": now, "regions": pasi([[0; 4], [0; 4], [0; 4], [0, -1, 0, 1]]) }),
            "regions.lower_limbs.induration",
        ),
        (
            json!({ "kind": "dlqi", "assessed_at": now, "answers": [0, 0, 0, 0, 0, 0, 0, 0, 0] }),
            "answers",
        ),
        (
            json!({ "kind": "dlqi", "assessed_at": now, "answers": [0, 0, 0, 4, 0, 0, 0, 0, 0, 0] }),
            "answers[3]",
        ),
    ] {
        let details = score(body).await.expect_error(422, "invalid_assessment");
        assert_eq!(details["field"], field);
    }
    for malformed in [
        json!({ "kind": "pasi", "assessed_at": now }),
        json!({ "kind": "pasi", "assessed_at": now, "regions": pasi([[0, 0, 0, 1]; 4]), "answers": [] }),
        json!({ "kind": "bsa", "assessed_at": now }),
        json!({ "kind": "dlqi", "assessed_at": now, "answers": [1.5, 0, 0, 0, 0, 0, 0, 0, 0, 0] }),
    ] {
        score(malformed)
            .await
            .expect_error(400, "malformed_request");
    }
    app.post(
        &path,
        Some(&clinic.pharmacist),
        json!({ "kind": "dlqi", "assessed_at": now, "answers": vec![0; 10] }),
    )
    .await
    .expect_error(403, "forbidden");
    let record = app
        .get(
            &format!("/api/v1/patients/{}", id(&patient)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    assert_eq!(record["assessments"].as_array().unwrap().len(), 5);
    // with no infusion yet, the latest PASI assessed is the baseline
    assert_eq!(record["baseline_pasi_current"], 0.3);
}

async fn outcomes_show_each_recipient_and_the_lot_totals(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-9300", 8, 300).await;
    let a = app.weighed_patient(&clinic, "PV-931", 40).await;
    let b = app.weighed_patient(&clinic, "PV-932", 40).await;
    // PV-932 is assessed before the first infusion: that is the baseline
    let before = app.clock.now();
    app.post(
        &format!("/api/v1/patients/{}/assessments", id(&b)),
        Some(&clinic.clinician),
        json!({ "kind": "pasi", "assessed_at": before, "regions": pasi([[2, 2, 1, 4], [2, 2, 1, 4], [2, 2, 1, 4], [2, 2, 1, 4]]) }),
    )
    .await
    .expect(201);
    for p in [&a, &b] {
        let dose = app.prepared_dose(&clinic, &id(p)).await;
        let started = app
            .start_infusion(
                &clinic,
                &dose,
                p["scan_payload"].as_str().unwrap(),
                dose["scan_payload"].as_str().unwrap(),
            )
            .await
            .expect(201);
        let events = if p == &a {
            json!([{ "term": "Fever", "grade": 2, "onset_at": app.clock.now() }])
        } else {
            json!([])
        };
        app.post(
            &format!("/api/v1/infusions/{}/complete", id(&started)),
            Some(&clinic.clinician),
            json!({ "ended_at": app.clock.now(), "volume_infused_ul": dose["volume_ul"], "adverse_events": events }),
        )
        .await
        .expect(200);
    }
    app.days_later(&mut clinic, 28).await;
    let now = app.clock.now();
    // PV-931: enrolment 14.2 -> 3.0, −78.9 %: PASI 75
    app.post(
        &format!("/api/v1/patients/{}/assessments", id(&a)),
        Some(&clinic.clinician),
        json!({ "kind": "pasi", "assessed_at": now, "regions": pasi([[0; 4], [1, 1, 1, 1], [0; 4], [1, 1, 1, 2]]) }),
    )
    .await
    .expect(201);
    // PV-932: 20.0 -> 10.0, −50.0 %
    app.post(
        &format!("/api/v1/patients/{}/assessments", id(&b)),
        Some(&clinic.clinician),
        json!({ "kind": "pasi", "assessed_at": now, "regions": pasi([[2, 2, 1, 2], [2, 2, 1, 2], [2, 2, 1, 2], [2, 2, 1, 2]]) }),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/v1/patients/{}/assessments", id(&a)),
        Some(&clinic.clinician),
        json!({ "kind": "dlqi", "assessed_at": now, "answers": [1, 0, 0, 1, 0, 0, 0, 0, 0, 0] }),
    )
    .await
    .expect(201);
    let outcomes = app
        .get(
            &format!("/api/v1/lots/{}/outcomes", id(&lot)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    let r = &outcomes["recipients"];
    assert_eq!(codes(r, "subject_code"), ["PV-931", "PV-932"]);
    assert_eq!(r[0]["baseline_pasi_tenths"], 142);
    assert_eq!(r[0]["baseline_source"], "enrolment");
    assert_eq!(r[0]["latest_pasi_tenths"], 30);
    assert_eq!(r[0]["pasi_change_pct"], "-78.9");
    assert_eq!(r[0]["pasi75"], true);
    assert_eq!(r[0]["latest_dlqi"], 2);
    assert_eq!(r[0]["adverse_events"][0]["grade"], 2);
    assert_eq!(r[1]["baseline_pasi_tenths"], 200);
    assert_eq!(r[1]["baseline_source"], "assessment");
    assert_eq!(r[1]["latest_pasi_tenths"], 100);
    assert_eq!(r[1]["pasi_change_pct"], "-50.0");
    assert_eq!(r[1]["pasi75"], false);
    assert_eq!(r[1]["latest_dlqi"], json!(null));
    let totals = &outcomes["totals"];
    assert_eq!(totals["recipients"], 2);
    assert_eq!(totals["infusions"], 2);
    assert_eq!(totals["with_follow_up"], 2);
    assert_eq!(totals["pasi75_reached"], 1);
    assert_eq!(totals["pasi75_rate_pct"], "50.0");
    assert_eq!(
        totals["adverse_events_by_grade"],
        json!({"1": 0, "2": 1, "3": 0, "4": 0, "5": 0})
    );
}

async fn the_demo_trial_loads_through_the_services_and_verifies(app: TestApp) {
    let summary = celltrail::demo::load(&app.state).await.unwrap();
    assert_eq!(summary.patients, 30);
    // 26 finished courses of six; four in progress today
    assert_eq!(summary.infusions, 26 * 6 + 4 + 3 + 2 + 1);
    assert_eq!(summary.lots, 6);
    let report = celltrail::services::ledger::verify(&app.state.db)
        .await
        .unwrap();
    assert!(report.ok, "{:?}", report.problems());
    // every row of every table the replay compares agrees with the ledger
    let replay = report.replay.expect("verification replays the events");
    assert!(replay.rows_compared > 1_000, "{replay:?}");
    assert_eq!(replay.differences, 0, "{replay:?}");
    // the demo accounts sign in, and the recalled lot's outcomes are there
    let quality =
        crate::helpers::token_of(app.login("quality.demo", "demo-quality-password").await);
    let scanned = app
        .post(
            "/api/v1/scan",
            Some(&quality),
            json!({ "payload": format!("CT1:L:{}", summary.recalled_lot) }),
        )
        .await
        .expect(200);
    assert_eq!(scanned["status"], "recalled");
    let outcomes = app
        .get(
            &format!("/api/v1/lots/{}/outcomes", scanned["id"].as_str().unwrap()),
            Some(&quality),
        )
        .await
        .expect(200);
    assert_eq!(outcomes["totals"]["recipients"], 6);
    let patients = app
        .get("/api/v1/patients", Some(&quality))
        .await
        .expect(200);
    assert_eq!(patients["items"].as_array().unwrap().len(), 30);
    // and it never loads twice, or next to real records
    let again = celltrail::demo::load(&app.state).await.unwrap_err();
    assert!(again.to_string().contains("empty database"), "{again}");
    let _ = signature("unused");
}

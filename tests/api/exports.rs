//! The sponsor's SDTM export (issue 16), on both databases: a small trial
//! built through the API (two infusions from two lots, the second
//! interrupted; two adverse events, one corrected; PASI and DLQI at
//! screening, baseline and week 4), and each domain's CSV compared with
//! rows computed by hand, times on the Beijing site's clock; then who may
//! export, and an unknown domain.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::clinic::{Clinic, signature};
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{id, rfc3339};
use crate::web::{page, sign_in};

on_both_databases!(
    the_sponsor_gets_exposure_adverse_events_and_questionnaires_as_sdtm,
    only_quality_and_clinicians_export_known_domains,
    each_account_exports_the_patients_of_its_sites_on_their_clocks,
    the_export_page_offers_each_domain_to_clinicians_only,
);

const SUBJECT: &str = "NCT02491658-A9999-PV-001";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The CSV of a domain as `token` downloads it: status, content type,
/// content disposition, body.
async fn download(
    app: &TestApp,
    domain: &str,
    token: &str,
) -> (StatusCode, String, String, String) {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/exports/sdtm?domain={domain}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (content_type, disposition) = (header(CONTENT_TYPE), header(CONTENT_DISPOSITION));
    (
        response.status(),
        content_type,
        disposition,
        response.text().await.unwrap(),
    )
}

/// The rows of an RFC 4180 CSV (quoted fields, doubled quotes, CRLF).
fn rows(csv: &str) -> Vec<Vec<String>> {
    assert!(csv.ends_with("\r\n"), "{csv}");
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, csv.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
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

fn row(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| (*f).to_owned()).collect()
}

fn pasi(regions: [[i64; 4]; 4]) -> Value {
    let region = |r: [i64; 4]| json!({ "erythema": r[0], "induration": r[1], "desquamation": r[2], "area": r[3] });
    json!({
        "kind": "pasi",
        "regions": {
            "head": region(regions[0]),
            "upper_limbs": region(regions[1]),
            "trunk": region(regions[2]),
            "lower_limbs": region(regions[3]),
        },
    })
}

async fn assess(app: &TestApp, clinic: &Clinic, patient: &str, mut body: Value, t: &str) {
    body["assessed_at"] = json!(t);
    app.post(
        &format!("/api/v1/patients/{patient}/assessments"),
        Some(&clinic.clinician),
        body,
    )
    .await
    .expect(201);
}

/// Moves the clock to `t` and signs the clinic in again.
async fn now_is(app: &TestApp, clinic: &mut Clinic, t: &str) {
    app.clock.jump_to(at(t));
    app.sign_in_again(clinic).await;
}

/// Orders a dose (of `lot`), thaws its vials at 16 × 10^6 viable cells/mL
/// and has it verified.
async fn prepared(app: &TestApp, clinic: &Clinic, patient: &str, lot: &str) -> Value {
    let dose = app
        .post(
            "/api/v1/doses",
            Some(&clinic.pharmacist),
            json!({ "patient_id": patient, "lot_id": lot }),
        )
        .await
        .expect(201);
    app.thaw(clinic, &dose, 16_000_000, json!(92))
        .await
        .expect(200);
    app.verify_dose(clinic, &dose).await.expect(200)
}

async fn start(app: &TestApp, clinic: &Clinic, patient: &Value, dose: &Value) -> Value {
    app.start_infusion(
        clinic,
        dose,
        patient["scan_payload"].as_str().unwrap(),
        dose["scan_payload"].as_str().unwrap(),
    )
    .await
    .expect(201)
}

/// The trial of one patient, PV-001, 40 kg then 41.3 kg, at the Beijing
/// site (UTC+8); Day 1 is 2027-03-02 there.
async fn the_sponsor_gets_exposure_adverse_events_and_questionnaires_as_sdtm(app: TestApp) {
    app.clock.jump_to(at("2027-03-01T21:00:00Z"));
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    let (lot_a, _) = app.dosing_stock(&team, "UCD-1601", 3, 90).await;
    let (lot_b, _) = app.dosing_stock(&team, "UCD-1602", 3, 90).await;
    let (lot_a_code, lot_b_code) = (
        lot_a["code"].as_str().unwrap().to_owned(),
        lot_b["code"].as_str().unwrap().to_owned(),
    );
    let patient = app.weighed_patient(&clinic, "PV-001", 40).await;
    let pid = id(&patient);
    let leaving = id(&app.patient(&clinic, "PV-002").await);

    // screening PASI (Day -3), then the Day 1 PASI and DLQI before the
    // first infusion: the baseline is the Day 1 ones
    assess(
        &app,
        &clinic,
        &pid,
        pasi([[2, 1, 1, 2], [2, 2, 1, 3], [3, 2, 2, 4], [3, 3, 2, 4]]),
        "2027-02-27T02:00:00Z",
    )
    .await;
    now_is(&app, &mut clinic, "2027-03-01T21:40:00Z").await;
    assess(
        &app,
        &clinic,
        &pid,
        pasi([[2, 2, 1, 2], [2, 2, 2, 3], [3, 3, 2, 4], [3, 3, 3, 4]]),
        "2027-03-01T21:30:00Z",
    )
    .await;
    assess(
        &app,
        &clinic,
        &pid,
        json!({ "kind": "dlqi", "answers": [3, 2, 2, 1, 2, 1, 0, 1, 0, 2] }),
        "2027-03-01T21:35:00Z",
    )
    .await;

    // infusion 1, lot A: 40 kg, 2 vials, 2.5 mL of 40 × 10^6 cells, all given
    let dose_1 = prepared(&app, &clinic, &pid, &id(&lot_a)).await;
    assert_eq!(dose_1["cells_to_administer"], 40_000_000);
    assert_eq!(dose_1["volume_ul"], 2500);
    now_is(&app, &mut clinic, "2027-03-01T23:00:00Z").await;
    let infusion_1 = start(&app, &clinic, &patient, &dose_1).await;
    now_is(&app, &mut clinic, "2027-03-01T23:40:00Z").await;
    app.post(
        &format!("/api/v1/infusions/{}/complete", id(&infusion_1)),
        Some(&clinic.clinician),
        json!({ "ended_at": rfc3339(app.clock.now()), "volume_infused_ul": 2500 }),
    )
    .await
    .expect(200);

    // infusion 2 a week later, lot B: 41.3 kg, 3 vials, 2.6 mL of
    // 41.6 × 10^6 cells prepared, stopped after 2.1 mL
    now_is(&app, &mut clinic, "2027-03-08T22:00:00Z").await;
    app.weigh(&clinic, &pid, json!(41.3), "kg", 1)
        .await
        .expect(201);
    let dose_2 = prepared(&app, &clinic, &pid, &id(&lot_b)).await;
    assert_eq!(dose_2["cells_to_administer"], 41_600_000);
    assert_eq!(dose_2["volume_ul"], 2600);
    now_is(&app, &mut clinic, "2027-03-08T23:00:00Z").await;
    let infusion_2 = start(&app, &clinic, &patient, &dose_2).await;
    now_is(&app, &mut clinic, "2027-03-08T23:30:00Z").await;
    app.post(
        &format!("/api/v1/infusions/{}/complete", id(&infusion_2)),
        Some(&clinic.clinician),
        json!({
            "ended_at": rfc3339(app.clock.now()),
            "volume_infused_ul": 2100,
            "confirm_volume": true,
            "volume_reason": "stopped early: the patient felt cold",
        }),
    )
    .await
    .expect(200);

    // a headache after infusion 1, recorded grade 1 and corrected to 2;
    // a fever (typed in Chinese) after infusion 2
    now_is(&app, &mut clinic, "2027-03-10T02:00:00Z").await;
    let headache = app
        .post(
            &format!("/api/v1/patients/{pid}/adverse-events"),
            Some(&clinic.clinician),
            json!({
                "infusion_id": id(&infusion_1),
                "term": "Headache",
                "grade": 1,
                "onset_at": "2027-03-02T01:30:00Z",
            }),
        )
        .await
        .expect(201);
    app.post(
        &format!(
            "/api/v1/patients/{pid}/adverse-events/{}/corrections",
            id(&headache)
        ),
        Some(&clinic.clinician),
        json!({
            "term": "Headache",
            "grade": 2,
            "onset_at": "2027-03-02T01:30:00Z",
            "reason": "grade misread from the ward's note",
            "signature": signature("adverse event corrected"),
        }),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/v1/patients/{pid}/adverse-events"),
        Some(&clinic.clinician),
        json!({
            "infusion_id": id(&infusion_2),
            "term": "发热",
            "grade": 1,
            "onset_at": "2027-03-09T12:00:00Z",
        }),
    )
    .await
    .expect(201);

    // PV-002 withdraws before any infusion; a DLQI is still taken after
    app.post(
        &format!("/api/v1/patients/{leaving}/withdrawal"),
        Some(&clinic.clinician),
        json!({
            "withdrawn_at": "2027-03-09T01:00:00Z",
            "reason": "moved to another city",
            "signature": signature("patient withdrawn from the trial"),
        }),
    )
    .await
    .expect(201);
    assess(
        &app,
        &clinic,
        &leaving,
        json!({ "kind": "dlqi", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 0, 1] }),
        "2027-03-10T01:00:00Z",
    )
    .await;

    // week 4 (Day 29, 2027-03-30 in Beijing)
    now_is(&app, &mut clinic, "2027-03-30T03:00:00Z").await;
    assess(
        &app,
        &clinic,
        &pid,
        pasi([[1, 1, 0, 1], [1, 1, 1, 2], [1, 1, 1, 2], [2, 1, 1, 2]]),
        "2027-03-30T02:00:00Z",
    )
    .await;
    assess(
        &app,
        &clinic,
        &pid,
        json!({ "kind": "dlqi", "answers": [1, 1, 0, 0, 1, 0, 0, 0, 0, 1] }),
        "2027-03-30T02:05:00Z",
    )
    .await;
    let team = app.team_again().await;

    // EX: every infusion; 33 600 000 = 41 600 000 × 2100 ÷ 2600, and
    // 813 559 = 33 600 000 × 1000 ÷ 41 300 g (813 559.32, rounded)
    let (status, content_type, disposition, csv) = download(&app, "EX", &team.quality).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert_eq!(content_type, "text/csv; charset=utf-8; header=present");
    assert_eq!(
        disposition,
        "attachment; filename=\"NCT02491658-EX-2027-03-30.csv\""
    );
    assert_eq!(
        rows(&csv),
        vec![
            row(&[
                "STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXREFID", "EXSPID", "EXTRT", "EXDOSE",
                "EXDOSU", "EXDOSFRM", "EXDOSFRQ", "EXROUTE", "EXLOT", "EPOCH", "EXSTDTC",
                "EXENDTC", "EXSTDY", "EXENDY", "EXDOSKG", "EXWTG", "EXPRPCEL", "EXPRPVOL",
                "EXINFVOL",
            ]),
            row(&[
                "NCT02491658",
                "EX",
                SUBJECT,
                "1",
                "PV-001-D01",
                "1",
                "UC-MSC",
                "40000000",
                "cells",
                "SUSPENSION",
                "ONCE",
                "INTRAVENOUS",
                &lot_a_code,
                "TREATMENT",
                "2027-03-02T07:00",
                "2027-03-02T07:40",
                "1",
                "1",
                "1000000",
                "40000",
                "40000000",
                "2500",
                "2500",
            ]),
            row(&[
                "NCT02491658",
                "EX",
                SUBJECT,
                "2",
                "PV-001-D02",
                "2",
                "UC-MSC",
                "33600000",
                "cells",
                "SUSPENSION",
                "ONCE",
                "INTRAVENOUS",
                &lot_b_code,
                "TREATMENT",
                "2027-03-09T07:00",
                "2027-03-09T07:30",
                "8",
                "8",
                "813559",
                "41300",
                "41600000",
                "2600",
                "2100",
            ]),
        ]
    );

    // AE: the corrected headache once, at grade 2; the fever in Chinese
    let (status, _, disposition, csv) = download(&app, "ae", &clinic.clinician).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(
        disposition.contains("NCT02491658-AE-2027-03-30.csv"),
        "{disposition}"
    );
    assert_eq!(
        rows(&csv),
        vec![
            row(&[
                "STUDYID", "DOMAIN", "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEREL", "AETOXGR",
                "AESTDTC", "AEENDTC", "AESTDY", "AELOT", "AEINFNUM",
            ]),
            row(&[
                "NCT02491658",
                "AE",
                SUBJECT,
                "1",
                "Headache",
                "",
                "",
                "2",
                "2027-03-02T09:30",
                "",
                "1",
                &lot_a_code,
                "1",
            ]),
            row(&[
                "NCT02491658",
                "AE",
                SUBJECT,
                "2",
                "发热",
                "",
                "",
                "1",
                "2027-03-09T20:00",
                "",
                "8",
                &lot_b_code,
                "2",
            ]),
        ]
    );

    // QS: each instrument item by item, then its total; PASI in tenths
    // (25.0 = 1×4×2 + 2×5×3 + 3×7×4 + 4×8×4 tenths; 28.6; 6.4)
    let (status, _, _, csv) = download(&app, "QS", &team.quality).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let mut expected = vec![row(&[
        "STUDYID", "DOMAIN", "USUBJID", "QSSEQ", "QSTESTCD", "QSTEST", "QSCAT", "QSORRES",
        "QSSTRESC", "QSSTRESN", "QSBLFL", "QSDRVFL", "VISITNUM", "VISIT", "QSDTC", "QSDY",
    ])];
    let mut seq = 0;
    // (visit number, visit, QSDTC, QSDY, baseline flag)
    let screening = ("0", "BASELINE", "2027-02-27T10:00", "-3", "");
    let day1_pasi = ("0", "BASELINE", "2027-03-02T05:30", "1", "Y");
    let day1_dlqi = ("0", "BASELINE", "2027-03-02T05:35", "1", "Y");
    let week4_pasi = ("4", "WEEK 4", "2027-03-30T10:00", "29", "");
    let week4_dlqi = ("4", "WEEK 4", "2027-03-30T10:05", "29", "");
    for (items, total, (num, visit, dtc, dy, bl)) in [
        (
            &[2, 1, 1, 2, 2, 2, 1, 3, 3, 2, 2, 4, 3, 3, 2, 4][..],
            "25.0",
            screening,
        ),
        (
            &[2, 2, 1, 2, 2, 2, 2, 3, 3, 3, 2, 4, 3, 3, 3, 4][..],
            "28.6",
            day1_pasi,
        ),
        (&[3, 2, 2, 1, 2, 1, 0, 1, 0, 2][..], "14", day1_dlqi),
        (
            &[1, 1, 0, 1, 1, 1, 1, 2, 1, 1, 1, 2, 2, 1, 1, 2][..],
            "6.4",
            week4_pasi,
        ),
        (&[1, 1, 0, 0, 1, 0, 0, 0, 0, 1][..], "4", week4_dlqi),
    ] {
        let tests: &[(&str, &str)] = if items.len() == 16 { &PASI } else { &DLQI };
        let category = if items.len() == 16 { "PASI" } else { "DLQI" };
        for (n, (code, name)) in tests.iter().enumerate() {
            seq += 1;
            let (value, derived) = match items.get(n) {
                Some(v) => (v.to_string(), ""),
                None => (total.to_owned(), "Y"),
            };
            expected.push(row(&[
                "NCT02491658",
                "QS",
                SUBJECT,
                &seq.to_string(),
                code,
                name,
                category,
                &value,
                &value,
                &value,
                bl,
                derived,
                num,
                visit,
                dtc,
                dy,
            ]));
        }
    }
    assert_eq!(seq, 73);
    // PV-002's numbering starts again; no Day 1, so no visit, day or baseline
    for (n, (code, name)) in DLQI.iter().enumerate() {
        let value = if n >= 9 { "1" } else { "0" };
        let derived = if n == 10 { "Y" } else { "" };
        expected.push(row(&[
            "NCT02491658",
            "QS",
            "NCT02491658-A9999-PV-002",
            &(n + 1).to_string(),
            code,
            name,
            "DLQI",
            value,
            value,
            value,
            "",
            derived,
            "",
            "",
            "2027-03-10T09:00",
            "",
        ]));
    }
    assert_eq!(rows(&csv), expected);

    // DS: the withdrawal as recorded (recorded at 10:00 Beijing time)
    let (status, _, _, csv) = download(&app, "DS", &team.quality).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert_eq!(
        rows(&csv),
        vec![
            row(&[
                "STUDYID", "DOMAIN", "USUBJID", "DSSEQ", "DSTERM", "DSDECOD", "DSCAT", "DSDTC",
                "DSSTDTC", "DSSTDY",
            ]),
            row(&[
                "NCT02491658",
                "DS",
                "NCT02491658-A9999-PV-002",
                "1",
                "moved to another city",
                "",
                "DISPOSITION EVENT",
                "2027-03-10T10:00",
                "2027-03-09T09:00",
                "",
            ]),
        ]
    );
}

const PASI: [(&str, &str); 17] = [
    ("PASI0101", "PASI01-Head: Erythema"),
    ("PASI0102", "PASI01-Head: Induration"),
    ("PASI0103", "PASI01-Head: Desquamation"),
    ("PASI0104", "PASI01-Head: Area Score"),
    ("PASI0105", "PASI01-Upper Limbs: Erythema"),
    ("PASI0106", "PASI01-Upper Limbs: Induration"),
    ("PASI0107", "PASI01-Upper Limbs: Desquamation"),
    ("PASI0108", "PASI01-Upper Limbs: Area Score"),
    ("PASI0109", "PASI01-Trunk: Erythema"),
    ("PASI0110", "PASI01-Trunk: Induration"),
    ("PASI0111", "PASI01-Trunk: Desquamation"),
    ("PASI0112", "PASI01-Trunk: Area Score"),
    ("PASI0113", "PASI01-Lower Limbs: Erythema"),
    ("PASI0114", "PASI01-Lower Limbs: Induration"),
    ("PASI0115", "PASI01-Lower Limbs: Desquamation"),
    ("PASI0116", "PASI01-Lower Limbs: Area Score"),
    ("PASI0117", "PASI01-Total Score"),
];

const DLQI: [(&str, &str); 11] = [
    ("DLQI101", "DLQI1-Itchy, Sore, Painful, Stinging"),
    ("DLQI102", "DLQI1-Embarrassed, Self Conscious"),
    ("DLQI103", "DLQI1-Interfered Shopping, Home, Garden"),
    ("DLQI104", "DLQI1-Influenced Clothes You Wear"),
    ("DLQI105", "DLQI1-Affected Social, Leisure Activity"),
    ("DLQI106", "DLQI1-Made It Difficult to Do Any Sport"),
    ("DLQI107", "DLQI1-Prevented Working or Studying"),
    ("DLQI108", "DLQI1-Problem Partner, Friends, Relative"),
    ("DLQI109", "DLQI1-Caused Any Sexual Difficulties"),
    ("DLQI110", "DLQI1-How Much a Problem is Treatment"),
    ("DLQI111", "DLQI1-Score"),
];

async fn only_quality_and_clinicians_export_known_domains(app: TestApp) {
    let (_, lab) = app.staff("lab.tech", "lab").await;
    let (_, pharmacist) = app.staff("pharm.one", "pharmacist").await;
    let (_, quality) = app.staff("qa.officer", "quality").await;
    let admin = app.admin_token().await;
    for token in [&lab, &pharmacist, &admin] {
        app.get("/api/v1/exports/sdtm?domain=EX", Some(token))
            .await
            .expect_error(403, "forbidden");
    }
    app.get("/api/v1/exports/sdtm?domain=EX", None)
        .await
        .expect_error(401, "unauthenticated");
    for query in ["domain=DM", "domain=", "domain=EXX", ""] {
        let refused = app
            .get(&format!("/api/v1/exports/sdtm?{query}"), Some(&quality))
            .await;
        let message = refused.body["error"]["message"].to_string();
        refused.expect_error(400, "malformed_request");
        assert!(message.contains("domain"), "{query}: {message}");
    }
    // a trial with nobody in it yet: the header alone
    let (status, _, _, csv) = download(&app, "QS", &quality).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        csv,
        "STUDYID,DOMAIN,USUBJID,QSSEQ,QSTESTCD,QSTEST,QSCAT,QSORRES,QSSTRESC,QSSTRESN,QSBLFL,QSDRVFL,VISITNUM,VISIT,QSDTC,QSDY\r\n"
    );
}

async fn the_export_page_offers_each_domain_to_clinicians_only(app: TestApp) {
    app.staff("nurse.one", "clinician").await;
    app.staff("lab.tech", "lab").await;
    let nurse = sign_in(&app, "nurse.one").await;
    let (status, html) = page(&app, "/exports", &nurse).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for domain in ["EX", "AE", "QS"] {
        assert!(
            html.contains(&format!("href=\"/api/v1/exports/sdtm?domain={domain}\"")),
            "{html}"
        );
    }
    assert!(
        html.contains("href=\"/exports\""),
        "the menu links the page"
    );
    // the download link answers the browser's session
    let response = crate::web::browser()
        .get(app.url("/api/v1/exports/sdtm?domain=AE"))
        .header(reqwest::header::COOKIE, &nurse)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .starts_with("STUDYID,DOMAIN,USUBJID,AESEQ")
    );
    let lab = sign_in(&app, "lab.tech").await;
    let (status, html) = page(&app, "/exports", &lab).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!html.contains("domain=EX"));
    let (_, home) = page(&app, "/", &lab).await;
    assert!(!home.contains("href=\"/exports\""), "no link for the lab");
}

/// The default site (Beijing) and a ward in Berlin, each with a patient
/// scored once with the DLQI at the same instant: each account exports
/// its sites' patients, each on its own site's clock.
async fn each_account_exports_the_patients_of_its_sites_on_their_clocks(app: TestApp) {
    app.clock.jump_to(at("2027-03-01T12:00:00Z"));
    let clinic = app.clinic().await;
    let (_, home_quality) = app.staff("qa.officer", "quality").await;
    let home = id(&app.patient(&clinic, "PV-H01").await);
    let admin = app.admin_token().await;
    let ward_site = id(&app
        .post(
            "/api/v1/sites",
            Some(&admin),
            json!({ "name": "Ward 3", "kind": "combined", "facility_code": "B1234",
                    "time_zone": "Europe/Berlin" }),
        )
        .await
        .expect(201));
    // accounts made now work nowhere until given a site
    let staff_at = |username: &'static str, role: &'static str, sites: Vec<&str>| {
        let admin = admin.clone();
        let sites: Vec<String> = sites.into_iter().map(str::to_owned).collect();
        let app = &app;
        async move {
            let (user, token) = app.staff(username, role).await;
            for site in sites {
                app.post(
                    &format!("/api/v1/users/{user}/sites"),
                    Some(&admin),
                    json!({ "site_id": site }),
                )
                .await
                .expect(200);
            }
            token
        }
    };
    let ward_nurse = staff_at("nurse.ward", "clinician", vec![&ward_site]).await;
    let ward_quality = staff_at("qa.ward", "quality", vec![&ward_site]).await;
    let both = staff_at(
        "qa.both",
        "quality",
        vec!["00000000-0000-7000-8000-000000000001", &ward_site],
    )
    .await;
    let nowhere = staff_at("qa.none", "quality", vec![]).await;
    let ward_clinic = Clinic {
        pharmacist: ward_nurse.clone(),
        clinician: ward_nurse.clone(),
        verifier: ward_nurse.clone(),
    };
    let ward = id(&app
        .enrol_answer(&ward_clinic, "PV-W01", crate::clinic::eligible_criteria())
        .await
        .expect(201));
    let dlqi = json!({ "kind": "dlqi", "answers": [1, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    assess(&app, &clinic, &home, dlqi.clone(), "2027-03-01T11:00:00Z").await;
    assess(&app, &ward_clinic, &ward, dlqi, "2027-03-01T11:00:00Z").await;

    // (USUBJID, QSSEQ, QSDTC) of each DLQI score row
    let scores = |csv: String| -> Vec<(String, String, String)> {
        rows(&csv)
            .into_iter()
            .skip(1)
            .filter(|r| r[4] == "DLQI111")
            .map(|r| (r[2].clone(), r[3].clone(), r[14].clone()))
            .collect()
    };
    let beijing = (
        "NCT02491658-A9999-PV-H01".to_owned(),
        "11".to_owned(),
        "2027-03-01T19:00".to_owned(),
    );
    let berlin = (
        "NCT02491658-B1234-PV-W01".to_owned(),
        "11".to_owned(),
        "2027-03-01T12:00".to_owned(),
    );
    for (token, expected) in [
        (&home_quality, vec![beijing.clone()]),
        (&ward_quality, vec![berlin.clone()]),
        (&ward_nurse, vec![berlin.clone()]),
        (&both, vec![beijing, berlin]),
        (&nowhere, vec![]),
    ] {
        let (status, _, _, csv) = download(&app, "QS", token).await;
        assert_eq!(status, StatusCode::OK, "{csv}");
        assert_eq!(scores(csv), expected);
    }
    let (_, _, _, csv) = download(&app, "QS", &nowhere).await;
    assert_eq!(rows(&csv).len(), 1, "the header alone: {csv}");
}

//! A signed correction of an adverse event's grade, term or onset: a new
//! record superseding the newest one, which stays; every reader counts the
//! event once at its current values; the list shows the corrections; each
//! refusal records nothing; and the patient page's "Correct" form, over
//! HTTP on both databases.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};

use crate::clinic::Clinic;
use crate::helpers::{STAFF_PASSWORD, TestApp};
use crate::on_both_databases;
use crate::story::{Team, id, rfc3339};
use crate::web::{browser, csrf, page, sign_in};

on_both_databases!(
    a_corrected_grade_is_counted_once_at_its_new_grade,
    a_second_correction_corrects_the_newest_record,
    a_refused_correction_changes_nothing,
    a_clinician_corrects_an_adverse_event_on_the_patient_page,
);

/// A patient given one infusion of a released lot, three days ago, with
/// an adverse event of grade 2 that began the day after: the team, the
/// clinic (signed in now), the patient, the lot, the infusion and the
/// event.
async fn reported(
    app: &TestApp,
    donor: &str,
    subject: &str,
) -> (Team, Clinic, Value, Value, Value, Value) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, donor, 6, 60).await;
    let patient = app.weighed_patient(&clinic, subject, 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let infusion = app.infuse(&clinic, &patient, &dose).await;
    app.days_later(&mut clinic, 3).await;
    let event = app
        .post(
            &format!("/api/v1/patients/{}/adverse-events", id(&patient)),
            Some(&clinic.clinician),
            json!({
                "infusion_id": id(&infusion),
                "term": "Delayed fever",
                "grade": 2,
                "onset_at": rfc3339(app.clock.now() - Duration::days(2)),
            }),
        )
        .await
        .expect(201);
    let team = app.team_again().await;
    (team, clinic, patient, lot, infusion, event)
}

fn corrections_path(patient_id: &str, event_id: &str) -> String {
    format!("/api/v1/patients/{patient_id}/adverse-events/{event_id}/corrections")
}

/// A correction's body, signed with the staff password.
fn correction(term: &str, grade: i64, onset: DateTime<Utc>, reason: &str) -> Value {
    json!({
        "term": term,
        "grade": grade,
        "onset_at": rfc3339(onset),
        "reason": reason,
        "signature": { "password": STAFF_PASSWORD, "meaning": "adverse event corrected" },
    })
}

fn onset_of(event: &Value) -> DateTime<Utc> {
    event["onset_at"].as_str().unwrap().parse().unwrap()
}

async fn events_of(app: &TestApp, token: &str, patient_id: &str) -> Vec<Value> {
    app.get(
        &format!("/api/v1/patients/{patient_id}/adverse-events"),
        Some(token),
    )
    .await
    .expect(200)
    .as_array()
    .unwrap()
    .clone()
}

/// The patient's custody events with this action.
async fn ledgered(app: &TestApp, team: &Team, patient_id: &str, action: &str) -> Vec<Value> {
    app.get(
        &format!("/api/v1/audit?subject_kind=patient&subject_id={patient_id}"),
        Some(&team.quality),
    )
    .await
    .expect(200)
    .as_array()
    .unwrap()
    .iter()
    .filter(|e| e["action"] == action)
    .cloned()
    .collect()
}

async fn by_grade(app: &TestApp, clinic: &Clinic, lot: &Value) -> Value {
    app.get(
        &format!("/api/v1/lots/{}/outcomes", id(lot)),
        Some(&clinic.clinician),
    )
    .await
    .expect(200)["totals"]["adverse_events_by_grade"]
        .clone()
}

async fn a_corrected_grade_is_counted_once_at_its_new_grade(app: TestApp) {
    let (team, clinic, patient, lot, infusion, event) = reported(&app, "UCD-9500", "PV-950").await;
    let pid = id(&patient);
    let onset = onset_of(&event);
    let corrected = app
        .post(
            &corrections_path(&pid, &id(&event)),
            Some(&clinic.clinician),
            correction(
                "Delayed fever",
                3,
                onset,
                "grade misread from the ward's note",
            ),
        )
        .await
        .expect(201);
    assert_eq!(corrected["grade"], 3);
    assert_eq!(corrected["term"], "Delayed fever");
    assert_eq!(corrected["onset_at"], event["onset_at"]);
    assert_eq!(corrected["corrected"], true);
    assert_eq!(corrected["original_id"], event["id"]);
    assert_ne!(corrected["id"], event["id"], "a correction is a new record");
    let c = &corrected["corrections"][0];
    assert_eq!(c["corrects_id"], event["id"]);
    assert_eq!(c["id"], corrected["id"]);
    assert_eq!(c["old"]["grade"], 2);
    assert_eq!(c["new"]["grade"], 3);
    assert_eq!(c["reason"], "grade misread from the ward's note");
    assert_eq!(c["corrected_by_username"], "nurse.one");
    assert_eq!(c["corrected_by_name"], "nurse.one (test)");
    assert_eq!(c["signature_meaning"], "adverse event corrected");
    assert!(c["signature_id"].is_string(), "{c}");

    // the list: the event once, at its current values, with its history
    let listed = events_of(&app, &clinic.pharmacist, &pid).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], corrected["id"]);
    assert_eq!(listed[0]["grade"], 3);
    assert_eq!(listed[0]["corrected"], true);
    assert_eq!(listed[0]["corrections"].as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["corrections"][0]["old"]["grade"], 2);
    // and so the patient's record and the infusion's
    let record = app
        .get(&format!("/api/v1/patients/{pid}"), Some(&clinic.clinician))
        .await
        .expect(200);
    let theirs = record["adverse_events"].as_array().unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["grade"], 3);
    assert_eq!(theirs[0]["corrected"], true);
    let given = app
        .get(
            &format!("/api/v1/infusions/{}", id(&infusion)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    let after_it = given["adverse_events"].as_array().unwrap();
    assert_eq!(after_it.len(), 1, "{given}");
    assert_eq!(after_it[0]["grade"], 3);

    // outcomes count it once, at grade 3; trace shows it once
    assert_eq!(
        by_grade(&app, &clinic, &lot).await,
        json!({"1": 0, "2": 0, "3": 1, "4": 0, "5": 0})
    );
    let trace = app
        .get(&format!("/api/v1/trace/lots/{}", id(&lot)), Some(&team.lab))
        .await
        .expect(200);
    let traced = trace["adverse_events"].as_array().unwrap();
    assert_eq!(traced.len(), 1, "{trace}");
    assert_eq!(traced[0]["grade"], 3);

    // the ledger holds both acts, the correction with old, new and why,
    // signed; and it still verifies
    assert_eq!(
        ledgered(&app, &team, &pid, "patient.adverse_event_recorded")
            .await
            .len(),
        1
    );
    let corrections = ledgered(&app, &team, &pid, "patient.adverse_event_corrected").await;
    assert_eq!(corrections.len(), 1);
    let details = &corrections[0]["details"];
    assert_eq!(details["corrects_id"], event["id"]);
    assert_eq!(details["adverse_event_id"], corrected["id"]);
    assert_eq!(details["old"]["grade"], 2);
    assert_eq!(details["new"]["grade"], 3);
    assert_eq!(details["reason"], "grade misread from the ward's note");
    assert_eq!(details["signature"]["signer"], "nurse.one");
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report}");
}

async fn a_second_correction_corrects_the_newest_record(app: TestApp) {
    let (team, clinic, patient, lot, _, event) = reported(&app, "UCD-9600", "PV-960").await;
    let pid = id(&patient);
    let onset = onset_of(&event);
    let first = app
        .post(
            &corrections_path(&pid, &id(&event)),
            Some(&clinic.clinician),
            correction("Cytokine release syndrome", 2, onset, "the term was wrong"),
        )
        .await
        .expect(201);
    // the first record was superseded: correcting it again is refused,
    // naming the newest
    let details = app
        .post(
            &corrections_path(&pid, &id(&event)),
            Some(&clinic.clinician),
            correction("Delayed fever", 4, onset, "again"),
        )
        .await
        .expect_error(409, "already_corrected");
    assert_eq!(details["newest_id"], first["id"]);
    assert_eq!(details["adverse_event_id"], event["id"]);
    // the newest is corrected: the onset, an hour later
    let second = app
        .post(
            &corrections_path(&pid, &id(&first)),
            Some(&clinic.clinician),
            correction(
                "Cytokine release syndrome",
                2,
                onset + Duration::hours(1),
                "began after the evening round",
            ),
        )
        .await
        .expect(201);
    assert_eq!(second["original_id"], event["id"]);
    let history = second["corrections"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["corrects_id"], event["id"]);
    assert_eq!(history[0]["old"]["term"], "Delayed fever");
    assert_eq!(history[0]["new"]["term"], "Cytokine release syndrome");
    assert_eq!(history[1]["corrects_id"], first["id"]);
    assert_eq!(history[1]["reason"], "began after the evening round");
    assert_eq!(
        onset_of(&history[1]["new"]),
        onset + Duration::hours(1),
        "{history:?}"
    );
    let listed = events_of(&app, &clinic.clinician, &pid).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], second["id"]);
    assert_eq!(listed[0]["term"], "Cytokine release syndrome");
    assert_eq!(listed[0]["corrections"].as_array().unwrap().len(), 2);
    assert_eq!(
        by_grade(&app, &clinic, &lot).await,
        json!({"1": 0, "2": 1, "3": 0, "4": 0, "5": 0})
    );
    assert_eq!(
        ledgered(&app, &team, &pid, "patient.adverse_event_corrected")
            .await
            .len(),
        2
    );
}

async fn a_refused_correction_changes_nothing(app: TestApp) {
    let (team, clinic, patient, lot, _, event) = reported(&app, "UCD-9700", "PV-970").await;
    let pid = id(&patient);
    let eid = id(&event);
    let onset = onset_of(&event);
    let now = app.clock.now();
    let path = corrections_path(&pid, &eid);
    // another patient's adverse event, after their own infusion
    let other = app.weighed_patient(&clinic, "PV-971", 40).await;
    let other_dose = app.prepared_dose(&clinic, &id(&other)).await;
    let other_infusion = app.infuse(&clinic, &other, &other_dose).await;
    app.clock.advance(Duration::minutes(30));
    let theirs = app
        .post(
            &format!("/api/v1/patients/{}/adverse-events", id(&other)),
            Some(&clinic.clinician),
            json!({ "infusion_id": id(&other_infusion), "term": "Rash", "grade": 1, "onset_at": rfc3339(app.clock.now()) }),
        )
        .await
        .expect(201);
    let before = events_of(&app, &clinic.clinician, &pid).await;
    let before_other = events_of(&app, &clinic.clinician, &id(&other)).await;
    let grades = by_grade(&app, &clinic, &lot).await;

    // wrong role, bad signature
    app.post(
        &path,
        Some(&clinic.pharmacist),
        correction("Delayed fever", 3, onset, "misread"),
    )
    .await
    .expect_error(403, "forbidden");
    let mut wrong = correction("Delayed fever", 3, onset, "misread");
    wrong["signature"]["password"] = json!("not-the-password");
    app.post(&path, Some(&clinic.clinician), wrong)
        .await
        .expect_error(401, "signature_invalid");
    // what is refused, and the field it names
    for (body, field) in [
        (
            correction("Delayed fever", 2, onset, "no change"),
            "correction",
        ),
        (
            correction("  Delayed fever ", 2, onset, "no change"),
            "correction",
        ),
        (correction("Delayed fever", 3, onset, ""), "reason"),
        (correction("Delayed fever", 3, onset, "   "), "reason"),
        (correction("Delayed fever", 0, onset, "misread"), "grade"),
        (correction("Delayed fever", 6, onset, "misread"), "grade"),
        (correction("", 3, onset, "misread"), "term"),
        (
            correction("Delayed fever", 3, now + Duration::hours(1), "misread"),
            "onset_at",
        ),
        // before the infusion it followed began (three days ago)
        (
            correction("Delayed fever", 3, now - Duration::days(4), "misread"),
            "onset_at",
        ),
    ] {
        let details = app
            .post(&path, Some(&clinic.clinician), body)
            .await
            .expect_error(422, "invalid_field");
        assert_eq!(details["field"], field, "{details}");
    }
    // another patient's event through this patient, this patient's event
    // through another, an unknown event, an unknown patient
    let nobody = uuid::Uuid::now_v7().to_string();
    for wrong_path in [
        corrections_path(&pid, &id(&theirs)),
        corrections_path(&id(&other), &eid),
        corrections_path(&pid, &nobody),
        corrections_path(&nobody, &eid),
    ] {
        app.post(
            &wrong_path,
            Some(&clinic.clinician),
            correction("Delayed fever", 3, onset, "misread"),
        )
        .await
        .expect_error(404, "not_found");
    }
    // nothing changed: the lists, the outcomes, the ledger
    assert_eq!(events_of(&app, &clinic.clinician, &pid).await, before);
    assert_eq!(
        events_of(&app, &clinic.clinician, &id(&other)).await,
        before_other
    );
    assert_eq!(before[0]["corrected"], false);
    assert_eq!(by_grade(&app, &clinic, &lot).await, grades);
    for patient_id in [&pid, &id(&other)] {
        assert!(
            ledgered(&app, &team, patient_id, "patient.adverse_event_corrected")
                .await
                .is_empty()
        );
    }
    // a superseded record: refused, and only the one correction stands
    let corrected = app
        .post(
            &path,
            Some(&clinic.clinician),
            correction("Delayed fever", 3, onset, "misread"),
        )
        .await
        .expect(201);
    let after = events_of(&app, &clinic.clinician, &pid).await;
    app.post(
        &path,
        Some(&clinic.clinician),
        correction("Delayed fever", 4, onset, "worse than read"),
    )
    .await
    .expect_error(409, "already_corrected");
    assert_eq!(events_of(&app, &clinic.clinician, &pid).await, after);
    assert_eq!(after[0]["id"], corrected["id"]);
    assert_eq!(after[0]["grade"], 3);
    assert_eq!(
        ledgered(&app, &team, &pid, "patient.adverse_event_corrected")
            .await
            .len(),
        1
    );
}

/// Posts a form as the signed-in browser (no redirect followed).
async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, String)],
) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    browser()
        .post(app.url(path))
        .header(COOKIE, cookie)
        .form(&pairs)
        .send()
        .await
        .unwrap()
}

/// The page a 303 sends the browser to.
async fn follow(app: &TestApp, cookie: &str, response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let (status, html) = page(app, &to, cookie).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    html
}

/// A date-and-time field's value for `at` in the site's time.
fn site_field(app: &TestApp, at: DateTime<Utc>) -> String {
    app.state
        .settings
        .timezone
        .iso(at)
        .chars()
        .take(16)
        .collect()
}

async fn a_clinician_corrects_an_adverse_event_on_the_patient_page(app: TestApp) {
    let (_, clinic, patient, lot, _, event) = reported(&app, "UCD-9800", "PV-980").await;
    let pid = id(&patient);
    let eid = id(&event);
    let path = format!("/patients/{pid}");
    let pharmacist = sign_in(&app, "pharm.one").await;
    let (_, html) = page(&app, &path, &pharmacist).await;
    assert!(html.contains("Delayed fever"));
    assert!(
        !html.contains("/corrections\""),
        "pharmacists do not correct"
    );
    let nurse = sign_in(&app, "nurse.one").await;
    let (_, html) = page(&app, &path, &nurse).await;
    let action = format!("/patients/{pid}/adverse-events/{eid}/corrections");
    assert!(html.contains(&action), "{html}");
    assert!(html.contains("Sign the correction"));
    let token = csrf(&html);
    // the onset as the form shows it, in minutes
    let shown = site_field(&app, onset_of(&event));
    assert!(html.contains(&format!("value=\"{shown}\"")), "{html}");
    let form = |grade: &str, reason: &str, password: &str| {
        vec![
            ("csrf", token.clone()),
            ("term", "Delayed fever".to_owned()),
            ("grade", grade.to_owned()),
            ("onset_at", shown.clone()),
            ("reason", reason.to_owned()),
            ("password", password.to_owned()),
            ("meaning", "adverse event corrected".to_owned()),
        ]
    };
    // refusals, each a sentence, none recorded
    for (fields, words) in [
        (
            form("2", "misread", STAFF_PASSWORD),
            "The correction changes nothing: change the grade, the event or when it began.",
        ),
        (
            form("3", "", STAFF_PASSWORD),
            "Say why the record is wrong, in 1 to 1000 characters.",
        ),
        (
            form("9", "misread", STAFF_PASSWORD),
            "Choose a CTCAE grade from 1 to 5.",
        ),
        (
            form("3", "misread", "not-the-password"),
            "lectronic signature refused",
        ),
    ] {
        let html = follow(
            &app,
            &nurse,
            post_form(&app, &action, &nurse, &fields).await,
        )
        .await;
        assert!(html.contains(words), "{words}: {html}");
    }
    let listed = events_of(&app, &clinic.clinician, &pid).await;
    assert_eq!(listed[0]["corrected"], false, "nothing was corrected");
    // grade 2 → 3, the onset left as shown: kept to the second
    let html = follow(
        &app,
        &nurse,
        post_form(
            &app,
            &action,
            &nurse,
            &form("3", "grade misread from the ward's note", STAFF_PASSWORD),
        )
        .await,
    )
    .await;
    assert!(
        html.contains("Adverse event corrected: Delayed fever, grade 3."),
        "{html}"
    );
    assert!(
        html.contains("Corrected: grade 2 → 3, by nurse.one (test), at "),
        "{html}"
    );
    assert!(
        html.contains("because: grade misread from the ward's note"),
        "{html}"
    );
    let listed = events_of(&app, &clinic.clinician, &pid).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["grade"], 3);
    assert_eq!(listed[0]["onset_at"], event["onset_at"]);
    assert_eq!(
        by_grade(&app, &clinic, &lot).await,
        json!({"1": 0, "2": 0, "3": 1, "4": 0, "5": 0})
    );
    // the form of the superseded record, sent again: said in words
    let html = follow(
        &app,
        &nurse,
        post_form(&app, &action, &nurse, &form("4", "worse", STAFF_PASSWORD)).await,
    )
    .await;
    assert!(html.contains("This record was corrected since"), "{html}");
    assert_eq!(events_of(&app, &clinic.clinician, &pid).await, listed);
    // in Chinese: the correction as a correction, the refusal in words
    app.put(
        "/api/v1/users/me/preferences",
        Some(&clinic.clinician),
        json!({"language": "zh-CN"}),
    )
    .await
    .expect(200);
    let nurse = sign_in(&app, "nurse.one").await;
    let (_, html) = page(&app, &path, &nurse).await;
    assert!(
        html.contains("已更正：分级 2 → 3；更正人 nurse.one (test)"),
        "{html}"
    );
    assert!(html.contains("签名并更正"), "{html}");
    let token = csrf(&html);
    let fields = [
        ("csrf", token),
        ("term", "Delayed fever".to_owned()),
        ("grade", "4".to_owned()),
        ("onset_at", shown.clone()),
        ("reason", "worse".to_owned()),
        ("password", STAFF_PASSWORD.to_owned()),
        ("meaning", "adverse event corrected".to_owned()),
    ];
    let html = follow(
        &app,
        &nurse,
        post_form(&app, &action, &nurse, &fields).await,
    )
    .await;
    assert!(html.contains("此记录此后已被更正"), "{html}");
    assert_eq!(events_of(&app, &clinic.clinician, &pid).await, listed);
}

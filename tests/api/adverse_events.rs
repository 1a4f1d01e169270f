//! Adverse events as their own act, the enrolment weight asked about by
//! the service, and the patient's page (visits, the adverse-event form, the
//! wristband to print), over HTTP on both databases. Every refusal records
//! nothing (checked through the API) and, on a page, says why in words;
//! one page is read in Chinese.

use chrono::Duration;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};

use crate::clinic::{Clinic, eligible_criteria};
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::printing::{PrintRoom, with_printers};
use crate::story::{Team, id, rfc3339};
use crate::web::{browser, csrf, page, sign_in};

on_both_databases!(
    an_adverse_event_days_after_the_infusion_reaches_trace_and_outcomes,
    a_refused_adverse_event_records_nothing,
    a_doubtful_enrolment_weight_is_asked_about_then_confirmed,
    a_clinician_records_an_adverse_event_on_the_patient_page,
    the_patient_page_lists_the_visits_by_the_clock,
    the_patient_page_speaks_chinese,
);

with_printers!(the_patient_page_offers_the_wristband_to_print);

/// A patient weighed 40 kg, given one infusion of a released lot: the
/// team, the clinic, the patient, the lot and the infusion.
async fn infused(app: &TestApp, donor: &str, subject: &str) -> (Team, Clinic, Value, Value, Value) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, donor, 6, 60).await;
    let patient = app.weighed_patient(&clinic, subject, 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let infusion = app.infuse(&clinic, &patient, &dose).await;
    (team, clinic, patient, lot, infusion)
}

fn adverse_event<'a>(
    app: &'a TestApp,
    token: &str,
    patient_id: &str,
    body: Value,
) -> impl Future<Output = crate::helpers::Answer> + use<'a> {
    app.post(
        &format!("/api/v1/patients/{patient_id}/adverse-events"),
        Some(token),
        body,
    )
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

async fn an_adverse_event_days_after_the_infusion_reaches_trace_and_outcomes(app: TestApp) {
    let (_, mut clinic, patient, lot, infusion) = infused(&app, "UCD-9100", "PV-910").await;
    let pid = id(&patient);
    // reported three days later, begun the day after the infusion
    app.days_later(&mut clinic, 3).await;
    let onset = app.clock.now() - Duration::days(2);
    let recorded = adverse_event(
        &app,
        &clinic.clinician,
        &pid,
        json!({ "infusion_id": id(&infusion), "term": "  Delayed fever ", "grade": 2, "onset_at": rfc3339(onset) }),
    )
    .await
    .expect(201);
    assert_eq!(recorded["term"], "Delayed fever");
    assert_eq!(recorded["grade"], 2);
    assert_eq!(recorded["infusion_id"], infusion["id"]);
    // a grade that changes is a new record; the first stays as it was
    adverse_event(
        &app,
        &clinic.clinician,
        &pid,
        json!({ "infusion_id": id(&infusion), "term": "Delayed fever", "grade": 3, "onset_at": rfc3339(app.clock.now()) }),
    )
    .await
    .expect(201);
    let listed = events_of(&app, &clinic.pharmacist, &pid).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["id"], recorded["id"]);
    assert_eq!(listed[0]["grade"], 2);
    assert_eq!(listed[1]["grade"], 3);
    let record = app
        .get(&format!("/api/v1/patients/{pid}"), Some(&clinic.clinician))
        .await
        .expect(200);
    assert_eq!(record["adverse_events"].as_array().unwrap().len(), 2);
    // trace and outcomes relate it to the lot through the infusion
    let team = app.team_again().await;
    let trace = app
        .get(&format!("/api/v1/trace/lots/{}", id(&lot)), Some(&team.lab))
        .await
        .expect(200);
    let traced = trace["adverse_events"].as_array().unwrap();
    assert_eq!(traced.len(), 2, "{trace}");
    assert!(trace.to_string().contains("Delayed fever"));
    let outcomes = app
        .get(
            &format!("/api/v1/lots/{}/outcomes", id(&lot)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    assert_eq!(
        outcomes["totals"]["adverse_events_by_grade"],
        json!({"1": 0, "2": 1, "3": 1, "4": 0, "5": 0})
    );
    // the custody event is in the ledger, which still verifies
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report}");
}

async fn a_refused_adverse_event_records_nothing(app: TestApp) {
    let (_, clinic, patient, _, infusion) = infused(&app, "UCD-9200", "PV-920").await;
    let pid = id(&patient);
    let other = app.weighed_patient(&clinic, "PV-921", 40).await;
    let now = app.clock.now();
    let body = |term: &str, grade: i64, onset: chrono::DateTime<chrono::Utc>| json!({ "infusion_id": id(&infusion), "term": term, "grade": grade, "onset_at": rfc3339(onset) });
    for (sent, field) in [
        (body("Fever", 0, now), "grade"),
        (body("Fever", 6, now), "grade"),
        (body("   ", 2, now), "term"),
        (body(&"x".repeat(201), 2, now), "term"),
        (body("Fever", 2, now + Duration::hours(1)), "onset_at"),
        // before the infusion it follows began
        (body("Fever", 2, now - Duration::hours(2)), "onset_at"),
    ] {
        let details = adverse_event(&app, &clinic.clinician, &pid, sent)
            .await
            .expect_error(422, "invalid_field");
        assert_eq!(details["field"], field, "{details}");
    }
    // another patient's infusion
    let details = adverse_event(&app, &clinic.clinician, &id(&other), body("Fever", 2, now))
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(details["field"], "infusion_id");
    // unknown patient, unknown infusion
    let nobody = uuid::Uuid::now_v7().to_string();
    adverse_event(&app, &clinic.clinician, &nobody, body("Fever", 2, now))
        .await
        .expect_error(404, "not_found");
    app.get(
        &format!("/api/v1/patients/{nobody}/adverse-events"),
        Some(&clinic.clinician),
    )
    .await
    .expect_error(404, "not_found");
    adverse_event(
        &app,
        &clinic.clinician,
        &pid,
        json!({ "infusion_id": nobody, "term": "Fever", "grade": 2, "onset_at": rfc3339(now) }),
    )
    .await
    .expect_error(404, "not_found");
    // a pharmacist does not record adverse events
    adverse_event(&app, &clinic.pharmacist, &pid, body("Fever", 2, now))
        .await
        .expect_error(403, "forbidden");
    assert!(events_of(&app, &clinic.clinician, &pid).await.is_empty());
    assert!(
        events_of(&app, &clinic.clinician, &id(&other))
            .await
            .is_empty()
    );
}

fn enrolment(app: &TestApp, code: &str, kg: Value, confirm: Option<bool>) -> Value {
    let mut body = json!({
        "subject_code": code,
        "birth_date": "1980-05-17",
        "sex": "female",
        "enrolled_at": rfc3339(app.days_ago(1)),
        "baseline_pasi": 14.2,
        "criteria": eligible_criteria(),
        "weight": { "value": kg, "unit": "kg" },
        "height_cm": 160,
    });
    if let Some(confirm) = confirm {
        body["confirm_weight"] = json!(confirm);
    }
    body
}

async fn a_doubtful_enrolment_weight_is_asked_about_then_confirmed(app: TestApp) {
    let clinic = app.clinic().await;
    let enrol = |body: Value| app.post("/api/v1/patients", Some(&clinic.clinician), body);
    // 70 kg is 154 lb; typed as 154 kg at 160 cm the body-mass index is
    // 154 000 × 10 000 ÷ 1600² = 601 tenths, above the protocol's 60
    let answer = enrol(enrolment(&app, "PV-930", json!(154), None)).await;
    let message = answer.body["error"]["message"].as_str().unwrap().to_owned();
    let details = answer.expect_error(422, "weight_change_unconfirmed");
    assert_eq!(details["weight_g"], 154_000);
    assert_eq!(details["concerns"][0]["reason"], "bmi");
    assert_eq!(details["concerns"][0]["bmi_tenths"], 601);
    assert_eq!(
        details["likely_slip"],
        "was it typed in pounds? 154 lb would be 69.9 kg"
    );
    assert!(message.contains("body-mass index"), "{message}");
    let enrolled = app
        .get("/api/v1/patients", Some(&clinic.clinician))
        .await
        .expect(200);
    assert!(enrolled["items"].as_array().unwrap().is_empty());
    // saying no is the same as not saying
    enrol(enrolment(&app, "PV-930", json!(154), Some(false)))
        .await
        .expect_error(422, "weight_change_unconfirmed");
    let patient = enrol(enrolment(&app, "PV-930", json!(154), Some(true)))
        .await
        .expect(201);
    assert_eq!(patient["enrolment_weight"]["weight_g"], 154_000);
    // a plausible weight needs no confirmation
    let patient = enrol(enrolment(&app, "PV-931", json!(64.5), None))
        .await
        .expect(201);
    assert_eq!(patient["enrolment_weight"]["weight_g"], 64_500);
}

/// Posts a form as the signed-in browser (no redirect followed).
async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    browser()
        .post(app.url(path))
        .header(COOKIE, cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// Posts a form of owned values.
async fn send(
    app: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, String)],
) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    post_form(app, path, cookie, &pairs).await
}

/// Where a 303 goes, and that page as the browser then shows it.
async fn follow(app: &TestApp, cookie: &str, response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let (status, html) = page(app, &to, cookie).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    html
}

/// A date-and-time field's value for `at` in the site's time.
fn site_field(app: &TestApp, at: chrono::DateTime<chrono::Utc>) -> String {
    app.state
        .settings
        .timezone
        .iso(at)
        .chars()
        .take(16)
        .collect()
}

async fn a_clinician_records_an_adverse_event_on_the_patient_page(app: TestApp) {
    let (_, clinic, patient, _, infusion) = infused(&app, "UCD-9400", "PV-940").await;
    // reported two hours after the infusion began
    app.clock.advance(Duration::hours(2));
    let pid = id(&patient);
    let path = format!("/patients/{pid}");
    let pharmacist = sign_in(&app, "pharm.one").await;
    let (_, html) = page(&app, &path, &pharmacist).await;
    assert!(
        !html.contains("Record an adverse event"),
        "pharmacists do not"
    );
    let nurse = sign_in(&app, "nurse.one").await;
    let (_, html) = page(&app, &path, &nurse).await;
    assert!(html.contains("Record an adverse event"), "{html}");
    assert!(html.contains("Grade 4: life-threatening"));
    let token = csrf(&html);
    let infusion_id = id(&infusion);
    let onset = site_field(&app, app.clock.now());
    let form = |term: &'static str, grade: &'static str, onset: String| {
        vec![
            ("csrf", token.clone()),
            ("infusion_id", infusion_id.clone()),
            ("term", term.to_owned()),
            ("grade", grade.to_owned()),
            ("onset_at", onset),
        ]
    };
    let to = format!("/patients/{pid}/adverse-events");
    // refusals, each in words, none recorded
    let before = site_field(&app, app.clock.now() - Duration::hours(3));
    let later = site_field(&app, app.clock.now() + Duration::hours(3));
    for (fields, words) in [
        (
            form("Fever", "", onset.clone()),
            "Choose a CTCAE grade from 1 to 5.",
        ),
        (
            form("", "2", onset.clone()),
            "Say what the event is, in 1 to 200 characters.",
        ),
        (
            form("Fever", "2", "yesterday".into()),
            "Give when the event began, as a date and time.",
        ),
        (
            form("Fever", "2", later),
            "When the event began cannot be in the future.",
        ),
        (
            form("Fever", "2", before),
            "The event cannot have begun before the infusion it followed started",
        ),
    ] {
        let html = follow(&app, &nurse, send(&app, &to, &nurse, &fields).await).await;
        assert!(html.contains(words), "{words}: {html}");
        assert!(!html.contains("invalid_field") && !html.contains("is in the future"));
    }
    assert!(events_of(&app, &clinic.clinician, &pid).await.is_empty());
    // recorded, said, listed with its infusion, and in the page's history
    let fields = form("Headache", "1", onset);
    let html = follow(&app, &nurse, send(&app, &to, &nurse, &fields).await).await;
    assert!(
        html.contains("Adverse event recorded: Headache, grade 1."),
        "{html}"
    );
    assert!(
        html.contains("Adverse event recorded</"),
        "the history names the act: {html}"
    );
    let events = events_of(&app, &clinic.clinician, &pid).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["term"], "Headache");
    assert_eq!(events[0]["infusion_id"], infusion["id"]);
}

async fn the_patient_page_lists_the_visits_by_the_clock(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-9500", 6, 120).await;
    let patient = app.weighed_patient(&clinic, "PV-950", 40).await;
    let pid = id(&patient);
    let path = format!("/patients/{pid}");
    let nurse = sign_in(&app, "nurse.one").await;
    let (_, html) = page(&app, &path, &nurse).await;
    assert!(html.contains("No visit is scheduled yet"), "{html}");
    let dose = app.prepared_dose(&clinic, &pid).await;
    app.infuse(&clinic, &patient, &dose).await;
    let zone = app.state.settings.timezone;
    let day1 = zone.date(app.clock.now());
    let window = |from: i64, to: i64| {
        format!(
            "{} to {}",
            day1 + Duration::days(from),
            day1 + Duration::days(to)
        )
    };
    let states = |html: &str| -> Vec<String> {
        html.split("<tr class=\"visit\">")
            .skip(1)
            .map(|row| {
                let at = row.find("class=\"pill").unwrap();
                let rest = &row[at..];
                let start = rest.find('>').unwrap() + 1;
                let end = rest.find("</span>").unwrap();
                rest[start..end].to_owned()
            })
            .collect()
    };
    let (_, html) = page(&app, &path, &nurse).await;
    assert!(html.contains("Visits"));
    assert!(html.contains(&window(-28, 0)), "baseline: {html}");
    assert!(html.contains(&window(21, 35)), "week 4");
    assert!(html.contains(&window(336, 392)), "week 52");
    // the PASI at enrolment counts; the DLQI is still to do
    assert_eq!(
        states(&html),
        [
            "due", "upcoming", "upcoming", "upcoming", "upcoming", "upcoming"
        ]
    );
    app.post(
        &format!("/api/v1/patients/{pid}/assessments"),
        Some(&clinic.clinician),
        json!({ "kind": "dlqi", "assessed_at": rfc3339(app.clock.now()), "answers": [1, 0, 0, 1, 0, 0, 0, 0, 0, 0] }),
    )
    .await
    .expect(201);
    let (_, html) = page(&app, &path, &nurse).await;
    assert_eq!(states(&html)[0], "done");
    // Day 29 is week 4's date; then past it, then past its window
    for (days, week4) in [(28, "due"), (6, "overdue"), (2, "missed")] {
        app.days_later(&mut clinic, days).await;
        let nurse = sign_in(&app, "nurse.one").await;
        let (_, html) = page(&app, &path, &nurse).await;
        let seen = states(&html);
        assert_eq!(seen[0], "done");
        assert_eq!(seen[1], week4, "{days}: {seen:?}");
        assert_eq!(seen[2], "upcoming");
    }
}

async fn the_patient_page_speaks_chinese(app: TestApp) {
    let (_, clinic, patient, _, infusion) = infused(&app, "UCD-9600", "PV-960").await;
    app.put(
        "/api/v1/users/me/preferences",
        Some(&clinic.clinician),
        json!({"language": "zh-CN"}),
    )
    .await
    .expect(200);
    let nurse = sign_in(&app, "nurse.one").await;
    let path = format!("/patients/{}", id(&patient));
    let (status, html) = page(&app, &path, &nurse).await;
    assert_eq!(status, StatusCode::OK);
    for words in [
        "随访",
        "基线",
        "待完成",
        "未到期",
        "记录不良事件",
        "4 级：危及生命",
        "PV-960",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    let fields = [
        ("csrf", csrf(&html)),
        ("infusion_id", id(&patient)),
        ("term", "发热".to_owned()),
        ("grade", "2".to_owned()),
        ("onset_at", site_field(&app, app.clock.now())),
    ];
    let response = send(&app, &format!("{path}/adverse-events"), &nurse, &fields).await;
    let html = follow(&app, &nurse, response).await;
    assert!(html.contains("请选择该患者的一次输注"), "{html}");
    assert!(
        events_of(&app, &clinic.clinician, &id(&patient))
            .await
            .is_empty()
    );
    // at once, with the onset the form offers: never before the infusion
    let offered = {
        let at = html.find("name=\"onset_at\"").unwrap();
        let rest = &html[at..];
        let at = rest.find("value=\"").unwrap() + 7;
        rest[at..at + 16].to_owned()
    };
    let fields = [
        ("csrf", csrf(&html)),
        ("infusion_id", id(&infusion)),
        ("term", "发热".to_owned()),
        ("grade", "2".to_owned()),
        ("onset_at", offered),
    ];
    let response = send(&app, &format!("{path}/adverse-events"), &nurse, &fields).await;
    let html = follow(&app, &nurse, response).await;
    assert!(html.contains("已记录不良事件：发热，2 级。"), "{html}");
    assert_eq!(
        events_of(&app, &clinic.clinician, &id(&patient))
            .await
            .len(),
        1
    );
}

async fn the_patient_page_offers_the_wristband_to_print(room: PrintRoom) {
    let app = &room.app;
    let clinic = app.clinic().await;
    let patient = app.patient(&clinic, "PV-970").await;
    let nurse = sign_in(app, "nurse.one").await;
    let (_, html) = page(app, &format!("/patients/{}", id(&patient)), &nurse).await;
    assert!(html.contains("action=\"/print\""), "{html}");
    assert!(html.contains("name=\"kind\" value=\"wristband\""));
    assert!(html.contains(&format!("name=\"id\" value=\"{}\"", id(&patient))));
    assert!(html.contains("lab-zebra"));
}

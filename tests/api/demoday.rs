//! The demo leaves a day in progress, with work on every role's home, and
//! no page suggests an act the protocol forbids: a finished course or a
//! closed window is said in words, with nothing to weigh or order.

use serde_json::{Value, json};

use celltrail::services::worklist;

use crate::helpers::{TestApp, token_of};
use crate::on_both_databases;
use crate::story::{id, rfc3339};
use crate::web::{page, post_sign_in, sign_in};

on_both_databases!(
    the_demo_leaves_a_day_in_progress_with_work_for_every_role,
    a_closed_course_is_said_in_words_with_nothing_to_weigh_or_order,
);

/// A demo account's session cookie, signed in through the form.
async fn demo_session(app: &TestApp, username: &str) -> String {
    let password = celltrail::demo::ACCOUNTS
        .iter()
        .find(|(u, _, _)| *u == username)
        .map(|(_, _, p)| *p)
        .unwrap();
    let response = post_sign_in(
        app,
        &[
            ("username", username),
            ("password", password),
            ("next", "/scan"),
        ],
    )
    .await;
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let cookie = response.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn demo_token(app: &TestApp, username: &str) -> String {
    let password = celltrail::demo::ACCOUNTS
        .iter()
        .find(|(u, _, _)| *u == username)
        .map(|(_, _, p)| *p)
        .unwrap();
    token_of(app.login(username, password).await)
}

async fn home(app: &TestApp, cookie: &str) -> String {
    let (status, html) = page(app, "/", cookie).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("What needs doing"), "{html}");
    html
}

/// The text of the `<section>` whose heading is `heading`.
fn section<'a>(html: &'a str, heading: &str) -> &'a str {
    let at = html
        .find(&format!("<h2>{heading}</h2>"))
        .unwrap_or_else(|| panic!("no section {heading:?} in {html}"));
    let end = html[at..].find("</section>").map_or(html.len(), |e| at + e);
    &html[at..end]
}

async fn the_demo_leaves_a_day_in_progress_with_work_for_every_role(app: TestApp) {
    let started = std::time::Instant::now();
    let summary = celltrail::demo::load(&app.state).await.unwrap();
    eprintln!("demo loaded in {:.1} s", started.elapsed().as_secs_f64());
    // most courses finished, four in progress today (3 doses open, 1 due)
    assert_eq!(summary.patients, 30);
    assert_eq!(summary.infusions, 26 * 6 + 4 + 3 + 2 + 1);
    assert_eq!(summary.doses_in_progress, 3);
    assert_eq!((summary.donors, summary.lots, summary.vials), (7, 6, 912));
    // the second site: a shipment received there, and one excursion of its
    // tank holding the six vials it brought
    {
        use sea_orm::EntityTrait;
        let shipments = celltrail::entities::shipment::Entity::find()
            .all(app.state.db.conn())
            .await
            .unwrap();
        assert_eq!(shipments.len(), 1);
        assert_eq!(shipments[0].status.as_str(), "received");
        let holds = celltrail::entities::hold::Entity::find()
            .all(app.state.db.conn())
            .await
            .unwrap();
        assert_eq!(holds.len(), 1, "one excursion");
        let held = celltrail::entities::hold_vial::Entity::find()
            .all(app.state.db.conn())
            .await
            .unwrap();
        assert_eq!(held.len(), 6, "the six vials the shipment brought");
    }

    // what each home is made of
    let list = worklist::load(
        &app.state,
        &celltrail::services::lists::SiteScope::Everywhere,
    )
    .await
    .unwrap();
    assert_eq!(list.awaiting_release.len(), 1);
    assert_eq!(list.awaiting_release[0].code, summary.quarantine_lot);
    assert_eq!(list.awaiting_release[0].vials, 40);
    assert_eq!(list.unstored_vials, 40);
    assert_eq!(list.quarantine_vials, 40);
    // the thawed vials belong to doses going ahead: none is waste
    assert_eq!(list.thawed_vials, 0);
    let open: Vec<(&str, &str)> = list
        .open_doses
        .iter()
        .map(|d| (d.subject_code.as_str(), d.status.as_str()))
        .collect();
    assert_eq!(
        open.len(),
        3,
        "{open:?}: one verified, one thawed, one reserved"
    );
    for expected in [
        ("PV-028", "thawed"),
        ("PV-029", "reserved"),
        ("PV-030", "verified"),
    ] {
        assert!(open.contains(&expected), "{expected:?} in {open:?}");
    }
    let day = worklist::clinic_day(
        &app.state,
        &celltrail::services::lists::SiteScope::Everywhere,
    )
    .await
    .unwrap();
    let due: Vec<(&str, i32, bool)> = day
        .infusions_due
        .iter()
        .map(|d| {
            (
                d.subject_code.as_str(),
                d.infusion_number,
                d.current_weight_g.is_some(),
            )
        })
        .collect();
    assert_eq!(due, vec![("PV-027", 5, true)]);
    let visits = celltrail::services::visits::to_do_today(
        &app.state,
        &celltrail::services::lists::SiteScope::Everywhere,
    )
    .await
    .unwrap();
    let follow_ups: Vec<(&str, i32)> = visits
        .visits
        .iter()
        .filter(|v| v.visit.week > 0)
        .map(|v| (v.subject_code.as_str(), v.visit.week))
        .collect();
    assert_eq!(follow_ups, vec![("PV-028", 4)]);
    let due = &visits
        .visits
        .iter()
        .find(|v| v.visit.week == 4)
        .unwrap()
        .visit;
    assert_eq!(Some(due.date), visits.today, "due today");
    assert_eq!(due.missing.len(), 2, "PASI and DLQI");

    // and the homes show it
    let lab = home(&app, &demo_session(&app, "lab.demo").await).await;
    let lab_card = section(&lab, "Vials that need the lab");
    assert!(
        lab_card.contains("<td>Frozen, not in a box yet: to store</td><td class=\"num\">40</td>"),
        "{lab_card}"
    );
    assert!(lab_card.contains(&summary.quarantine_lot), "{lab_card}");
    let quality = home(&app, &demo_session(&app, "quality.demo").await).await;
    assert!(
        section(&quality, "Lots awaiting release").contains(&summary.quarantine_lot),
        "{quality}"
    );
    let pharmacist_cookie = demo_session(&app, "pharmacist.demo").await;
    let pharmacist = home(&app, &pharmacist_cookie).await;
    let to_prepare = section(&pharmacist, "Doses to prepare or verify");
    for subject in ["PV-028", "PV-029"] {
        assert!(to_prepare.contains(subject), "{to_prepare}");
    }
    assert!(!to_prepare.contains("PV-030"), "verified: the nurse's now");
    let due_card = section(&pharmacist, "Infusions that may be given today");
    assert!(due_card.contains("PV-027"), "{due_card}");
    assert!(due_card.contains("Dose worksheet"), "{due_card}");
    assert!(!due_card.contains("PV-001"), "a finished course is not due");
    let clinician_cookie = demo_session(&app, "clinician.demo").await;
    let clinician = home(&app, &clinician_cookie).await;
    let follow_card = section(&clinician, "Follow-up assessments due");
    assert!(
        follow_card.contains("PV-028") && follow_card.contains("Week 4"),
        "{follow_card}"
    );
    assert!(follow_card.contains("PASI and DLQI"), "{follow_card}");
    assert!(
        section(&clinician, "Doses ready at the bedside").contains("PV-030"),
        "{clinician}"
    );

    // the quarantine lot waits for its QC: quality cannot release it yet
    let quality_token = demo_token(&app, "quality.demo").await;
    let lot = app
        .post(
            "/api/v1/scan",
            Some(&quality_token),
            json!({ "payload": format!("CT1:L:{}", summary.quarantine_lot) }),
        )
        .await
        .expect(200);
    assert_eq!(lot["status"], "quarantine");
    let refused = app
        .post(
            &format!("/api/v1/lots/{}/release", id(&lot)),
            Some(&quality_token),
            json!({"signature": {"password": "demo-quality-password", "meaning": "release"}}),
        )
        .await
        .expect_error(422, "qc_incomplete");
    for test in ["sterility", "mycoplasma", "endotoxin"] {
        assert!(
            refused["missing"]
                .as_array()
                .unwrap()
                .contains(&json!(test)),
            "{refused}"
        );
    }

    // the day can be carried on by the demo accounts, two-person rule kept:
    // the pharmacist who counted cannot verify, the second pharmacist can
    let thawed = list
        .open_doses
        .iter()
        .find(|d| d.status.as_str() == "thawed")
        .unwrap();
    let verify = format!("/api/v1/doses/{}/verify", thawed.id);
    let counter = demo_token(&app, "pharmacist.demo").await;
    app.post(
        &verify,
        Some(&counter),
        json!({"signature": {"password": "demo-pharmacist-password", "meaning": "dose verified"}}),
    )
    .await
    .expect_error(422, "same_person");
    let verifier = demo_token(&app, "verifier.demo").await;
    let verified = app
        .post(
            &verify,
            Some(&verifier),
            json!({"signature": {"password": "demo-verifier-password", "meaning": "dose verified"}}),
        )
        .await
        .expect(200);
    assert_eq!(verified["status"], "verified");
    // the patient due today gets a dose ordered from the current weight
    let ordered = app
        .post(
            "/api/v1/doses",
            Some(&counter),
            json!({ "patient_id": day.infusions_due[0].patient_id }),
        )
        .await
        .expect(201);
    assert_eq!(ordered["infusion_number"], 5);
    // the dose verified this morning is given at the bedside
    let ready = list
        .open_doses
        .iter()
        .find(|d| d.status.as_str() == "verified")
        .unwrap();
    let nurse = demo_token(&app, "clinician.demo").await;
    app.post(
        "/api/v1/infusions",
        Some(&nurse),
        json!({
            "dose_id": ready.id,
            "patient_scan": "CT1:P:PV-030",
            "product_scan": format!("CT1:D:{}", ready.code),
            "started_at": rfc3339(app.clock.now()),
        }),
    )
    .await
    .expect(201);

    // a finished course: said in words, nothing to weigh or order
    let patients = app.get("/api/v1/patients", Some(&nurse)).await.expect(200);
    let finished = patients["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["subject_code"] == "PV-001")
        .unwrap();
    let pid = id(finished);
    let (_, worksheet) = page(&app, &format!("/patients/{pid}/dose"), &pharmacist_cookie).await;
    assert!(
        worksheet.contains("The course is finished: all 6 infusions were given, the last on 20"),
        "{worksheet}"
    );
    assert_nothing_to_weigh_or_order(&worksheet, &pid);
    let (_, patient_page) = page(&app, &format!("/patients/{pid}"), &pharmacist_cookie).await;
    assert!(
        patient_page.contains("The course is finished"),
        "{patient_page}"
    );
    assert_nothing_to_weigh_or_order(&patient_page, &pid);
    let (_, nurse_page) = page(&app, &format!("/patients/{pid}"), &clinician_cookie).await;
    assert!(
        !nurse_page.contains(&format!("action=\"/patients/{pid}/weights\"")),
        "no weight to record for a finished course"
    );
    let (_, scanned) = page(&app, "/scan?q=CT1%3AP%3APV-001", &pharmacist_cookie).await;
    assert!(scanned.contains("6 of 6 infusions given"), "{scanned}");
    assert!(!scanned.contains("Dose worksheet"), "{scanned}");
    // and the API refuses what the page does not offer
    app.post(
        "/api/v1/doses",
        Some(&counter),
        json!({ "patient_id": pid }),
    )
    .await
    .expect_error(422, "infusion_limit_reached");
}

fn assert_nothing_to_weigh_or_order(html: &str, patient_id: &str) {
    for forbidden in [
        "Reserve vials",
        "weigh the patient again",
        "Dose worksheet</a>",
        &format!("action=\"/patients/{patient_id}/dose\""),
    ] {
        assert!(!html.contains(forbidden), "{forbidden:?} in {html}");
    }
}

/// One infusion given, then: the next day the worksheet says when the next
/// may be given; on that day it offers the vials; once the window has
/// closed it says so, with nothing to weigh or order.
async fn a_closed_course_is_said_in_words_with_nothing_to_weigh_or_order(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-8600", 8, 300).await;
    let patient: Value = app.weighed_patient(&clinic, "PV-860", 40).await;
    let pid = id(&patient);
    let dose = app.prepared_dose(&clinic, &pid).await;
    app.infuse(&clinic, &patient, &dose).await;

    app.days_later(&mut clinic, 1).await;
    app.weigh(&clinic, &pid, json!(40), "kg", 1)
        .await
        .expect(201);
    let cookie = sign_in(&app, "pharm.one").await;
    let (_, sheet) = page(&app, &format!("/patients/{pid}/dose"), &cookie).await;
    assert!(sheet.contains("the next may be given from"), "{sheet}");
    assert_nothing_to_weigh_or_order(&sheet, &pid);
    let (_, patient_page) = page(&app, &format!("/patients/{pid}"), &cookie).await;
    assert!(
        !patient_page.contains("Dose worksheet</a>"),
        "{patient_page}"
    );
    app.order(&clinic, &pid).await.expect_error(422, "too_soon");

    // seven days after the first, the worksheet offers the vials
    app.days_later(&mut clinic, 6).await;
    let cookie = sign_in(&app, "pharm.one").await;
    let (_, sheet) = page(&app, &format!("/patients/{pid}/dose"), &cookie).await;
    assert!(sheet.contains("Reserve vials"), "{sheet}");
    assert!(!sheet.contains("course-status"), "{sheet}");
    let (_, patient_page) = page(&app, &format!("/patients/{pid}"), &cookie).await;
    assert!(
        patient_page.contains("Dose worksheet</a>"),
        "{patient_page}"
    );

    // after Day 56 the window is closed: words, no weight, no order
    app.days_later(&mut clinic, 50).await;
    app.weigh(&clinic, &pid, json!(40), "kg", 1)
        .await
        .expect(201);
    let cookie = sign_in(&app, "pharm.one").await;
    let (_, sheet) = page(&app, &format!("/patients/{pid}/dose"), &cookie).await;
    assert!(
        sheet.contains("The infusion window closed after Day 56")
            && sheet.contains("1 of 6 infusions were given, the last on"),
        "{sheet}"
    );
    assert_nothing_to_weigh_or_order(&sheet, &pid);
    let (_, patient_page) = page(&app, &format!("/patients/{pid}"), &cookie).await;
    assert!(
        patient_page.contains("The infusion window closed"),
        "{patient_page}"
    );
    assert_nothing_to_weigh_or_order(&patient_page, &pid);
    let nurse = sign_in(&app, "nurse.one").await;
    let (_, nurse_page) = page(&app, &format!("/patients/{pid}"), &nurse).await;
    assert!(
        !nurse_page.contains(&format!("action=\"/patients/{pid}/weights\"")),
        "{nurse_page}"
    );
    app.order(&clinic, &pid)
        .await
        .expect_error(422, "outside_window");
}

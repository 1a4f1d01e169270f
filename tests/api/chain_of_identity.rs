//! The ISBT 128 Chain of Identity identifier on both databases: given at
//! enrolment by the patient's site (its FIN, the year of issue, the next
//! sequence of that facility and year), unique however enrolments race,
//! found by search, shown on the patient, the dose, the bag label and the
//! trace beside the DIN, in both languages; patients enrolled before
//! identifiers existed get theirs when the service starts, each ledgered.

use celltrail::entities::patient;
use chrono::{Datelike, Duration};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::clinic::{Clinic, eligible_criteria};
use crate::helpers::{ADMIN_PASSWORD, TestApp};
use crate::on_both_databases;
use crate::story::{id, rfc3339};
use crate::web::{page, sign_in};

on_both_databases!(
    an_identifier_is_given_at_enrolment_from_the_sites_fin_and_year,
    sequences_increase_per_site_and_start_again_each_year,
    two_enrolments_racing_get_distinct_identifiers,
    a_patient_is_found_by_their_identifier_and_a_wrong_check_character_is_refused,
    the_dose_its_bag_label_and_the_trace_carry_the_identifier_beside_the_din,
    patient_and_dose_pages_show_the_identifier_in_both_languages,
    patients_enrolled_before_identifiers_get_one_at_start_each_ledgered,
    an_identifier_changed_behind_the_services_back_is_named_by_the_ledger_check,
);

/// ISO/IEC 7064 MOD 37-2, written again here so the test does not trust
/// the code it checks.
fn check_character(data: &str) -> char {
    const SET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";
    let sum = data.bytes().fold(0u32, |sum, b| {
        let value = SET.iter().position(|c| *c == b).expect("an ISBT character") as u32;
        ((sum + value) * 2) % 37
    });
    char::from(SET[((38 - sum) % 37) as usize])
}

/// The two digits of this year in Beijing (UTC+8, the tests' site zone).
fn year_here(app: &TestApp) -> String {
    let local = app.clock.now() + Duration::hours(8);
    format!("{:02}", local.year() % 100)
}

fn expected_display(coi: &str) -> String {
    format!(
        "CH {} {} {} {}",
        &coi[2..7],
        &coi[7..9],
        &coi[9..15],
        check_character(coi)
    )
}

async fn audit_of(app: &TestApp, token: &str, subject: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/audit?subject_id={subject}"), Some(token))
        .await
        .expect(200)
        .as_array()
        .unwrap()
        .clone()
}

async fn an_identifier_is_given_at_enrolment_from_the_sites_fin_and_year(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let patient = app.patient(&clinic, "PV-C01").await;
    let coi = patient["coi"].as_str().expect("a CoI").to_owned();
    let yy = year_here(&app);
    assert_eq!(coi, format!("CHA9999{yy}000001"), "{patient}");
    assert_eq!(patient["coi_display"], expected_display(&coi));
    assert_eq!(
        patient["coi_check_character"],
        check_character(&coi).to_string()
    );
    // the record says the same
    let again = app
        .get(
            &format!("/api/v1/patients/{}", id(&patient)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    assert_eq!(again["coi"], coi.as_str());
    // the enrolment's own event carries it, in the same act
    let events = audit_of(&app, &team.quality, &id(&patient)).await;
    let enrolled: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "patient.enrolled")
        .collect();
    assert_eq!(enrolled.len(), 1, "{events:?}");
    assert_eq!(enrolled[0]["details"]["coi"], coi.as_str());
    assert_eq!(
        enrolled[0]["details"]["coi_check_character"],
        check_character(&coi).to_string()
    );
    // a refused enrolment takes no number: the next one is 000002
    let mut refused = eligible_criteria();
    refused["informed_consent"] = json!(false);
    app.enrol_answer(&clinic, "PV-C02", refused)
        .await
        .expect_error(422, "not_eligible");
    app.enrol_answer(&clinic, "PV-C01", eligible_criteria())
        .await
        .expect_error(409, "subject_code_taken");
    let next = app.patient(&clinic, "PV-C03").await;
    assert_eq!(next["coi"], format!("CHA9999{yy}000002"));
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report}");
}

async fn sequences_increase_per_site_and_start_again_each_year(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    let admin = app.admin_token().await;
    let yy = year_here(&app);
    let first = app.patient(&clinic, "PV-Y01").await;
    let second = app.patient(&clinic, "PV-Y02").await;
    assert_eq!(first["coi"], format!("CHA9999{yy}000001"));
    assert_eq!(second["coi"], format!("CHA9999{yy}000002"));
    // a second site numbers its own patients from its own FIN
    let ward = app
        .post(
            "/api/v1/sites",
            Some(&admin),
            json!({ "name": "Ward 7", "kind": "clinical", "facility_code": "B1234", "time_zone": "Asia/Shanghai" }),
        )
        .await
        .expect(201);
    let me = app
        .get("/api/v1/users/me", Some(&clinic.clinician))
        .await
        .expect(200);
    app.post(
        &format!("/api/v1/users/{}/sites", id(&me)),
        Some(&admin),
        json!({ "site_id": id(&ward) }),
    )
    .await
    .expect(200);
    let enrol = |code: &str, site: String| {
        app.post(
            "/api/v1/patients",
            Some(&clinic.clinician),
            json!({
                "subject_code": code,
                "birth_date": "1980-05-17",
                "sex": "female",
                "enrolled_at": rfc3339(app.days_ago(3)),
                "baseline_pasi": 14.2,
                "criteria": eligible_criteria(),
                "site_id": site,
            }),
        )
    };
    let at_ward = enrol("PV-Y03", id(&ward)).await.expect(201);
    assert_eq!(at_ward["coi"], format!("CHB1234{yy}000001"), "{at_ward}");
    let home = enrol("PV-Y04", first["site_id"].as_str().unwrap().to_owned())
        .await
        .expect(201);
    assert_eq!(home["coi"], format!("CHA9999{yy}000003"));
    // the new year in Beijing starts every facility at 000001 again
    let local = app.clock.now() + Duration::hours(8);
    let next_new_year = chrono::NaiveDate::from_ymd_opt(local.year() + 1, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        - Duration::hours(8);
    let days = (next_new_year - app.clock.now()).num_days() + 2;
    app.days_later(&mut clinic, days).await;
    let next_yy = year_here(&app);
    assert_ne!(next_yy, yy);
    let enrol = |code: &str, site: String| {
        app.post(
            "/api/v1/patients",
            Some(&clinic.clinician),
            json!({
                "subject_code": code,
                "birth_date": "1980-05-17",
                "sex": "female",
                "enrolled_at": rfc3339(app.days_ago(3)),
                "baseline_pasi": 14.2,
                "criteria": eligible_criteria(),
                "site_id": site,
            }),
        )
    };
    let new_year = enrol("PV-Y05", first["site_id"].as_str().unwrap().to_owned())
        .await
        .expect(201);
    assert_eq!(new_year["coi"], format!("CHA9999{next_yy}000001"));
    let new_year_ward = enrol("PV-Y06", id(&ward)).await.expect(201);
    assert_eq!(new_year_ward["coi"], format!("CHB1234{next_yy}000001"));
    let _ = team;
    let team = app.team_again().await;
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report}");
}

async fn two_enrolments_racing_get_distinct_identifiers(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let yy = year_here(&app);
    for round in 0..3 {
        let (a, b, c) = tokio::join!(
            app.enrol_answer(&clinic, &format!("PV-R{round}A"), eligible_criteria()),
            app.enrol_answer(&clinic, &format!("PV-R{round}B"), eligible_criteria()),
            app.enrol_answer(&clinic, &format!("PV-R{round}C"), eligible_criteria()),
        );
        let mut cois: Vec<String> = [a.expect(201), b.expect(201), c.expect(201)]
            .iter()
            .map(|p| p["coi"].as_str().unwrap().to_owned())
            .collect();
        cois.sort();
        // three numbers, one after another: none shared, none skipped
        let base = round * 3;
        assert_eq!(
            cois,
            (1..=3)
                .map(|n| format!("CHA9999{yy}{:06}", base + n))
                .collect::<Vec<_>>()
        );
    }
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report}");
}

async fn a_patient_is_found_by_their_identifier_and_a_wrong_check_character_is_refused(
    app: TestApp,
) {
    let clinic = app.clinic().await;
    let patient = app.patient(&clinic, "PV-F01").await;
    app.patient(&clinic, "PV-F02").await;
    let coi = patient["coi"].as_str().unwrap().to_owned();
    let display = patient["coi_display"].as_str().unwrap().to_owned();
    let search = |q: &str| {
        let q = url_encode(q);
        app.get(&format!("/api/v1/patients?q={q}"), Some(&clinic.clinician))
    };
    for q in [
        coi.clone(),
        display.clone(),
        display.to_lowercase(),
        format!("&/{coi}"),
        display[..display.len() - 2].to_owned(),
    ] {
        let found = search(&q).await.expect(200);
        let items = found["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{q}: {found}");
        assert_eq!(items[0]["subject_code"], "PV-F01");
        assert_eq!(found["next_cursor"], json!(null));
    }
    // a mistyped check character is named, never looked up
    let right = check_character(&coi);
    let wrong = if right == 'A' { 'B' } else { 'A' };
    let refused = search(&format!("{coi}{wrong}"))
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(refused["field"], "q", "{refused}");
    // an identifier nobody has finds nobody; subject codes still search
    let unknown = search("CHA999900999999").await.expect(200);
    assert_eq!(unknown["items"], json!([]));
    let by_code = search("PV-F").await.expect(200);
    assert_eq!(by_code["items"].as_array().unwrap().len(), 2);
}

fn url_encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => char::from(b).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A weighed patient's dose, ordered from released stock.
async fn dose_of(app: &TestApp, team: &crate::story::Team, clinic: &Clinic) -> (Value, Value) {
    let (lot, _) = app.dosing_stock(team, "UCD-C01", 4, 200).await;
    let patient = app.weighed_patient(clinic, "PV-D01", 40).await;
    let dose = app.order(clinic, &id(&patient)).await.expect(201);
    assert_eq!(dose["lot_id"], lot["id"]);
    (patient, dose)
}

async fn the_dose_its_bag_label_and_the_trace_carry_the_identifier_beside_the_din(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (patient, dose) = dose_of(&app, &team, &clinic).await;
    let coi = patient["coi"].as_str().unwrap().to_owned();
    let display = expected_display(&coi);
    let (data, check) = display.split_at(display.len() - 1);
    let data = data.trim_end();
    // the dose as ordered and as read back
    assert_eq!(dose["coi"], coi.as_str(), "{dose}");
    let read = app
        .get(
            &format!("/api/v1/doses/{}", id(&dose)),
            Some(&clinic.pharmacist),
        )
        .await
        .expect(200);
    assert_eq!(read["coi"], coi.as_str());
    assert_eq!(read["coi_display"], display.as_str());
    // the bag label prints it with its boxed check character, and the DIN
    let lot_code = read["lot_code"].as_str().unwrap();
    let din = &lot_code[..13];
    let din_display = format!("{} {} {}", &din[..5], &din[5..7], &din[7..]);
    for format in ["zpl", "svg"] {
        let (status, _, body) = app
            .get_bytes(
                &format!("/api/v1/doses/{}/label.{format}", id(&dose)),
                Some(&clinic.pharmacist),
            )
            .await;
        assert_eq!(status, 200, "{format}");
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains(&format!("CoI {data}")), "{format}: {text}");
        assert!(
            text.contains(&format!("DIN {din_display}")),
            "{format}: {text}"
        );
        assert!(text.contains(check), "{format}");
    }
    let (status, content_type, png) = app
        .get_bytes(
            &format!("/api/v1/doses/{}/label.png", id(&dose)),
            Some(&clinic.pharmacist),
        )
        .await;
    assert_eq!((status, content_type.as_str()), (200, "image/png"));
    if let Ok(path) = std::env::var("CELLTRAIL_COI_LABEL_PNG") {
        std::fs::write(path, &png).unwrap();
    }
    // the patient's wristband prints it too, with its check character
    let (status, _, zpl) = app
        .get_bytes(
            &format!("/api/v1/patients/{}/wristband.zpl", id(&patient)),
            Some(&clinic.clinician),
        )
        .await;
    assert_eq!(status, 200);
    let zpl = String::from_utf8(zpl).unwrap();
    assert!(zpl.contains(&format!("CoI {data}")), "{zpl}");
    if let Ok(path) = std::env::var("CELLTRAIL_COI_WRISTBAND_PNG") {
        let (_, _, png) = app
            .get_bytes(
                &format!("/api/v1/patients/{}/wristband.png", id(&patient)),
                Some(&clinic.clinician),
            )
            .await;
        std::fs::write(path, &png).unwrap();
    }
    // the trace, from the patient and from the lot
    let trace = app
        .get(
            &format!("/api/v1/trace/patients/{}", id(&patient)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(trace["coi"], coi.as_str(), "{trace}");
    assert_eq!(trace["coi_display"], display.as_str());
    assert_eq!(trace["doses"][0]["coi"], coi.as_str());
    assert_eq!(trace["donations"][0]["din"], din);
    let lot_trace = app
        .get(
            &format!("/api/v1/trace/lots/{}", read["lot_id"].as_str().unwrap()),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(lot_trace["doses"][0]["coi"], coi.as_str(), "{lot_trace}");
    let reserved: Vec<&Value> = lot_trace["vials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["dose_id"] == dose["id"])
        .collect();
    assert!(!reserved.is_empty());
    assert!(reserved.iter().all(|v| v["coi"] == coi.as_str()));
    // after the infusion the lot's recipients name it, on the trace page too
    app.thaw(&clinic, &dose, 16_000_000, json!(92))
        .await
        .expect(200);
    let prepared = app.verify_dose(&clinic, &dose).await.expect(200);
    app.start_infusion(
        &clinic,
        &prepared,
        patient["scan_payload"].as_str().unwrap(),
        prepared["scan_payload"].as_str().unwrap(),
    )
    .await
    .expect(201);
    let lot_trace = app
        .get(
            &format!("/api/v1/trace/lots/{}", read["lot_id"].as_str().unwrap()),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(lot_trace["recipients"][0]["coi"], coi.as_str());
    let cookie = sign_in(&app, "qa.officer").await;
    let (status, html) = page(
        &app,
        &format!("/trace/lots/{}", read["lot_id"].as_str().unwrap()),
        &cookie,
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("data-coi=\"{coi}\"")), "{html}");
    assert!(html.contains(data), "{html}");
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report}");
}

async fn patient_and_dose_pages_show_the_identifier_in_both_languages(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (patient, dose) = dose_of(&app, &team, &clinic).await;
    let coi = patient["coi"].as_str().unwrap().to_owned();
    let display = expected_display(&coi);
    let data = display[..display.len() - 2].to_owned();
    for (username, token, path) in [
        (
            "nurse.one",
            &clinic.clinician,
            format!("/patients/{}", id(&patient)),
        ),
        (
            "pharm.one",
            &clinic.pharmacist,
            format!("/doses/{}", id(&dose)),
        ),
    ] {
        let cookie = sign_in(&app, username).await;
        for (language, words) in [("en", "Chain of Identity"), ("zh-CN", "身份链标识")] {
            app.put(
                "/api/v1/users/me/preferences",
                Some(token),
                json!({ "language": language }),
            )
            .await
            .expect(200);
            let (status, html) = page(&app, &path, &cookie).await;
            assert_eq!(status, 200, "{path}");
            assert!(html.contains(words), "{language} {path}: {html}");
            assert!(html.contains(&data), "{language} {path}");
            assert!(html.contains(&format!("data-coi=\"{coi}\"")), "{path}");
            // the boxed check character, as the DIN's
            assert!(
                html.contains(&format!("{}</span>", check_character(&coi))),
                "{path}"
            );
        }
    }
}

async fn patients_enrolled_before_identifiers_get_one_at_start_each_ledgered(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let yy = year_here(&app);
    let older = app.patient(&clinic, "PV-M01").await;
    let newer = app.patient(&clinic, "PV-M02").await;
    let kept = app.patient(&clinic, "PV-M03").await;
    // two patients as a database from before identifiers holds them
    let db = app.state.db.conn();
    let ids = [&older, &newer].map(|p| uuid::Uuid::parse_str(&id(p)).unwrap());
    patient::Entity::update_many()
        .col_expr(patient::Column::Coi, Expr::value(Option::<String>::None))
        .filter(patient::Column::Id.is_in(ids))
        .exec(db)
        .await
        .unwrap();
    let pending = app
        .get(
            &format!("/api/v1/patients/{}", id(&older)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    assert_eq!(pending["coi"], json!(null));
    // the service starts on that database: each gets the next number,
    // earliest enrolled first, in its own ledgered act
    restart(&app).await;
    let given = |p: &Value| {
        let p = p.clone();
        let app = &app;
        let token = clinic.clinician.clone();
        async move {
            app.get(&format!("/api/v1/patients/{}", id(&p)), Some(&token))
                .await
                .expect(200)["coi"]
                .clone()
        }
    };
    assert_eq!(given(&older).await, format!("CHA9999{yy}000004"));
    assert_eq!(given(&newer).await, format!("CHA9999{yy}000005"));
    assert_eq!(given(&kept).await, kept["coi"], "one that had one keeps it");
    for (patient, n) in [(&older, 4), (&newer, 5)] {
        let events = audit_of(&app, &team.quality, &id(patient)).await;
        let assigned: Vec<&Value> = events
            .iter()
            .filter(|e| e["action"] == "patient.coi_assigned")
            .collect();
        assert_eq!(assigned.len(), 1, "{events:?}");
        assert_eq!(assigned[0]["details"]["coi"], format!("CHA9999{yy}{n:06}"));
    }
    // starting again gives nobody a second one
    restart(&app).await;
    let events = audit_of(&app, &team.quality, &id(&older)).await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e["action"] == "patient.coi_assigned")
            .count(),
        1
    );
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report}");
}

/// Builds the application again on the test's database, as a restart of
/// the service does (the start-up work runs; nothing is served).
async fn restart(app: &TestApp) {
    let mut settings = celltrail::config::Settings::for_database(app.database_url.clone());
    settings.admin_password = Some(ADMIN_PASSWORD.into());
    settings.ledger_key_file = app.files.path().join("celltrail-ledger.key");
    settings.checkpoint_dir = app.files.path().join("checkpoints");
    settings.db_max_connections = 2;
    settings.timezone =
        celltrail::domain::zone::SiteZone::parse("Asia/Shanghai").expect("a time zone");
    let started = celltrail::Application::build(settings, app.clock.clone())
        .await
        .expect("the application starts again");
    drop(started);
}

async fn an_identifier_changed_behind_the_services_back_is_named_by_the_ledger_check(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let patient = app.patient(&clinic, "PV-T01").await;
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report}");
    let patient_id = uuid::Uuid::parse_str(&id(&patient)).unwrap();
    app.tamper();
    patient::Entity::update_many()
        .col_expr(patient::Column::Coi, Expr::value("CHA999926999999"))
        .filter(patient::Column::Id.eq(patient_id))
        .exec(app.state.db.conn())
        .await
        .unwrap();
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["replay"]["differences"], 1, "{report:#}");
    let named = &report["replay"]["named"][0];
    assert_eq!(named["kind"], "patient");
    assert_eq!(named["name"], "PV-T01");
    assert_eq!(
        named["table"],
        "Chain of Identity identifier CHA999926999999"
    );
    assert_eq!(
        named["ledger"],
        format!(
            "Chain of Identity identifier {}",
            patient["coi"].as_str().unwrap()
        )
    );
}

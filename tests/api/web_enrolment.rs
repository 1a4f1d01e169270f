//! The clinic's upstream acts in the browser, over HTTP on both databases:
//! enrolment by the form with the eligibility checklist, PASI by the grid,
//! DLQI by its ten questions, the course chart and the adverse events on
//! the patient's page. Every refusal changes nothing (checked through the
//! API) and says why in words; one page is read in Chinese.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};

use crate::clinic::eligible_criteria;
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{id, rfc3339};
use crate::web::{browser, csrf, page, sign_in};

on_both_databases!(
    a_clinician_enrols_a_patient_by_the_form,
    a_refused_enrolment_saves_nothing_and_says_why,
    a_weight_in_pounds_typed_as_kg_is_asked_about_then_confirmed,
    a_pasi_by_the_grid_is_the_score_computed_by_hand,
    a_dlqi_by_its_questions_is_the_sum_of_the_answers,
    the_chart_shows_each_assessment_and_each_infusion_and_the_adverse_events,
    the_enrolment_form_speaks_chinese,
);

/// Posts a form as the signed-in browser (no redirect followed).
async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    browser()
        .post(app.url(path))
        .header(COOKIE, cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// Where a 303 goes, and that page as the browser then shows it.
async fn follow(app: &TestApp, cookie: &str, response: reqwest::Response) -> (String, String) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let (status, html) = page(app, &to, cookie).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    (to, html)
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// The enrolment form filled in for an eligible patient: every inclusion
/// answered yes, every exclusion no.
fn enrolment(token: &str, code: &str) -> Vec<(String, String)> {
    let mut fields = pairs(&[
        ("csrf", token),
        ("subject_code", code),
        ("birth_date", "1980-05-17"),
        ("sex", "female"),
        ("height_cm", "168"),
        ("weight_value", "64.5"),
        ("weight_unit", "kg"),
        ("baseline_pasi", "14.2"),
    ]);
    for (key, must) in eligible_criteria().as_object().unwrap() {
        let answer = if must.as_bool().unwrap() { "yes" } else { "no" };
        fields.push((format!("c.{key}"), answer.to_owned()));
    }
    fields
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(n, _)| n == name) {
        Some(field) => field.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
}

/// The words of the message box a refused form shows (`id` of the box).
fn message(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let rest = &html[at..];
    let end = rest.find("</div>").unwrap();
    rest[..end].to_owned()
}

async fn patients_enrolled(app: &TestApp, token: &str) -> Vec<Value> {
    let list = app.get("/api/v1/patients", Some(token)).await.expect(200);
    list["items"].as_array().unwrap().clone()
}

async fn a_clinician_enrols_a_patient_by_the_form(app: TestApp) {
    let clinic = app.clinic().await;
    let nurse = sign_in(&app, "nurse.one").await;

    let (_, list) = page(&app, "/patients", &nurse).await;
    assert!(list.contains("href=\"/patients/new\""), "{list}");
    assert!(list.contains("Enrol a patient"));
    let (status, form) = page(&app, "/patients/new", &nurse).await;
    assert_eq!(status, StatusCode::OK);
    // the checklist in the protocol's words, as questions answered yes or no
    for words in [
        "Written informed consent given",
        "Hepatitis B or C, or HIV infection",
        "Cannot be followed up for the study",
    ] {
        assert!(form.contains(words), "{words}: {form}");
    }
    assert_eq!(form.matches("value=\"yes\"").count(), 13);

    let response = post_form(
        &app,
        "/patients/new",
        &nurse,
        &enrolment(&csrf(&form), "pv-101"),
    )
    .await;
    let (to, html) = follow(&app, &nurse, response).await;
    let patients = patients_enrolled(&app, &clinic.clinician).await;
    assert_eq!(patients.len(), 1);
    let patient = &patients[0];
    assert!(
        to.starts_with(&format!("/patients/{}?ok=", id(patient))),
        "{to}"
    );
    assert!(html.contains("Patient PV-101 is enrolled."), "{html}");
    // the wristband label, ready to print
    assert!(html.contains(&format!("/api/v1/patients/{}/wristband.png", id(patient))));
    assert_eq!(patient["subject_code"], "PV-101");
    assert_eq!(patient["baseline_pasi"], json!(14.2));
    assert_eq!(patient["height_cm"], "168.0");
    assert_eq!(patient["enrolment_weight"]["weight_g"], 64_500);
    assert_eq!(patient["criteria"], eligible_criteria());

    // the form is the clinician's: the pharmacist has no button and no form
    let pharmacist = sign_in(&app, "pharm.one").await;
    let (_, list) = page(&app, "/patients", &pharmacist).await;
    assert!(!list.contains("href=\"/patients/new\""));
    let (status, _) = page(&app, "/patients/new", &pharmacist).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn a_refused_enrolment_saves_nothing_and_says_why(app: TestApp) {
    let clinic = app.clinic().await;
    let nurse = sign_in(&app, "nurse.one").await;
    let (_, form) = page(&app, "/patients/new", &nurse).await;
    let token = csrf(&form);

    // an exclusion that applies, and one inclusion left unanswered
    let mut fields = enrolment(&token, "PV-102");
    set(&mut fields, "c.hbv_hcv_or_hiv", "yes");
    fields.retain(|(n, _)| n != "c.informed_consent");
    let response = post_form(&app, "/patients/new", &nurse, &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    let said = message(&html, "refusal");
    assert!(
        said.contains("The patient is not eligible, and nothing was saved."),
        "{said}"
    );
    assert!(
        said.contains("Applies, and excludes the patient: “Hepatitis B or C, or HIV infection”.")
    );
    assert!(said.contains("Not answered: “Written informed consent given”."));
    // words, never the protocol's keys or an error code
    assert!(
        !said.contains("hbv")
            && !said.contains("informed_consent")
            && !said.contains("not_eligible")
    );
    // what was typed stays on the form
    assert!(html.contains("value=\"PV-102\""));
    assert!(patients_enrolled(&app, &clinic.clinician).await.is_empty());

    // too young on the day of enrolment, and a baseline PASI too low
    let mut fields = enrolment(&token, "PV-102");
    let born = (app.clock.now() - chrono::Duration::days(17 * 365)).date_naive();
    set(&mut fields, "birth_date", &born.to_string());
    set(&mut fields, "baseline_pasi", "7.9");
    let response = post_form(&app, "/patients/new", &nurse, &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = message(&response.text().await.unwrap(), "refusal");
    assert!(
        said.contains(
            "The patient is 16 on the day of enrolment; the protocol enrols 18 to 65 years."
        ),
        "{said}"
    );
    assert!(said.contains("A baseline PASI of 7.9 is below"));
    assert!(patients_enrolled(&app, &clinic.clinician).await.is_empty());

    // a subject code already enrolled
    app.patient(&clinic, "PV-103").await;
    let response = post_form(&app, "/patients/new", &nurse, &enrolment(&token, "PV-103")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = message(&response.text().await.unwrap(), "refusal");
    assert!(
        said.contains("Subject code PV-103 is already enrolled; nothing was saved."),
        "{said}"
    );
    assert_eq!(patients_enrolled(&app, &clinic.clinician).await.len(), 1);

    // a name where the code goes, and fields that cannot be read: words, never a 500
    for (name, value, words) in [
        (
            "subject_code",
            "Jane Doe",
            "A subject code is 2 to 20 capital letters",
        ),
        ("birth_date", "17/05/1980", "Give the date of birth."),
        (
            "baseline_pasi",
            "twelve",
            "Give the baseline PASI as a number",
        ),
        ("height_cm", "5ft", "Give the height in centimetres"),
        ("weight_value", "seventy", "Give the weight as a number"),
        (
            "weight_value",
            "500",
            "500 kg is not a weight the protocol accepts (30 to 250 kg)",
        ),
    ] {
        let mut fields = enrolment(&token, "PV-104");
        set(&mut fields, name, value);
        let response = post_form(&app, "/patients/new", &nurse, &fields).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}"
        );
        let said = message(&response.text().await.unwrap(), "refusal");
        assert!(said.contains(words), "{name}: {said}");
    }
    assert_eq!(patients_enrolled(&app, &clinic.clinician).await.len(), 1);
}

async fn a_weight_in_pounds_typed_as_kg_is_asked_about_then_confirmed(app: TestApp) {
    let clinic = app.clinic().await;
    let nurse = sign_in(&app, "nurse.one").await;
    let (_, form) = page(&app, "/patients/new", &nurse).await;
    // 70 kg is 154 lb; typed as 154 kg for a patient of 160 cm, the
    // body-mass index is 154 000 × 10 000 ÷ 1600² = 601 tenths: 60.1,
    // above the protocol's 60
    let mut fields = enrolment(&csrf(&form), "PV-105");
    set(&mut fields, "height_cm", "160");
    set(&mut fields, "weight_value", "154");
    let response = post_form(&app, "/patients/new", &nurse, &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    let asked = message(&html, "confirm-weight");
    // 154 lb × 453.59237 g = 69 853 g: 69.9 kg
    assert!(
        asked.contains("154 kg gives a body-mass index of 60.1, outside 12 to 60. Was it typed in pounds? 154 lb would be 69.9 kg."),
        "{asked}"
    );
    assert!(html.contains("The weight is right: enrol the patient"));
    assert!(patients_enrolled(&app, &clinic.clinician).await.is_empty());

    // a confirmation stands for the weight asked about, not another one
    let mut other = fields.clone();
    set(&mut other, "confirmed_weight", "154 kg");
    set(&mut other, "weight_value", "160");
    let response = post_form(&app, "/patients/new", &nurse, &other).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message(&response.text().await.unwrap(), "confirm-weight").contains("160 kg gives"));
    assert!(patients_enrolled(&app, &clinic.clinician).await.is_empty());

    // confirmed as the page asks: the form's hidden field, sent again
    assert!(
        html.contains("name=\"confirmed_weight\" value=\"154 kg\""),
        "{html}"
    );
    set(&mut fields, "confirmed_weight", "154 kg");
    let response = post_form(&app, "/patients/new", &nurse, &fields).await;
    let (_, html) = follow(&app, &nurse, response).await;
    assert!(html.contains("Patient PV-105 is enrolled."));
    let patients = patients_enrolled(&app, &clinic.clinician).await;
    assert_eq!(patients[0]["enrolment_weight"]["weight_g"], 154_000);
    assert_eq!(patients[0]["enrolment_weight"]["unit"], "kg");
}

/// The visit date a page's forms start from (today, at the site).
fn today(html: &str) -> String {
    let at = html.find("name=\"visit_date\"").expect("a visit date");
    let rest = &html[at..];
    let at = rest.find("value=\"").unwrap() + 7;
    rest[at..at + 10].to_owned()
}

/// The PASI grid filled in: (erythema, induration, desquamation, area)
/// for head, upper limbs, trunk and lower limbs.
fn grid(token: &str, date: &str, scores: [[i32; 4]; 4]) -> Vec<(String, String)> {
    let mut fields = pairs(&[("csrf", token), ("visit_date", date)]);
    for (region, s) in ["head", "upper_limbs", "trunk", "lower_limbs"]
        .iter()
        .zip(scores)
    {
        for (part, v) in ["erythema", "induration", "desquamation", "area"]
            .iter()
            .zip(s)
        {
            fields.push((format!("{region}.{part}"), v.to_string()));
        }
    }
    fields
}

async fn assessments_of(app: &TestApp, token: &str, patient: &Value) -> Vec<Value> {
    let p = app
        .get(&format!("/api/v1/patients/{}", id(patient)), Some(token))
        .await
        .expect(200);
    p["assessments"].as_array().unwrap().clone()
}

async fn a_pasi_by_the_grid_is_the_score_computed_by_hand(app: TestApp) {
    let clinic = app.clinic().await;
    let patient = app.patient(&clinic, "PV-110").await;
    let nurse = sign_in(&app, "nurse.one").await;
    let path = format!("/patients/{}", id(&patient));
    let (_, html) = page(&app, &path, &nurse).await;
    assert!(html.contains("id=\"pasi-form\"") && html.contains("src=\"/assets/assessments.js\""));
    let script = browser()
        .get(app.url("/assets/assessments.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let (token, date) = (csrf(&html), today(&html));

    // head      0.1 × (2 + 1 + 1) × 3 =  1.2
    // upper     0.2 × (3 + 2 + 2) × 3 =  4.2
    // trunk     0.3 × (2 + 2 + 1) × 4 =  6.0
    // lower     0.4 × (4 + 3 + 2) × 5 = 18.0
    //                          PASI = 29.4 (294 tenths)
    let scores = [[2, 1, 1, 3], [3, 2, 2, 3], [2, 2, 1, 4], [4, 3, 2, 5]];
    let response = post_form(
        &app,
        &format!("{path}/pasi"),
        &nurse,
        &grid(&token, &date, scores),
    )
    .await;
    let (_, html) = follow(&app, &nurse, response).await;
    assert!(html.contains("PASI recorded: 29.4."), "{html}");
    let recorded = assessments_of(&app, &clinic.clinician, &patient).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["kind"], "pasi");
    assert_eq!(recorded[0]["score"], json!(29.4));
    assert_eq!(
        recorded[0]["inputs"]["regions"]["lower_limbs"],
        json!({"erythema": 4, "induration": 3, "desquamation": 2, "area": 5})
    );

    // a cell out of range (5 for a severity), one missing, a date to come:
    // refused in words, nothing recorded
    let mut out_of_range = scores;
    out_of_range[2][0] = 5;
    let mut missing = grid(&token, &date, scores);
    missing.retain(|(n, _)| n != "upper_limbs.area");
    let tomorrow = (chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").unwrap()
        + chrono::Duration::days(1))
    .to_string();
    for (fields, words) in [
        (
            grid(&token, &date, out_of_range),
            "Trunk, Erythema: the score is 0 to 4. Nothing was recorded.",
        ),
        (
            missing,
            "Upper limbs, Area: choose a score from 0 to 6. Nothing was recorded.",
        ),
        (
            grid(&token, &tomorrow, scores),
            "The visit date cannot be in the future",
        ),
        (grid(&token, "26.11.2026", scores), "Give the visit date."),
    ] {
        let response = post_form(&app, &format!("{path}/pasi"), &nurse, &fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.unwrap();
        let said = message(&html, "assessment-refusal");
        assert!(said.contains(words), "{words}: {said}");
        assert!(!said.contains("regions.") && !said.contains("invalid_assessment"));
        // the grid comes back open, as it was filled in: lower limbs area 5
        assert!(
            html.contains("<details open><summary>Score a PASI"),
            "{html}"
        );
        let lower_area = &html[html.find("name=\"lower_limbs.area\"").unwrap()..];
        let lower_area = &lower_area[..lower_area.find("</select>").unwrap()];
        assert!(
            lower_area.contains("<option value=\"5\" selected>"),
            "{lower_area}"
        );
    }
    assert_eq!(
        assessments_of(&app, &clinic.clinician, &patient)
            .await
            .len(),
        1
    );
}

async fn a_dlqi_by_its_questions_is_the_sum_of_the_answers(app: TestApp) {
    let clinic = app.clinic().await;
    let patient = app.patient(&clinic, "PV-111").await;
    let nurse = sign_in(&app, "nurse.one").await;
    let path = format!("/patients/{}", id(&patient));
    let (_, html) = page(&app, &path, &nurse).await;
    assert!(html.contains("id=\"dlqi-form\""));
    assert!(html.contains("How itchy, sore, painful or stinging has your skin been?"));
    // "not relevant" from question 3 on, never for the first two
    assert_eq!(html.matches("value=\"nr\"").count(), 8);
    let (token, date) = (csrf(&html), today(&html));
    // 3 + 2 + 1 + 0 + (not relevant: 0) + 1 + 3 + 0 + (0) + 2 = 12
    let answers = ["3", "2", "1", "0", "nr", "1", "3", "0", "nr", "2"];
    let mut fields = pairs(&[("csrf", &token), ("visit_date", &date)]);
    for (n, a) in answers.iter().enumerate() {
        fields.push((format!("q{}", n + 1), (*a).to_owned()));
    }
    let response = post_form(&app, &format!("{path}/dlqi"), &nurse, &fields).await;
    let (_, html) = follow(&app, &nurse, response).await;
    assert!(html.contains("DLQI recorded: 12."), "{html}");
    let recorded = assessments_of(&app, &clinic.clinician, &patient).await;
    assert_eq!(recorded[0]["kind"], "dlqi");
    assert_eq!(recorded[0]["score"], 12);
    assert_eq!(
        recorded[0]["inputs"]["answers"],
        json!([3, 2, 1, 0, 0, 1, 3, 0, 0, 2])
    );

    // the first question has no "not relevant"; an answer of 4 is no answer
    for (n, bad, words) in [
        (1, "nr", "Question 1 is not answered."),
        (4, "4", "Each DLQI answer scores 0 to 3."),
    ] {
        let mut wrong = fields.clone();
        set(&mut wrong, &format!("q{n}"), bad);
        let response = post_form(&app, &format!("{path}/dlqi"), &nurse, &wrong).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.text().await.unwrap();
        assert!(
            message(&html, "assessment-refusal").contains(words),
            "{words}: {html}"
        );
        // the answers come back as given: question 9 not relevant
        assert!(
            html.contains("name=\"q9\" value=\"nr\" required checked"),
            "{html}"
        );
    }
    assert_eq!(
        assessments_of(&app, &clinic.clinician, &patient)
            .await
            .len(),
        1
    );
}

async fn the_chart_shows_each_assessment_and_each_infusion_and_the_adverse_events(app: TestApp) {
    let team = app.team().await;
    app.dosing_stock(&team, "UCD-4101", 10, 60).await;
    let clinic = app.clinic().await;
    let patient = app.weighed_patient(&clinic, "PV-120", 64).await;
    let assessments = format!("/api/v1/patients/{}/assessments", id(&patient));
    let region = json!({"erythema": 2, "induration": 2, "desquamation": 2, "area": 2});
    for days in [2, 1] {
        app.post(
            &assessments,
            Some(&clinic.clinician),
            json!({"kind": "pasi", "assessed_at": rfc3339(app.days_ago(days)),
                "regions": {"head": region, "upper_limbs": region, "trunk": region, "lower_limbs": region}}),
        )
        .await
        .expect(201);
    }
    app.post(
        &assessments,
        Some(&clinic.clinician),
        json!({"kind": "dlqi", "assessed_at": rfc3339(app.days_ago(1)), "answers": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}),
    )
    .await
    .expect(201);
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let started = app
        .start_infusion(
            &clinic,
            &dose,
            patient["scan_payload"].as_str().unwrap(),
            dose["scan_payload"].as_str().unwrap(),
        )
        .await
        .expect(201);
    let now = rfc3339(app.clock.now());
    app.post(
        &format!("/api/v1/infusions/{}/complete", id(&started)),
        Some(&clinic.clinician),
        json!({"ended_at": now, "volume_infused_ul": dose["volume_ul"],
            "adverse_events": [{"term": "Headache", "grade": 2, "onset_at": now}]}),
    )
    .await
    .expect(200);

    let nurse = sign_in(&app, "nurse.one").await;
    let (_, html) = page(&app, &format!("/patients/{}", id(&patient)), &nurse).await;
    assert!(
        html.contains("id=\"course-chart\"") && html.contains("<svg"),
        "{html}"
    );
    assert!(html.contains("viewBox=\"0 0 720 "));
    assert_eq!(html.matches("class=\"pasi-point\"").count(), 2);
    assert_eq!(html.matches("class=\"dlqi-point\"").count(), 1);
    assert_eq!(html.matches("class=\"pasi-baseline\"").count(), 1);
    assert_eq!(html.matches("class=\"infusion-mark\"").count(), 1);
    // 0.1×6×2 + 0.2×6×2 + 0.3×6×2 + 0.4×6×2 = 12.0
    assert!(html.contains("PASI 12.0 on"));
    // the adverse event, with the dose it followed
    let ae = message(&html, "adverse-events");
    assert!(ae.contains("Headache"), "{ae}");
    assert!(html.contains(&format!("href=\"/doses/{}\"", id(&dose))));

    // quality reads the course and the events; scoring is the clinician's
    let quality = sign_in(&app, "qa.officer").await;
    let path = format!("/patients/{}", id(&patient));
    let (status, html) = page(&app, &path, &quality).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"course-chart\"") && html.contains("Headache"));
    assert!(!html.contains("id=\"pasi-form\"") && !html.contains("id=\"dlqi-form\""));
    let scores = [[1, 1, 1, 1]; 4];
    let response = post_form(
        &app,
        &format!("{path}/pasi"),
        &quality,
        &grid(&csrf(&html), "2026-01-01", scores),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let recorded = assessments_of(&app, &clinic.clinician, &patient).await;
    assert_eq!(recorded.len(), 3);
}

async fn the_enrolment_form_speaks_chinese(app: TestApp) {
    let clinic = app.clinic().await;
    app.put(
        "/api/v1/users/me/preferences",
        Some(&clinic.clinician),
        json!({"language": "zh-CN"}),
    )
    .await
    .expect(200);
    let nurse = sign_in(&app, "nurse.one").await;
    let (_, form) = page(&app, "/patients/new", &nurse).await;
    assert!(
        form.contains("患者入组") && form.contains("已签署书面知情同意书"),
        "{form}"
    );
    let mut fields = enrolment(&csrf(&form), "PV-130");
    set(&mut fields, "c.pregnant_lactating_or_planning", "yes");
    let response = post_form(&app, "/patients/new", &nurse, &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = message(&response.text().await.unwrap(), "refusal");
    assert!(
        said.contains("该患者不符合入组条件，未保存任何内容。"),
        "{said}"
    );
    assert!(said.contains("妊娠期、哺乳期或计划妊娠"));
    assert!(patients_enrolled(&app, &clinic.clinician).await.is_empty());
    // enrolled, the page in Chinese with the code as it is
    set(&mut fields, "c.pregnant_lactating_or_planning", "no");
    let response = post_form(&app, "/patients/new", &nurse, &fields).await;
    let (_, html) = follow(&app, &nurse, response).await;
    assert!(html.contains("患者 PV-130 已入组。"), "{html}");
    assert!(html.contains("PASI 评分") && html.contains("病程"));
}

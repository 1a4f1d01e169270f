//! Refusals said in the page's language, over HTTP on both databases: a
//! Chinese-speaking lab technician, quality officer, nurse and pharmacist
//! are refused on real pages (a vial stored where another one is, a
//! position the box does not have, a signature with a wrong password, a
//! weight that is not a number or not plausible, a dose with no stock to
//! take it from, a lot that does not exist) and read why in Chinese; an
//! English-speaking team reads the same refusals in English. Nothing
//! refused changes anything (checked through the API).

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::id;
use crate::web::{browser, csrf, page, sign_in};

on_both_databases!(
    a_chinese_speaking_team_is_refused_in_chinese,
    an_english_speaking_team_is_refused_in_english,
);

/// The three people, each with their own language; their cookies.
struct People {
    lab: String,
    quality: String,
    nurse: String,
    pharmacist: String,
}

async fn people(app: &TestApp, language: &str) -> People {
    let mut cookies = Vec::new();
    for (username, role) in [
        (format!("lab.{language}"), "lab"),
        (format!("qa.{language}"), "quality"),
        (format!("nurse.{language}"), "clinician"),
        (format!("pharm.{language}"), "pharmacist"),
    ] {
        let username = username.to_lowercase().replace('-', ".");
        let (_, token) = app.staff(&username, role).await;
        app.put(
            "/api/v1/users/me/preferences",
            Some(&token),
            json!({ "language": language }),
        )
        .await
        .expect(200);
        cookies.push(sign_in(app, &username).await);
    }
    let pharmacist = cookies.pop().unwrap();
    let nurse = cookies.pop().unwrap();
    let quality = cookies.pop().unwrap();
    let lab = cookies.pop().unwrap();
    People {
        lab,
        quality,
        nurse,
        pharmacist,
    }
}

/// A form posted from `page_path` with the page's own token.
async fn post_form(
    app: &TestApp,
    cookie: &str,
    page_path: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (status, html) = page(app, page_path, cookie).await;
    assert_eq!(status, StatusCode::OK, "{page_path}: {html}");
    let token = csrf(&html);
    let mut form = fields.to_vec();
    form.push(("csrf", &token));
    browser()
        .post(app.url(action))
        .header(COOKIE, cookie)
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The refusal a form was sent back with: the `error` of the page it goes
/// back to, which that page shows.
async fn refusal(app: &TestApp, cookie: &str, response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let url = reqwest::Url::parse(&app.url(&to)).unwrap();
    let message = url
        .query_pairs()
        .find(|(key, _)| key == "error")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("back without a refusal: {to}"));
    let (_, html) = page(app, &to, cookie).await;
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    assert!(html.contains(&escaped), "the page shows it: {html}");
    for hint in [
        "position_occupied",
        "box_id",
        "signature_invalid",
        "invalid_field",
    ] {
        assert!(!message.contains(hint), "{message}");
    }
    message
}

/// Every refusal of the story, in the order it meets them.
async fn refusals_met(app: &TestApp, people: &People, donor: &str) -> Vec<String> {
    let team = app.team().await;
    let mut said = Vec::new();

    // the scan station: A1 is taken, Z99 is not a place in a 9×9 box
    let (lot, vials) = app.quarantined_lot(&team, donor, 2).await;
    let the_box = app.storage_box(&team, donor, 9, 9).await;
    app.store(&team, &id(&vials[0]), &id(&the_box), "A1")
        .await
        .expect(200);
    let second = id(&vials[1]);
    let scan = format!("/scan?q={}", vials[1]["code"].as_str().unwrap());
    for position in ["A1", "Z99"] {
        let response = post_form(
            app,
            &people.lab,
            &scan,
            &format!("/vials/{second}/store"),
            &[("box_id", &id(&the_box)), ("position", position)],
        )
        .await;
        said.push(refusal(app, &people.lab, response).await);
    }
    let vial = app
        .get(&format!("/api/v1/vials/{second}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(vial["location"], json!(null), "the vial was not stored");

    // a lot decision signed with a password that is not the signer's
    let lot_page = format!("/lots/{}", id(&lot));
    let response = post_form(
        app,
        &people.quality,
        &lot_page,
        &format!("{lot_page}/release"),
        &[
            ("password", "not the password"),
            ("meaning", "released for clinical use"),
        ],
    )
    .await;
    said.push(refusal(app, &people.quality, response).await);
    let lot = app
        .get(&format!("/api/v1/lots/{}", id(&lot)), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(lot["status"], "quarantine", "nothing was released");

    // weights: not a number, then not a plausible one
    let clinic = app.clinic().await;
    let patient = app
        .weighed_patient(&clinic, &format!("PV-{}", &donor[4..]), 61)
        .await;
    let patient_page = format!("/patients/{}", id(&patient));
    for value in ["sixty", "900"] {
        let response = post_form(
            app,
            &people.nurse,
            &patient_page,
            &format!("{patient_page}/weights"),
            &[("value", value), ("unit", "kg")],
        )
        .await;
        said.push(refusal(app, &people.nurse, response).await);
    }
    let record = app
        .get(
            &format!("/api/v1/patients/{}", id(&patient)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    let weights = record["weights"].as_array().unwrap();
    assert_eq!(weights.len(), 1, "only the first weight: {record}");

    // a dose ordered where no released lot has the vials (the lot above
    // is still in quarantine)
    let worksheet = format!("{patient_page}/dose");
    let response = post_form(app, &people.pharmacist, &worksheet, &worksheet, &[]).await;
    said.push(refusal(app, &people.pharmacist, response).await);
    let record = app
        .get(
            &format!("/api/v1/patients/{}", id(&patient)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    assert_eq!(record["doses"], json!([]), "no dose was ordered");

    // a page that cannot be shown says why on the error page
    let missing = "/lots/00000000-0000-7000-8000-000000000000";
    let (status, html) = page(app, missing, &people.quality).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    said.push(html);
    said
}

async fn a_chinese_speaking_team_is_refused_in_chinese(app: TestApp) {
    let people = people(&app, "zh-CN").await;
    let said = refusals_met(&app, &people, "UCD-7001").await;
    assert_eq!(said[0], "此冻存盒的 A1 位置已有冻存管。");
    assert_eq!(said[1], "「Z99」不是 9×9 冻存盒中的位置（A1 至 I9）。");
    assert_eq!(said[2], "电子签名未通过：密码不是您本人的密码。");
    assert_eq!(said[3], "「体重」须为正数，最多 6 位小数，例如 72.5。");
    assert!(
        said[4].starts_with("900000 g 超出合理范围") && said[4].ends_with("请检查数值和单位。"),
        "{}",
        said[4]
    );
    assert!(
        said[5].starts_with("没有已放行且未过期的批次有此剂量所需的"),
        "{}",
        said[5]
    );
    assert!(
        said[6].contains("找不到编号为 00000000-0000-7000-8000-000000000000 的批次。"),
        "{}",
        said[6]
    );
    for sentence in &said[..6] {
        assert!(
            !sentence.chars().any(|c| c.is_ascii_lowercase() && c != 'g'),
            "no English words: {sentence}"
        );
    }
}

async fn an_english_speaking_team_is_refused_in_english(app: TestApp) {
    let people = people(&app, "en").await;
    let said = refusals_met(&app, &people, "UCD-7002").await;
    assert_eq!(said[0], "Position A1 of this box is occupied.");
    assert_eq!(
        said[1],
        "\"Z99\" is not a position of a 9×9 box (A1 to I9)."
    );
    assert_eq!(
        said[2],
        "Electronic signature refused: the password is not yours."
    );
    assert_eq!(
        said[3],
        "A positive decimal number with at most 6 decimals, e.g. 72.5."
    );
    assert!(
        said[4].starts_with("900000 g is outside the plausible"),
        "{}",
        said[4]
    );
    assert!(
        said[5].starts_with("No released, unexpired lot has the"),
        "{}",
        said[5]
    );
    assert!(said[6].contains("No lot with id"), "{}", said[6]);
}

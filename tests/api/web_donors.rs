//! Donors and donations in the browser, over HTTP on both databases: the
//! lab registers a donor with consent, records the screening, quality signs
//! the eligibility, the lab records the donation, and its page shows the
//! DIN with its DIN label; every refusal changes nothing (checked through
//! the API) and says why in words; the pages in Chinese.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};

use crate::helpers::{STAFF_PASSWORD, TestApp};
use crate::on_both_databases;
use crate::story::{REQUIRED_SCREENING, id};
use crate::web::{browser, csrf, page, sign_in};

on_both_databases!(
    the_lab_registers_and_screens_quality_signs_and_the_donation_prints_its_din,
    refused_donor_forms_change_nothing_and_say_why_in_words,
    a_reactive_result_invalidated_under_signature_stays_as_a_correction,
    the_donor_pages_speak_chinese_and_codes_stay_codes,
);

/// A time as the site's date-and-time field sends it (Beijing, UTC+8).
fn site(t: DateTime<Utc>) -> String {
    (t + Duration::hours(8))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Posts a page's form with the session's token; returns the status and
/// where it sends the browser (or the page it answered with).
async fn post_form(
    app: &TestApp,
    cookie: &str,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf", token));
    let response = browser()
        .post(app.url(path))
        .header(COOKIE, cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    match response.headers().get(LOCATION) {
        Some(to) => (status, to.to_str().unwrap().to_owned()),
        None => (status, response.text().await.unwrap()),
    }
}

/// The page a form's redirect lands on.
async fn landing(app: &TestApp, cookie: &str, location: &str) -> String {
    let (status, html) = page(app, location, cookie).await;
    assert_eq!(status, StatusCode::OK, "{location}: {html}");
    html
}

async fn donor_by_code(app: &TestApp, token: &str, code: &str) -> Vec<Value> {
    let found = app
        .get(&format!("/api/v1/donors?q={code}"), Some(token))
        .await
        .expect(200);
    found["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .cloned()
        .collect()
}

async fn the_lab_registers_and_screens_quality_signs_and_the_donation_prints_its_din(app: TestApp) {
    let team = app.team().await;
    let lab = sign_in(&app, "lab.tech").await;
    let quality = sign_in(&app, "qa.officer").await;

    // the donors list offers registration to the lab
    let (_, html) = page(&app, "/donors", &lab).await;
    assert!(html.contains("href=\"/donors/new\""), "{html}");
    let (status, html) = page(&app, "/donors/new", &lab).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"consent_confirmed\""));
    let token = csrf(&html);
    let consent = site(app.days_ago(30));
    let (status, to) = post_form(
        &app,
        &lab,
        &token,
        "/donors/new",
        &[
            ("code", "ucd-5001"),
            ("consent_at", &consent),
            ("consent_confirmed", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    let donor = donor_by_code(&app, &team.lab, "UCD-5001").await;
    assert_eq!(donor.len(), 1);
    let donor_id = id(&donor[0]);
    assert!(to.starts_with(&format!("/donors/{donor_id}?ok=")), "{to}");
    let html = landing(&app, &lab, &to).await;
    assert!(html.contains("Donor UCD-5001 is registered with consent."));
    assert!(html.contains("Registered with consent"), "the history");
    assert_eq!(
        donor[0]["consent_at"].as_str().unwrap()[..16],
        (app.days_ago(30)).to_rfc3339()[..16],
        "the site's time, kept in UTC"
    );
    // the donors list and the search box link to the donor's page
    let (_, html) = page(&app, "/donors", &lab).await;
    assert!(html.contains(&format!("href=\"/donors/{donor_id}\"")));
    let response = browser()
        .get(app.url("/search?q=UCD-5001"))
        .header(COOKIE, &quality)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[LOCATION], format!("/donors/{donor_id}"));

    // what is missing is said in words before quality's button
    let (_, html) = page(&app, &format!("/donors/{donor_id}"), &quality).await;
    assert!(
        html.contains("Still missing a result: HIV-1/2 and Hepatitis B (HBV)"),
        "{html}"
    );
    assert!(html.contains(&format!("action=\"/donors/{donor_id}/eligibility\"")));

    // the lab records each required test
    let donor_page = format!("/donors/{donor_id}");
    let sampled = site(app.days_ago(21));
    for test in REQUIRED_SCREENING {
        let (status, to) = post_form(
            &app,
            &lab,
            &token,
            &format!("/donors/{donor_id}/screening"),
            &[
                ("test", test),
                ("result", "negative"),
                ("specimen", "maternal"),
                ("tested_at", &sampled),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(to.starts_with(&format!("{donor_page}?ok=")), "{to}");
    }
    let html = landing(&app, &quality, &donor_page).await;
    assert!(html.contains("Every required test is negative"), "{html}");
    assert!(html.contains("lab.tech"), "who recorded the results");

    // quality signs the eligibility
    let (status, to) = post_form(
        &app,
        &quality,
        &csrf(&html),
        &format!("/donors/{donor_id}/eligibility"),
        &[
            ("decision", "eligible"),
            ("reason", ""),
            ("password", STAFF_PASSWORD),
            ("meaning", "donor eligibility determination"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let html = landing(&app, &quality, &to).await;
    assert!(
        html.contains("Donor UCD-5001 is declared eligible."),
        "{html}"
    );
    assert!(html.contains("donor eligibility determination"), "signed");
    let api = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(api["eligibility"], "eligible");

    // the lab records the donation; the service gives it its DIN
    let collected = site(app.days_ago(20));
    let received = site(app.days_ago(20) + Duration::hours(3));
    let (status, to) = post_form(
        &app,
        &lab,
        &token,
        &format!("/donors/{donor_id}/donations"),
        &[("collected_at", &collected), ("received_at", &received)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    let api = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.lab))
        .await
        .expect(200);
    let donation = &api["donations"][0];
    let donation_id = id(donation);
    let din = donation["din"].as_str().unwrap().to_owned();
    let display = donation["din_display"].as_str().unwrap().to_owned();
    let check = donation["check_character"].as_str().unwrap().to_owned();
    assert!(
        to.starts_with(&format!("/donations/{donation_id}?ok=")),
        "{to}"
    );
    let html = landing(&app, &lab, &to).await;
    assert!(html.contains(&format!("The donation is recorded with DIN {display}.")));
    // the DIN large, its check character apart in its box
    let data = display[..display.len() - 2].to_owned();
    assert!(html.contains("class=\"big code\""), "{html}");
    assert!(
        html.contains(&format!("{data} <span class=\"din-check\"")),
        "{html}"
    );
    assert!(html.contains(&format!(">{check}</span>")));
    assert!(html.contains(&format!("href=\"/donors/{donor_id}\"")));
    assert!(html.contains(&format!("href=\"/lots/new?donation={donation_id}\"")));
    assert!(html.contains(&format!("/api/v1/donations/{donation_id}/label.zpl")));
    assert!(html.contains("Donation received"), "the history");
    // quality reads it, without the lab's button
    let (_, html) = page(&app, &format!("/donations/{donation_id}"), &quality).await;
    assert!(!html.contains("/lots/new?donation="));
    // a lot made from it is listed with its link
    let lot = app.lot(&team, &donation_id).await;
    let (_, html) = page(&app, &format!("/donations/{donation_id}"), &quality).await;
    assert!(
        html.contains(&format!("href=\"/lots/{}\"", id(&lot))),
        "{html}"
    );

    // the DIN label: PNG, SVG and ZPL, codes only
    let path = format!("/api/v1/donations/{donation_id}/label");
    let (status, kind, png) = app.get_bytes(&format!("{path}.png"), Some(&team.lab)).await;
    assert_eq!((status, kind.as_str()), (200, "image/png"));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let (status, kind, svg) = app
        .get_bytes(&format!("{path}.svg"), Some(&team.quality))
        .await;
    assert_eq!((status, kind.as_str()), (200, "image/svg+xml"));
    assert!(String::from_utf8(svg).unwrap().contains(&data));
    let (status, _, zpl) = app.get_bytes(&format!("{path}.zpl"), Some(&team.lab)).await;
    assert_eq!(status, 200);
    let zpl = String::from_utf8(zpl).unwrap();
    assert!(
        zpl.contains(&format!("{din}{check}")),
        "the QR payload: {zpl}"
    );
    assert!(zpl.contains(&data), "eye-readable: {zpl}");
    assert!(!zpl.contains("UCD-5001"), "no donor on the label");
    // the browser session reads it as well
    let response = browser()
        .get(app.url(&format!("{path}.png")))
        .header(COOKIE, &lab)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // and the scan station reads the label's payload as the donation
    let scanned = app
        .post(
            "/api/v1/scan",
            Some(&team.lab),
            json!({ "payload": format!("{din}{check}") }),
        )
        .await
        .expect(200);
    assert_eq!(scanned["id"], donation_id.as_str());

    // a DIN typed from the label opens its donation
    let response = browser()
        .get(app.url(&format!(
            "/donations/find?donor={donor_id}&din={}",
            display.replace(' ', "+")
        )))
        .header(COOKIE, &quality)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[LOCATION],
        format!("/donations/{donation_id}")
    );
}

async fn refused_donor_forms_change_nothing_and_say_why_in_words(app: TestApp) {
    let team = app.team().await;
    let lab = sign_in(&app, "lab.tech").await;
    let quality = sign_in(&app, "qa.officer").await;
    let (_, html) = page(&app, "/donors/new", &lab).await;
    let token = csrf(&html);
    let consent = site(app.days_ago(30));

    // no consent ticked: the form again, in words, nothing registered
    let (status, html) = post_form(
        &app,
        &lab,
        &token,
        "/donors/new",
        &[("code", "UCD-5101"), ("consent_at", &consent)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("cannot be registered without consent"),
        "{html}"
    );
    assert!(
        html.contains("value=\"UCD-5101\""),
        "what was typed is kept"
    );
    assert!(donor_by_code(&app, &team.lab, "UCD-5101").await.is_empty());

    // a code already registered
    app.register_donor(&team, "UCD-5102").await;
    let (status, html) = post_form(
        &app,
        &lab,
        &token,
        "/donors/new",
        &[
            ("code", "UCD-5102"),
            ("consent_at", &consent),
            ("consent_confirmed", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("is already registered."), "{html}");
    assert!(!html.contains("donor_code_taken"));
    assert_eq!(donor_by_code(&app, &team.lab, "UCD-5102").await.len(), 1);

    // a DIN with a wrong check character is never looked up
    let (donor, donation) = app.eligible_donor(&team, "UCD-5103").await;
    let donor_id = id(&donor);
    let display = donation["din_display"].as_str().unwrap();
    let check = donation["check_character"].as_str().unwrap();
    let wrong = if check == "A" { "B" } else { "A" };
    let typed = format!("{}{wrong}", &display[..display.len() - 1]);
    let response = browser()
        .get(app.url(&format!(
            "/donations/find?donor={donor_id}&din={}",
            typed.replace(' ', "+")
        )))
        .header(COOKIE, &lab)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        to.starts_with(&format!("/donors/{donor_id}?error=")),
        "{to}"
    );
    let html = landing(&app, &lab, &to).await;
    assert!(
        html.contains(&format!(
            "The check character {wrong:?} does not match this DIN"
        )) || html.contains(&format!("check character &quot;{wrong}&quot;"))
            || html.contains("does not match this DIN"),
        "{html}"
    );
    assert!(!html.contains("check_character_mismatch"));
    let api = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(api["donations"].as_array().unwrap().len(), 1);

    // a donor with every test negative, still pending
    let pending = app.register_donor(&team, "UCD-5104").await;
    let pending_id = id(&pending);
    for test in REQUIRED_SCREENING {
        app.screen(&team, &pending_id, test, "negative", app.days_ago(2))
            .await;
    }
    let back = format!("/donors/{pending_id}");
    let (_, html) = page(&app, &back, &quality).await;
    let quality_token = csrf(&html);
    let eligibility = format!("/donors/{pending_id}/eligibility");
    let fields = |password: &'static str| {
        vec![
            ("decision", "eligible"),
            ("password", password),
            ("meaning", "donor eligibility determination"),
        ]
    };
    // signed with a wrong password
    let (status, to) = post_form(
        &app,
        &quality,
        &quality_token,
        &eligibility,
        &fields("not-my-password"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.starts_with(&format!("{back}?error=")), "{to}");
    let html = landing(&app, &quality, &to).await;
    assert!(
        html.contains("Electronic signature refused: the password is not yours."),
        "{html}"
    );
    // by the lab, whose role may not decide
    let (status, html) = post_form(&app, &lab, &token, &eligibility, &fields(STAFF_PASSWORD)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Not for your role"), "{html}");
    assert!(html.contains("it is for: quality"), "{html}");
    // neither moved the donor
    let api = app
        .get(&format!("/api/v1/donors/{pending_id}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(api["eligibility"], "pending");
    assert!(api["eligibility_decided_at"].is_null());
    // the lab sees no decision form, quality sees no screening form
    let (_, html) = page(&app, &back, &lab).await;
    assert!(!html.contains(&format!("action=\"{eligibility}\"")));
    let (_, html) = page(&app, &back, &quality).await;
    assert!(!html.contains(&format!("action=\"/donors/{pending_id}/screening\"")));

    // a time that cannot be read, and a collection before the consent
    let (status, to) = post_form(
        &app,
        &lab,
        &token,
        &format!("/donors/{pending_id}/donations"),
        &[("collected_at", "yesterday"), ("received_at", "")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let html = landing(&app, &lab, &to).await;
    assert!(html.contains("A time could not be read"), "{html}");
    let early = site(app.days_ago(40));
    let (_, to) = post_form(
        &app,
        &lab,
        &token,
        &format!("/donors/{pending_id}/donations"),
        &[("collected_at", &early), ("received_at", &early)],
    )
    .await;
    let html = landing(&app, &lab, &to).await;
    assert!(html.contains("Collection precedes the donor"), "{html}");
    let api = app
        .get(&format!("/api/v1/donors/{pending_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert!(api["donations"].as_array().unwrap().is_empty());
}

async fn a_reactive_result_invalidated_under_signature_stays_as_a_correction(app: TestApp) {
    let team = app.team().await;
    let lab = sign_in(&app, "lab.tech").await;
    let quality = sign_in(&app, "qa.officer").await;
    let donor = app.register_donor(&team, "UCD-5301").await;
    let donor_id = id(&donor);
    let back = format!("/donors/{donor_id}");
    let (_, html) = page(&app, &back, &lab).await;
    let sampled = site(app.days_ago(3));
    let (status, to) = post_form(
        &app,
        &lab,
        &csrf(&html),
        &format!("/donors/{donor_id}/screening"),
        &[
            ("test", "hbv"),
            ("result", "positive"),
            ("specimen", "maternal"),
            ("tested_at", &sampled),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let html = landing(&app, &quality, &to).await;
    assert!(
        html.contains("Hepatitis B (HBV): positive is recorded."),
        "{html}"
    );
    assert!(html.contains("Not negative: Hepatitis B (HBV)."), "{html}");
    let api = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(api["eligibility"], "ineligible", "found by the result");
    let result_id = id(&api["screening"][0]);
    let invalidate = format!("/donors/{donor_id}/screening/{result_id}/invalidate");
    assert!(html.contains(&format!("action=\"{invalidate}\"")));
    // without a reason: refused in words, nothing changes
    let token = csrf(&html);
    let (_, to) = post_form(
        &app,
        &quality,
        &token,
        &invalidate,
        &[
            ("reason", " "),
            ("password", STAFF_PASSWORD),
            ("meaning", "screening result invalidated"),
        ],
    )
    .await;
    assert!(to.starts_with(&format!("{back}?error=")), "{to}");
    let api = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(api["screening"][0]["invalidated"], false);
    // signed, with its reason
    let (status, to) = post_form(
        &app,
        &quality,
        &token,
        &invalidate,
        &[
            ("reason", "specimen mix-up, deviation report DR-17"),
            ("password", STAFF_PASSWORD),
            ("meaning", "screening result invalidated"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let html = landing(&app, &quality, &to).await;
    assert!(html.contains("The result is invalidated."), "{html}");
    assert!(html.contains("<tr class=\"correction\">"), "{html}");
    assert!(html.contains("specimen mix-up, deviation report DR-17"));
    assert!(html.contains("Screening result invalidated"), "the history");
    let api = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(api["screening"][0]["invalidated"], true);
    assert_eq!(api["eligibility"], "pending", "for a new decision");
}

async fn the_donor_pages_speak_chinese_and_codes_stay_codes(app: TestApp) {
    let team = app.team().await;
    let (donor, donation) = app.eligible_donor(&team, "UCD-5201").await;
    app.put(
        "/api/v1/users/me/preferences",
        Some(&team.lab),
        json!({"language": "zh-CN"}),
    )
    .await
    .expect(200);
    let lab = sign_in(&app, "lab.tech").await;
    let (status, html) = page(&app, &format!("/donors/{}", id(&donor)), &lab).await;
    assert_eq!(status, StatusCode::OK);
    for words in [
        "筛查结果",
        "供者合格性",
        "乙型肝炎（HBV）",
        "阴性",
        "母亲血样",
        "记录筛查结果",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    assert!(html.contains("UCD-5201"), "the code is not translated");
    assert!(!html.contains("Screening results"));
    let (_, html) = page(&app, &format!("/donations/{}", id(&donation)), &lab).await;
    assert!(html.contains("由此捐献开始制备批次"), "{html}");
    assert!(html.contains(donation["din"].as_str().unwrap().get(..5).unwrap()));
    let (_, html) = page(&app, "/donors/new", &lab).await;
    assert!(html.contains("我已核对供者母亲"), "{html}");
}

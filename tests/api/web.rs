//! The staff pages' security, over HTTP on both databases: the session
//! cookie, sign-out revocation, CSRF on every form, sign-in redirects, and
//! the line between cookie reads and bearer writes. (The pages themselves
//! are driven in a real browser by `web-tests/run.mjs`.)

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::helpers::{STAFF_PASSWORD, TestApp};
use crate::on_both_databases;
use crate::story::id;

on_both_databases!(
    signing_in_sets_a_strict_cookie_and_signing_out_revokes_it,
    every_form_needs_its_csrf_token,
    pages_need_a_session_and_send_people_to_sign_in,
    a_browser_session_reads_the_api_but_never_writes_it,
    pages_show_clear_errors_not_traces,
    a_session_that_ended_says_so_and_returns_to_the_page_never_a_post_route,
    a_form_says_who_it_is_for_and_a_refusal_goes_back_in_words,
);

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The sign-in form's cookie and token, as a browser gets them with the form.
pub async fn sign_in_form(app: &TestApp) -> (String, String) {
    let response = browser().get(app.url("/")).send().await.unwrap();
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("celltrail_sign_in="))
        .expect("the sign-in form comes with its cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    (cookie, csrf(&html))
}

/// Posts the sign-in form as a browser that was given it.
pub async fn post_sign_in(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    let (cookie, token) = sign_in_form(app).await;
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf", &token));
    browser()
        .post(app.url("/sign-in"))
        .header(COOKIE, cookie)
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Signs in through the form; returns the `name=value` cookie.
pub async fn sign_in(app: &TestApp, username: &str) -> String {
    let response = post_sign_in(
        app,
        &[
            ("username", username),
            ("password", STAFF_PASSWORD),
            ("next", "/scan"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/scan");
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    cookie.split(';').next().unwrap().to_owned()
}

pub async fn page(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, String) {
    let response = browser()
        .get(app.url(path))
        .header(COOKIE, cookie)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The CSRF token of a page's forms.
pub fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..at + 32].to_owned()
}

async fn signing_in_sets_a_strict_cookie_and_signing_out_revokes_it(app: TestApp) {
    app.team().await;
    let response = post_sign_in(
        &app,
        &[("username", "lab.tech"), ("password", STAFF_PASSWORD)],
    )
    .await;
    let set = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(set.contains(attribute), "{set} lacks {attribute}");
    }
    let cookie = set.split(';').next().unwrap().to_owned();
    let (status, home) = page(&app, "/", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("What needs doing"));
    // a wrong password is a page with the message, and no cookie
    let wrong = post_sign_in(
        &app,
        &[("username", "lab.tech"), ("password", "not-my-password")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        !wrong
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("celltrail_session=")),
        "no session cookie"
    );
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Wrong username or password")
    );
    // signing out revokes the session, not just the cookie
    let out = browser()
        .post(app.url("/sign-out"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf(&home))])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(
        out.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = page(&app, "/scan", &cookie).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the old cookie no longer signs in"
    );
    // and an open redirect is not offered, however it is spelled
    for next in [
        "//evil.example/",
        "/\t/evil.example",
        "/\\evil.example",
        "/scan\r\nX: y",
    ] {
        let response = post_sign_in(
            &app,
            &[
                ("username", "lab.tech"),
                ("password", STAFF_PASSWORD),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(response.headers()[LOCATION], "/", "{next:?}");
    }
    // a sign-in form without its token, or with another browser's, is refused
    let (_, token) = sign_in_form(&app).await;
    for (cookie, token) in [
        (String::new(), String::new()),
        ("celltrail_sign_in=abc".to_owned(), token),
    ] {
        let forged = browser()
            .post(app.url("/sign-in"))
            .header(COOKIE, cookie)
            .form(&[
                ("username", "lab.tech"),
                ("password", STAFF_PASSWORD),
                ("csrf", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert!(
            !forged
                .headers()
                .get_all(SET_COOKIE)
                .iter()
                .any(|c| c.to_str().unwrap().starts_with("celltrail_session=")),
        );
    }
}

async fn every_form_needs_its_csrf_token(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-W001", 1).await;
    let the_box = app.storage_box(&team, "W", 9, 9).await;
    let cookie = sign_in(&app, "lab.tech").await;
    let (_, scan) = page(
        &app,
        &format!("/scan?q={}", vials[0]["code"].as_str().unwrap()),
        &cookie,
    )
    .await;
    let token = csrf(&scan);
    let store = |csrf: String| {
        browser()
            .post(app.url(&format!("/vials/{}/store", id(&vials[0]))))
            .header(COOKIE, &cookie)
            .form(&[
                ("csrf", csrf),
                ("box_id", id(&the_box)),
                ("position", "A1".into()),
            ])
            .send()
    };
    for forged in ["", "0123456789abcdef0123456789abcdef", &token[..31]] {
        let refused = store(forged.to_owned()).await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{forged:?}");
    }
    let vial = app
        .get(&format!("/api/v1/vials/{}", id(&vials[0])), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(
        vial["location"],
        json!(null),
        "a refused form changed nothing"
    );
    let done = store(token).await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let vial = app
        .get(&format!("/api/v1/vials/{}", id(&vials[0])), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(vial["location"]["position"], "A1");
    // another session's token does not work either
    let (_, quality) = app.staff("qa.two", "quality").await;
    let _ = quality;
    let other = sign_in(&app, "qa.two").await;
    let (_, other_home) = page(&app, "/", &other).await;
    let refused = browser()
        .post(app.url(&format!("/vials/{}/store", id(&vials[0]))))
        .header(COOKIE, &cookie)
        .form(&[
            ("csrf", csrf(&other_home)),
            ("box_id", id(&the_box)),
            ("position", "A2".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

async fn pages_need_a_session_and_send_people_to_sign_in(app: TestApp) {
    for path in [
        "/scan",
        "/patients",
        "/storage",
        "/lots/00000000-0000-0000-0000-000000000000",
    ] {
        let response = browser().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let location = response.headers()[LOCATION].to_str().unwrap();
        assert!(location.starts_with("/?next=%2F"), "{location}");
    }
    let (status, body) = page(&app, "/", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("action=\"/sign-in\""));
    // a forged cookie is no session
    let (status, _) = page(&app, "/scan", "celltrail_session=ct_forged").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

async fn a_browser_session_reads_the_api_but_never_writes_it(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-W002", 1).await;
    let cookie = sign_in(&app, "lab.tech").await;
    let label = browser()
        .get(app.url(&format!("/api/v1/vials/{}/label.png", id(&vials[0]))))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(label.status(), StatusCode::OK);
    let write = browser()
        .post(app.url("/api/v1/scan"))
        .header(COOKIE, &cookie)
        .json(&json!({ "payload": vials[0]["scan_payload"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        write.status(),
        StatusCode::UNAUTHORIZED,
        "a cookie never drives the JSON API's writes"
    );
}

async fn pages_show_clear_errors_not_traces(app: TestApp) {
    app.team().await;
    let cookie = sign_in(&app, "lab.tech").await;
    let (status, body) = page(&app, "/lots/00000000-0000-0000-0000-000000000000", &cookie).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("No lot with id"), "{body}");
    let (status, body) = page(&app, "/nowhere", &cookie).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("No such page"));
    let (status, body) = page(&app, "/scan?q=%00garbage", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    // said in a sentence, never the error's code
    assert!(body.contains("id=\"scan-error\""), "{body}");
    assert!(
        !body.contains("malformed payload") && !body.contains("malformed_payload"),
        "{body}"
    );
    // a role's limits are pages too
    let (status, body) = page(
        &app,
        "/patients/00000000-0000-0000-0000-000000000000/dose",
        &cookie,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("panicked"));
}

/// A session that ended: a page opened says so and comes back after
/// signing in; a form sent is answered at once with the sign-in form (401,
/// marked for the page's script to keep the entry), returning to the page
/// the form was on, never to the form's POST route (which a browser would
/// open with GET: a 405). Nothing was recorded.
async fn a_session_that_ended_says_so_and_returns_to_the_page_never_a_post_route(app: TestApp) {
    let clinic = app.clinic().await;
    let patient = app.weighed_patient(&clinic, "PV-W90", 61).await;
    let patient_page = format!("/patients/{}", id(&patient));
    let cookie = sign_in(&app, "nurse.one").await;
    let (status, html) = page(&app, &patient_page, &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("src=\"/assets/keep.js\""),
        "every page keeps entries"
    );
    let token = csrf(&html);
    let session = cookie.trim_start_matches("celltrail_session=").to_owned();
    app.post("/api/v1/auth/logout", Some(&session), json!({}))
        .await
        .expect(204);

    // a page: to sign-in, saying the session ended, and back
    let response = browser()
        .get(app.url(&format!("{patient_page}?tab=weights")))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/?next=%2Fpatients%2F"), "{location}");
    let (_, sign_in_html) = page(&app, &location, &cookie).await;
    assert!(
        sign_in_html.contains("Your session had ended."),
        "{sign_in_html}"
    );
    // without a cookie at all, nothing is said to have ended
    let fresh = browser().get(app.url(&patient_page)).send().await.unwrap();
    assert!(
        !fresh.headers()[LOCATION]
            .to_str()
            .unwrap()
            .contains("error=")
    );

    // a form, sent from the patient's page
    let before = app
        .get(
            &format!("/api/v1/patients/{}", id(&patient)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    for (referer, back) in [
        (
            Some(app.url(&format!("{patient_page}?tab=weights"))),
            format!("{patient_page}?tab=weights"),
        ),
        (None, patient_page.clone()),
        (
            Some("https://elsewhere.example/x".to_owned()),
            patient_page.clone(),
        ),
    ] {
        let mut request = browser()
            .post(app.url(&format!("{patient_page}/weights")))
            .header(COOKIE, &cookie)
            .form(&[("csrf", token.as_str()), ("value", "61.5"), ("unit", "kg")]);
        if let Some(referer) = &referer {
            request = request.header(reqwest::header::REFERER, referer);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{referer:?}");
        let html = response.text().await.unwrap();
        assert!(html.contains("data-session-ended"), "{html}");
        assert!(html.contains("so what you sent was not saved"), "{html}");
        assert!(
            html.contains(&format!("name=\"next\" value=\"{back}\"")),
            "{referer:?}: {html}"
        );
        assert!(!html.contains("/weights\""), "never back to the POST route");
    }
    let after = app
        .get(
            &format!("/api/v1/patients/{}", id(&patient)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    assert_eq!(before, after, "nothing was recorded");
    // signing in from that form lands on the page
    let response = post_sign_in(
        &app,
        &[
            ("username", "nurse.one"),
            ("password", STAFF_PASSWORD),
            ("next", &patient_page),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], patient_page.as_str());
}

/// The role a form admits is the route's (`PageUser<roles::Quality>`): the
/// lab is shown the forbidden page naming who may, a quality officer with
/// another session's token the expired-form page, and a signature the
/// service refuses goes back to the lot's page in words. None of it
/// releases the lot.
async fn a_form_says_who_it_is_for_and_a_refusal_goes_back_in_words(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.quarantined_lot(&team, "UCD-W002", 1).await;
    let lot_id = id(&lot);
    let release = |cookie: String, csrf: String, password: &'static str| {
        browser()
            .post(app.url(&format!("/lots/{lot_id}/release")))
            .header(COOKIE, cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("password", password),
                ("meaning", "released for clinical use"),
            ])
            .send()
    };
    let lab = sign_in(&app, "lab.tech").await;
    let (_, lab_home) = page(&app, "/", &lab).await;
    let refused = release(lab.clone(), csrf(&lab_home), STAFF_PASSWORD)
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body = refused.text().await.unwrap();
    assert!(body.contains("Not for your role"), "{body}");
    assert!(
        body.contains("A lab may not do this; it is for: quality."),
        "{body}"
    );

    let quality = sign_in(&app, "qa.officer").await;
    let refused = release(quality.clone(), csrf(&lab_home), STAFF_PASSWORD)
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );

    let (_, lot_page) = page(&app, &format!("/lots/{lot_id}"), &quality).await;
    let back = release(quality.clone(), csrf(&lot_page), "not the password")
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let to = back.headers()[LOCATION].to_str().unwrap();
    assert!(to.starts_with(&format!("/lots/{lot_id}?error=")), "{to}");

    let lot = app
        .get(&format!("/api/v1/lots/{lot_id}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(lot["status"], "quarantine", "nothing was released");
}

/// Posts a page's form as the browser with `cookie`; returns the status
/// and where it sends the browser.
pub async fn submit(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let response = browser()
        .post(app.url(path))
        .header(COOKIE, cookie)
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, response.text().await.unwrap())
}

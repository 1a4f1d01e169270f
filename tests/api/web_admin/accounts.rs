//! The accounts page: an account created by the form signs in,
//! deactivation and reactivation signed, a new password; refusals in words
//! that change nothing.

use reqwest::StatusCode;
use reqwest::header::COOKIE;

use super::{account, admin_session, submit, submit_and_read, submit_get};
use crate::helpers::{ADMIN_PASSWORD, STAFF_PASSWORD, TestApp, token_of};
use crate::on_both_databases;
use crate::story::id;
use crate::web::{browser, csrf, page, sign_in};

on_both_databases!(
    the_administrator_creates_deactivates_and_reactivates_accounts_by_the_forms,
    account_forms_that_are_refused_change_nothing_and_say_why,
);

async fn the_administrator_creates_deactivates_and_reactivates_accounts_by_the_forms(app: TestApp) {
    let admin = admin_session(&app).await;
    // the home page leads there; `/accounts` is the same page
    let (_, html) = page(&app, "/", &admin).await;
    assert!(html.contains("href=\"/accounts\""), "{html}");
    let (status, location, _) = submit_get(&app, &admin, "/accounts/").await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/accounts")
    );
    let (status, html) = page(&app, "/accounts", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let token = csrf(&html);

    let (location, html) = submit_and_read(
        &app,
        &admin,
        "/accounts",
        &[
            ("csrf", &token),
            ("username", "new.nurse"),
            ("full_name", "Wang Fang"),
            ("role", "clinician"),
            ("password", STAFF_PASSWORD),
        ],
    )
    .await;
    assert!(location.starts_with("/accounts?ok="), "{location}");
    assert!(
        html.contains("The account new.nurse (Clinician) is created"),
        "{html}"
    );
    assert!(html.contains("Wang Fang"));
    let created = account(&app, "new.nurse").await.expect("created");
    assert_eq!(created["role"], "clinician");
    // it can sign in, through the page
    sign_in(&app, "new.nurse").await;

    let nurse = id(&created);
    let deactivate = format!("/accounts/{nurse}/deactivate");
    let (_, html) = submit_and_read(
        &app,
        &admin,
        &deactivate,
        &[
            ("csrf", &token),
            ("reason", "left the trial team"),
            ("password", ADMIN_PASSWORD),
            ("meaning", "account deactivated"),
        ],
    )
    .await;
    assert!(html.contains("new.nurse is deactivated"), "{html}");
    assert_eq!(account(&app, "new.nurse").await.unwrap()["active"], false);
    app.login("new.nurse", STAFF_PASSWORD)
        .await
        .expect_error(401, "account_deactivated");

    let (_, html) = submit_and_read(
        &app,
        &admin,
        &format!("/accounts/{nurse}/reactivate"),
        &[
            ("csrf", &token),
            ("reason", "back on the team"),
            ("password", ADMIN_PASSWORD),
            ("meaning", "account reactivated"),
        ],
    )
    .await;
    assert!(html.contains("new.nurse is active again"), "{html}");
    token_of(app.login("new.nurse", STAFF_PASSWORD).await);

    // a new password: the old one no longer signs in, the new one does
    let (_, html) = submit_and_read(
        &app,
        &admin,
        &format!("/accounts/{nurse}/password"),
        &[("csrf", &token), ("new_password", "a-brand-new-secret")],
    )
    .await;
    assert!(html.contains("new.nurse has a new password"), "{html}");
    token_of(app.login("new.nurse", "a-brand-new-secret").await);
    assert_ne!(
        app.login("new.nurse", STAFF_PASSWORD).await.status,
        StatusCode::OK
    );

    // in Chinese, by the browser's language
    let response = browser()
        .get(app.url("/accounts"))
        .header(COOKIE, &admin)
        .header(reqwest::header::ACCEPT_LANGUAGE, "zh-CN")
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    assert!(
        html.contains("账户管理") && html.contains("新建账户"),
        "{html}"
    );
    assert!(html.contains("临床医护"), "the role in words: {html}");
}

async fn account_forms_that_are_refused_change_nothing_and_say_why(app: TestApp) {
    let admin = admin_session(&app).await;
    let (_, html) = page(&app, "/accounts", &admin).await;
    let token = csrf(&html);
    let new = |username: &'static str, password: &'static str| {
        vec![
            ("csrf", token.clone()),
            ("username", username.to_owned()),
            ("full_name", "Li Na".to_owned()),
            ("role", "pharmacist".to_owned()),
            ("password", password.to_owned()),
        ]
    };
    let as_refs =
        |fields: &[(&'static str, String)]| -> Vec<(&'static str, String)> { fields.to_vec() };

    // a weak password
    let fields = as_refs(&new("li.na", "short"));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (location, html) = submit_and_read(&app, &admin, "/accounts", &fields).await;
    assert!(location.starts_with("/accounts?error="), "{location}");
    assert!(
        html.contains("A password needs at least 10 characters."),
        "{html}"
    );
    assert!(account(&app, "li.na").await.is_none());

    // a username that is taken
    app.staff("li.na", "pharmacist").await;
    let fields = as_refs(&new("li.na", STAFF_PASSWORD));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, html) = submit_and_read(&app, &admin, "/accounts", &fields).await;
    assert!(
        html.contains("li.na") && html.contains("is taken"),
        "{html}"
    );
    assert_eq!(account(&app, "li.na").await.unwrap()["role"], "pharmacist");
    assert_eq!(
        account(&app, "li.na").await.unwrap()["full_name"],
        "li.na (test)"
    );

    // the administrator deactivating themself: the service refuses, in words
    let me = account(&app, "admin").await.unwrap();
    let (_, html) = submit_and_read(
        &app,
        &admin,
        &format!("/accounts/{}/deactivate", id(&me)),
        &[
            ("csrf", &token),
            ("reason", "testing"),
            ("password", ADMIN_PASSWORD),
            ("meaning", "account deactivated"),
        ],
    )
    .await;
    assert!(
        html.contains("This would leave no active administrator to manage accounts."),
        "{html}"
    );
    assert_eq!(account(&app, "admin").await.unwrap()["active"], true);

    // a wrong signature password
    let li = account(&app, "li.na").await.unwrap();
    let (_, html) = submit_and_read(
        &app,
        &admin,
        &format!("/accounts/{}/deactivate", id(&li)),
        &[
            ("csrf", &token),
            ("reason", "left"),
            ("password", "not-my-password"),
            ("meaning", "account deactivated"),
        ],
    )
    .await;
    assert!(html.contains("the password is not yours"), "{html}");
    assert_eq!(account(&app, "li.na").await.unwrap()["active"], true);

    // no page ever shows a field's name or an error code
    for code in [
        "weak_password",
        "username_taken",
        "last_administrator",
        "signature_invalid",
    ] {
        assert!(!html.contains(code));
    }

    // anyone else: the "not for your role" page, and their form does nothing
    let pharmacist = sign_in(&app, "li.na").await;
    let (status, html) = page(&app, "/accounts", &pharmacist).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("<h1>"), "a page, not JSON: {html}");
    let (_, html) = page(&app, "/", &pharmacist).await;
    let theirs = csrf(&html);
    let (status, _, _) = submit(
        &app,
        &pharmacist,
        "/accounts",
        &[
            ("csrf", &theirs),
            ("username", "sneaky.one"),
            ("full_name", "Sneaky"),
            ("role", "admin"),
            ("password", STAFF_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(account(&app, "sneaky.one").await.is_none());
}

//! The administrator's accounts page, the protocol record and the
//! assessment visits on the home pages, over HTTP on both databases: each
//! form does what the API does, and each refusal changes nothing (checked
//! through the API) and says why in words.

mod accounts;
mod protocol;
mod sites;
mod visits;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, TestApp};
use crate::web::{browser, page, post_sign_in};

/// Signs the bootstrap administrator in through the form.
pub async fn admin_session(app: &TestApp) -> String {
    let response = post_sign_in(app, &[("username", "admin"), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

pub use crate::web::submit;

/// A GET that is not followed: its status and where it sends the browser.
pub async fn submit_get(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String, String) {
    let response = browser()
        .get(app.url(path))
        .header(COOKIE, cookie)
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

/// Posts a form and reads the page it comes back to, with its message.
pub async fn submit_and_read(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (String, String) {
    let (status, location, _) = submit(app, cookie, path, fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
    let (status, html) = page(app, &location, cookie).await;
    assert_eq!(status, StatusCode::OK, "{location}");
    (location, html)
}

/// The account of `username`, through the API.
pub async fn account(app: &TestApp, username: &str) -> Option<Value> {
    let admin = app.admin_token().await;
    let list = app.get("/api/v1/users", Some(&admin)).await.expect(200);
    let items = list
        .as_array()
        .or(list["items"].as_array())
        .cloned()
        .unwrap_or_default();
    items.into_iter().find(|u| u["username"] == username)
}

//! The list pages and the search box, over HTTP on both databases: the
//! records with links to their pages, filters, the next page, a search
//! that goes straight to the one record it names, and a filter that cannot
//! be read said in words.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::helpers::{STAFF_PASSWORD, TestApp};
use crate::on_both_databases;
use crate::story::id;
use crate::web::{browser, page, post_sign_in, sign_in};

on_both_databases!(
    list_pages_show_records_filters_and_the_next_page,
    the_search_box_goes_to_the_one_record_or_lists_every_match,
    a_filter_that_cannot_be_read_is_said_in_words,
);

async fn list_pages_show_records_filters_and_the_next_page(app: TestApp) {
    let team = app.team().await;
    let (lot, vials) = app.dosing_stock(&team, "UCD-3001", 60, 20).await;
    let (held, _) = app.quarantined_lot(&team, "UCD-3002", 2).await;
    let quality = sign_in(&app, "qa.officer").await;

    let (status, html) = page(&app, "/lots", &quality).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("href=\"/lots/{}\"", id(&lot))),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"/lots/{}\"", id(&held))));
    let (_, html) = page(&app, "/lots?status=released", &quality).await;
    assert!(html.contains(lot["code"].as_str().unwrap()));
    assert!(!html.contains(held["code"].as_str().unwrap()));
    let (_, html) = page(&app, "/lots?expiring_within_days=30", &quality).await;
    assert!(html.contains(lot["code"].as_str().unwrap()));
    assert!(
        !html.contains(held["code"].as_str().unwrap()),
        "expires in a year"
    );

    // 62 vials: 50, then the next page by its link, which keeps the filter
    let (_, html) = page(&app, "/vials?status=available", &quality).await;
    assert_eq!(html.matches("href=\"/vials/").count(), 50);
    let next = html
        .split("href=\"/vials?cursor=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next-page link");
    let next = format!("/vials?cursor={}", next.replace("&amp;", "&"));
    assert!(next.contains("status=available"), "{next}");
    let (status, html) = page(&app, &next, &quality).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("href=\"/vials/").count(), 10);
    assert!(!html.contains("Next page"));
    let last = vials.last().unwrap();
    assert!(html.contains(&format!("href=\"/vials/{}\"", id(last))));

    // the clinic's lists
    let clinic = app.clinic().await;
    let patient = app.weighed_patient(&clinic, "PV-301", 64).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let pharmacist = sign_in(&app, "pharm.one").await;
    let (_, html) = page(&app, "/patients", &pharmacist).await;
    assert!(html.contains(&format!("href=\"/patients/{}\"", id(&patient))));
    let (_, html) = page(&app, "/doses?status=reserved", &pharmacist).await;
    assert!(html.contains(&format!("href=\"/doses/{}\"", id(&dose))));
    assert!(html.contains("1 of 6"));
    let (_, html) = page(&app, "/doses?status=infused", &pharmacist).await;
    assert!(html.contains("Nothing matches."));
    let (_, html) = page(&app, "/donors?status=eligible", &quality).await;
    assert!(html.contains("UCD-3001") && html.contains("UCD-3002"));

    // the administrator manages accounts, not products
    app.staff("second.admin", "admin").await;
    let response = post_sign_in(
        &app,
        &[("username", "second.admin"), ("password", STAFF_PASSWORD)],
    )
    .await;
    let admin = response.headers()[SET_COOKIE].to_str().unwrap();
    let admin = admin.split(';').next().unwrap().to_owned();
    for path in [
        "/lots",
        "/vials",
        "/doses",
        "/donors",
        "/patients",
        "/search?q=PV",
    ] {
        let (status, _) = page(&app, path, &admin).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
}

async fn the_search_box_goes_to_the_one_record_or_lists_every_match(app: TestApp) {
    let team = app.team().await;
    let (lot, vials) = app.dosing_stock(&team, "UCD-3101", 3, 300).await;
    let lab = sign_in(&app, "lab.tech").await;
    let go = |q: String| {
        let app = &app;
        let lab = lab.clone();
        async move {
            let response = browser()
                .get(app.url(&format!("/search?q={}", encode(&q))))
                .header(COOKIE, lab)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let location = response
                .headers()
                .get(LOCATION)
                .map(|l| l.to_str().unwrap().to_owned());
            (status, location, response.text().await.unwrap())
        }
    };
    // a scanned vial label: straight to the vial
    let code = vials[1]["code"].as_str().unwrap();
    let (status, location, _) = go(format!("CT1:V:{code}\n")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.unwrap(), format!("/vials/{}", id(&vials[1])));
    // a DIN: the lot, its vials and its donor, each a link
    let (status, _, html) = go(lot["din_display"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("href=\"/lots/{}\"", id(&lot))),
        "{html}"
    );
    for vial in &vials {
        assert!(html.contains(&format!("href=\"/vials/{}\"", id(vial))));
    }
    assert!(html.contains("UCD-3101"));
    // nothing: said so
    let (status, _, html) = go("ZZZ-404".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Nothing has a code, DIN or subject code that starts with"));
    // the search form in every staff page's header
    let (_, html) = page(&app, "/scan", &lab).await;
    assert!(html.contains("action=\"/search\""));
}

/// Escapes a query value as a browser's form would.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn a_filter_that_cannot_be_read_is_said_in_words(app: TestApp) {
    let team = app.team().await;
    app.dosing_stock(&team, "UCD-3201", 2, 300).await;
    let quality = sign_in(&app, "qa.officer").await;
    for (path, words) in [
        ("/lots?status=lost", "Choose a status from the list."),
        ("/vials?q=PV_1", "letters, digits and '-' only"),
        ("/doses?cursor=garbage", "start again from the first page"),
        (
            "/lots?expiring_within_days=soon",
            "Choose how many days ahead to look.",
        ),
        ("/vials?lot_id=not-an-id", "This link is damaged"),
        ("/search?q=%25%25", "letters, digits and '-' only"),
    ] {
        let (status, html) = page(&app, path, &quality).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let alert = html
            .split("role=\"alert\">")
            .nth(1)
            .and_then(|rest| rest.split("</div>").next())
            .unwrap_or_else(|| panic!("{path}: the refusal is shown: {html}"));
        assert!(alert.contains(words), "{path}: {alert}");
        assert!(alert.starts_with(char::is_uppercase), "{path}: {alert}");
        assert!(alert.ends_with('.'), "{path}: {alert}");
        for api_words in ["invalid_field", "field", "_", "cursor:", "q:"] {
            assert!(
                !alert.contains(api_words),
                "{path} says {api_words}: {alert}"
            );
        }
    }
}

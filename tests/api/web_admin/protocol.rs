//! The protocol page: the record in words, its versions, and the signed
//! amendment reviewed old → new; refusals in words that change nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{submit, submit_and_read};
use crate::helpers::{STAFF_PASSWORD, TestApp};
use crate::on_both_databases;
use crate::web::{csrf, page, sign_in};

on_both_databases!(
    the_protocol_page_shows_the_record_and_a_signed_amendment_makes_a_version,
    protocol_amendments_that_are_refused_change_nothing_and_say_why,
);

/// The protocol in force, through the API.
async fn protocol(app: &TestApp, token: &str) -> Value {
    app.get("/api/v1/protocol", Some(token)).await.expect(200)
}

async fn the_protocol_page_shows_the_record_and_a_signed_amendment_makes_a_version(app: TestApp) {
    let team = app.team().await;
    let lab = sign_in(&app, "lab.tech").await;
    let (status, html) = page(&app, "/protocol", &lab).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Version 1"), "{html}");
    assert!(html.contains("NCT02491658"));
    assert!(html.contains("Week 52") && html.contains("Baseline"));
    assert!(!html.contains("/protocol/review"), "only quality amends");
    // the schedule is in the API too (the default, on a record without it)
    let before = protocol(&app, &team.lab).await;
    assert_eq!(before["visit_schedule"].as_array().unwrap().len(), 6);
    assert_eq!(
        before["visit_schedule"][1],
        json!({ "week": 4, "early_days": 7, "late_days": 7 })
    );

    let quality = sign_in(&app, "qa.officer").await;
    let (_, html) = page(&app, "/protocol", &quality).await;
    assert!(html.contains("action=\"/protocol/review\""));
    let token = csrf(&html);
    // the review shows the change old → new, and changes nothing yet
    let (status, _, html) = submit(
        &app,
        &quality,
        "/protocol/review",
        &[
            ("csrf", &token),
            ("base_version", "1"),
            ("dose_cells_per_kg", "1 200 000"),
            ("visit_week_0", "0"),
            ("visit_early_0", "28"),
            ("visit_late_0", "0"),
            ("visit_week_1", "4"),
            ("visit_early_1", "5"),
            ("visit_late_1", "5"),
            ("visit_week_2", "8"),
            ("visit_early_2", "7"),
            ("visit_late_2", "7"),
            ("visit_week_3", "12"),
            ("visit_early_3", "7"),
            ("visit_late_3", "7"),
            ("visit_week_4", "24"),
            ("visit_early_4", "14"),
            ("visit_late_4", "14"),
            ("visit_week_5", "52"),
            ("visit_early_5", "28"),
            ("visit_late_5", "28"),
            ("visit_week_6", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Dose: viable cells per kg of body weight"),
        "{html}"
    );
    assert!(
        html.contains("Week 4 (−7 / +7 days)") && html.contains("Week 4 (−5 / +5 days)"),
        "{html}"
    );
    assert!(
        !html.contains("dose_cells_per_kg</"),
        "never a field's name shown"
    );
    assert_eq!(protocol(&app, &team.quality).await["version"], 1);

    let hidden = |html: &str, name: &str| -> String {
        let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap() + name.len() + 15;
        html[at..].split('"').next().unwrap().to_owned()
    };
    assert_eq!(hidden(&html, "visit_early_1"), "5");
    let (_, html) = submit_and_read(
        &app,
        &quality,
        "/protocol/amend",
        &[
            ("csrf", &token),
            ("base_version", "1"),
            ("dose_cells_per_kg", "1 200 000"),
            ("visit_week_0", "0"),
            ("visit_early_0", "28"),
            ("visit_late_0", "0"),
            ("visit_week_1", "4"),
            ("visit_early_1", "5"),
            ("visit_late_1", "5"),
            ("visit_week_2", "8"),
            ("visit_early_2", "7"),
            ("visit_late_2", "7"),
            ("visit_week_3", "12"),
            ("visit_early_3", "7"),
            ("visit_late_3", "7"),
            ("visit_week_4", "24"),
            ("visit_early_4", "14"),
            ("visit_late_4", "14"),
            ("visit_week_5", "52"),
            ("visit_early_5", "28"),
            ("visit_late_5", "28"),
            ("visit_week_6", ""),
            ("reason", "Amendment 2, approved by the ethics committee"),
            ("password", STAFF_PASSWORD),
            ("meaning", "protocol amended"),
        ],
    )
    .await;
    assert!(html.contains("version 2 is in force"), "{html}");
    assert!(html.contains("Version 2"));
    assert!(
        html.contains("Amendment 2, approved by the ethics committee"),
        "the history: {html}"
    );
    assert!(
        html.contains("qa.officer") && html.contains("protocol amended"),
        "signer and meaning"
    );
    let after = protocol(&app, &team.quality).await;
    assert_eq!(after["version"], 2);
    assert_eq!(after["dose_cells_per_kg"], 1_200_000);
    assert_eq!(
        after["visit_schedule"][1],
        json!({ "week": 4, "early_days": 5, "late_days": 5 })
    );
    assert_eq!(
        after["reason"],
        "Amendment 2, approved by the ethics committee"
    );

    // in Chinese, by the person's own choice
    app.put(
        "/api/v1/users/me/preferences",
        Some(&team.lab),
        json!({ "language": "zh-CN" }),
    )
    .await
    .expect(200);
    let (_, html) = page(&app, "/protocol", &lab).await;
    assert!(
        html.contains("第 2 版") && html.contains("评估访视") && html.contains("基线"),
        "{html}"
    );
}

async fn protocol_amendments_that_are_refused_change_nothing_and_say_why(app: TestApp) {
    let team = app.team().await;
    let quality = sign_in(&app, "qa.officer").await;
    let (_, html) = page(&app, "/protocol", &quality).await;
    let token = csrf(&html);
    let review = |fields: Vec<(&'static str, &'static str)>| {
        let mut all = vec![("csrf", token.clone()), ("base_version", "1".to_owned())];
        all.extend(fields.into_iter().map(|(k, v)| (k, v.to_owned())));
        all
    };
    let cases: [(Vec<(&str, &str)>, &str); 4] = [
        (
            vec![("infusions", "six")],
            "Infusions per patient: “six” is not a whole number.",
        ),
        (
            vec![("window_days", "0")],
            "Last infusion on this day at the latest: 1 to 3650.",
        ),
        (
            vec![
                ("visit_week_0", "4"),
                ("visit_early_0", "7"),
                ("visit_late_0", "7"),
                ("visit_week_1", "5"),
                ("visit_early_1", "7"),
                ("visit_late_1", "7"),
            ],
            "the window of week 5 overlaps the visit before it",
        ),
        (vec![("infusions", "6")], "Nothing was changed"),
    ];
    for (fields, words) in cases {
        let fields = review(fields);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (location, html) = submit_and_read(&app, &quality, "/protocol/review", &fields).await;
        assert!(location.starts_with("/protocol?error="), "{location}");
        assert!(html.contains(words), "{words}: {html}");
        assert!(!html.contains("invalid_field"));
    }
    // a wrong signature password
    let (_, html) = submit_and_read(
        &app,
        &quality,
        "/protocol/amend",
        &[
            ("csrf", &token),
            ("base_version", "1"),
            ("infusions", "5"),
            ("reason", "Amendment 2"),
            ("password", "not-my-password"),
            ("meaning", "protocol amended"),
        ],
    )
    .await;
    assert!(html.contains("the password is not yours"), "{html}");
    // signed without a reason
    let (_, html) = submit_and_read(
        &app,
        &quality,
        "/protocol/amend",
        &[
            ("csrf", &token),
            ("base_version", "1"),
            ("infusions", "5"),
            ("reason", "  "),
            ("password", STAFF_PASSWORD),
            ("meaning", "protocol amended"),
        ],
    )
    .await;
    assert!(
        html.contains("A reason of 1 to 1000 characters is required."),
        "{html}"
    );
    // a review of a version no longer in force
    let (_, html) = submit_and_read(
        &app,
        &quality,
        "/protocol/amend",
        &[
            ("csrf", &token),
            ("base_version", "0"),
            ("infusions", "5"),
            ("reason", "Amendment 2"),
            ("password", STAFF_PASSWORD),
            ("meaning", "protocol amended"),
        ],
    )
    .await;
    assert!(html.contains("amended by someone else meanwhile"), "{html}");
    let still = protocol(&app, &team.quality).await;
    assert_eq!(
        (still["version"].clone(), still["infusions"].clone()),
        (json!(1), json!(6))
    );

    // the API refuses the same schedule for the same reason
    let mut body = protocol(&app, &team.quality).await;
    body["visit_schedule"][1]["late_days"] = json!(28);
    for derived in ["version", "effective_at", "recorded_by", "reason"] {
        body.as_object_mut().unwrap().remove(derived);
    }
    let refused = app
        .put(
            "/api/v1/protocol",
            Some(&team.quality),
            json!({ "protocol": body, "reason": "Amendment 2",
                "signature": { "password": STAFF_PASSWORD, "meaning": "protocol amended" } }),
        )
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(refused["field"], "visit_schedule", "{refused}");

    // another role cannot amend
    let lab = sign_in(&app, "lab.tech").await;
    let (_, html) = page(&app, "/protocol", &lab).await;
    let theirs = csrf(&html);
    let (status, _, _) = submit(
        &app,
        &lab,
        "/protocol/review",
        &[("csrf", &theirs), ("base_version", "1"), ("infusions", "5")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

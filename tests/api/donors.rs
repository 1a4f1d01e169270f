//! Donors, screening, eligibility, donations and their DINs.

use chrono::{Datelike, Duration};
use futures::future::join_all;
use serde_json::json;

use celltrail::domain::din::Din;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{REQUIRED_SCREENING, id, rfc3339, signed};

on_both_databases!(
    a_donor_is_registered_under_a_pseudonymous_code,
    a_donor_becomes_eligible_only_with_every_required_test_negative,
    a_specimen_outside_seven_days_of_collection_blocks_eligibility,
    eligibility_is_signed_by_quality_and_does_not_go_back,
    a_later_result_supersedes_and_the_earlier_stays,
    a_donation_gets_a_din_with_its_check_character,
    fifty_concurrent_donations_get_fifty_distinct_dins,
    donations_refuse_impossible_times_and_ineligible_donors,
);

async fn a_donor_is_registered_under_a_pseudonymous_code(app: TestApp) {
    let team = app.team().await;
    let donor = app.register_donor(&team, "ucd-0001").await;
    assert_eq!(donor["code"], "UCD-0001");
    assert_eq!(donor["eligibility"], "pending");
    assert_eq!(
        donor["screening_gaps"]["missing"],
        json!(REQUIRED_SCREENING)
    );
    let again = app
        .post(
            "/api/v1/donors",
            Some(&team.lab),
            json!({"code": "UCD-0001", "consent_at": rfc3339(app.days_ago(1))}),
        )
        .await
        .expect_error(409, "donor_code_taken");
    assert_eq!(again["code"], "UCD-0001");
    for code in ["Jane Doe", "x", "UCD_0001"] {
        let details = app
            .post(
                "/api/v1/donors",
                Some(&team.lab),
                json!({"code": code, "consent_at": rfc3339(app.days_ago(1))}),
            )
            .await
            .expect_error(422, "invalid_field");
        assert_eq!(details["field"], "code");
    }
    app.post(
        "/api/v1/donors",
        Some(&team.lab),
        json!({"code": "UCD-0002", "consent_at": rfc3339(app.clock.now() + Duration::days(1))}),
    )
    .await
    .expect_error(422, "invalid_field");
    // only the lab registers donors
    app.post(
        "/api/v1/donors",
        Some(&team.quality),
        json!({"code": "UCD-0003", "consent_at": rfc3339(app.days_ago(1))}),
    )
    .await
    .expect_error(403, "forbidden");
    let fetched = app
        .get(
            &format!("/api/v1/donors/{}", id(&donor)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(fetched["code"], "UCD-0001");
}

async fn a_donor_becomes_eligible_only_with_every_required_test_negative(app: TestApp) {
    let team = app.team().await;
    let donor = app.register_donor(&team, "UCD-0010").await;
    let donor_id = id(&donor);
    app.donation(&team, &donor_id).await;
    let decide = || {
        app.post(
            &format!("/api/v1/donors/{donor_id}/eligibility"),
            Some(&team.quality),
            signed(json!({"decision": "eligible"})),
        )
    };
    let gaps = decide().await.expect_error(422, "screening_incomplete");
    assert_eq!(gaps["missing"], json!(REQUIRED_SCREENING));

    let at = app.days_ago(20);
    for test in ["hiv", "hbv", "hcv"] {
        app.screen(&team, &donor_id, test, "negative", at).await;
    }
    app.screen(&team, &donor_id, "syphilis", "indeterminate", at)
        .await;
    app.screen(&team, &donor_id, "cmv", "positive", at).await;
    let gaps = decide().await.expect_error(422, "screening_incomplete");
    assert_eq!(gaps["missing"], json!(["htlv"]));
    assert_eq!(gaps["reactive"], json!(["syphilis"]));

    app.screen(&team, &donor_id, "htlv", "negative", at).await;
    // a negative retest does not undo the indeterminate result (1271.80(d))
    app.screen(
        &team,
        &donor_id,
        "syphilis",
        "negative",
        at + Duration::hours(1),
    )
    .await;
    let gaps = decide().await.expect_error(422, "screening_incomplete");
    assert_eq!(gaps["reactive"], json!(["syphilis"]));
    // only quality's signed invalidation of that result does
    let record = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(record["eligibility"], "ineligible");
    let indeterminate = record["screening"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["result"] == "indeterminate")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/v1/donors/{donor_id}/screening/{indeterminate}/invalidate"),
        Some(&team.quality),
        signed(json!({ "reason": "haemolysed specimen, lab deviation LD-7" })),
    )
    .await
    .expect(200);
    let donor = decide().await.expect(200);
    assert_eq!(donor["eligibility"], "eligible");
    // CMV is recorded and shown, but does not decide eligibility
    assert!(
        donor["screening"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["test"] == "cmv" && s["result"] == "positive")
    );
    assert_eq!(donor["screening"][0]["specimen"], "maternal");
}

async fn a_specimen_outside_seven_days_of_collection_blocks_eligibility(app: TestApp) {
    let team = app.team().await;
    let donor = app.register_donor(&team, "UCD-0020").await;
    let donor_id = id(&donor);
    app.donation(&team, &donor_id).await; // collected 20 days ago
    for test in REQUIRED_SCREENING {
        app.screen(&team, &donor_id, test, "negative", app.days_ago(28))
            .await;
    }
    let gaps = app
        .post(
            &format!("/api/v1/donors/{donor_id}/eligibility"),
            Some(&team.quality),
            signed(json!({"decision": "eligible"})),
        )
        .await
        .expect_error(422, "screening_incomplete");
    assert_eq!(gaps["outside_window"], json!(REQUIRED_SCREENING));
    // a specimen taken 6 days after the collection is in the window (the
    // exact 7-day edge is a unit test of the rule)
    for test in REQUIRED_SCREENING {
        app.screen(&team, &donor_id, test, "negative", app.days_ago(14))
            .await;
    }
    app.post(
        &format!("/api/v1/donors/{donor_id}/eligibility"),
        Some(&team.quality),
        signed(json!({"decision": "eligible"})),
    )
    .await
    .expect(200);
}

async fn eligibility_is_signed_by_quality_and_does_not_go_back(app: TestApp) {
    let team = app.team().await;
    let donor = app.register_donor(&team, "UCD-0030").await;
    let donor_id = id(&donor);
    for test in REQUIRED_SCREENING {
        app.screen(&team, &donor_id, test, "negative", app.days_ago(1))
            .await;
    }
    let path = format!("/api/v1/donors/{donor_id}/eligibility");
    // the lab cannot decide
    app.post(
        &path,
        Some(&team.lab),
        signed(json!({"decision": "eligible"})),
    )
    .await
    .expect_error(403, "forbidden");
    // a wrong password changes nothing
    app.post(
        &path,
        Some(&team.quality),
        json!({"decision": "eligible", "signature": {"password": "wrong-password", "meaning": "approval"}}),
    )
    .await
    .expect_error(401, "signature_invalid");
    let unchanged = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(unchanged["eligibility"], "pending");
    // "pending" is not a decision; "ineligible" needs a reason
    app.post(
        &path,
        Some(&team.quality),
        signed(json!({"decision": "pending"})),
    )
    .await
    .expect_error(422, "invalid_field");
    let details = app
        .post(
            &path,
            Some(&team.quality),
            signed(json!({"decision": "ineligible"})),
        )
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(details["field"], "reason");

    app.post(
        &path,
        Some(&team.quality),
        signed(json!({"decision": "eligible"})),
    )
    .await
    .expect(200);
    app.post(
        &path,
        Some(&team.quality),
        signed(json!({"decision": "eligible"})),
    )
    .await
    .expect_error(409, "invalid_state");
    let donor = app
        .post(
            &path,
            Some(&team.quality),
            signed(json!({"decision": "ineligible", "reason": "late reactive HBV result"})),
        )
        .await
        .expect(200);
    assert_eq!(donor["eligibility"], "ineligible");
    assert_eq!(donor["eligibility_reason"], "late reactive HBV result");
    let details = app
        .post(
            &path,
            Some(&team.quality),
            signed(json!({"decision": "eligible"})),
        )
        .await
        .expect_error(409, "invalid_state");
    assert_eq!(details["status"], "ineligible");

    // the decisions are signed events of the donor
    let events = app
        .get(
            &format!("/api/v1/audit?subject_kind=donor&subject_id={donor_id}"),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let decisions: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "donor.eligibility_decided")
        .collect();
    assert_eq!(decisions.len(), 2);
    assert_eq!(decisions[0]["details"]["decision"], "eligible");
    assert_eq!(decisions[0]["details"]["signature"]["signer"], "qa.officer");
    assert_eq!(decisions[1]["details"]["decision"], "ineligible");
}

async fn a_later_result_supersedes_and_the_earlier_stays(app: TestApp) {
    let team = app.team().await;
    let donor = app.register_donor(&team, "UCD-0040").await;
    let donor_id = id(&donor);
    for test in REQUIRED_SCREENING {
        app.screen(&team, &donor_id, test, "negative", app.days_ago(3))
            .await;
    }
    app.screen(&team, &donor_id, "hcv", "positive", app.days_ago(2))
        .await;
    let donor = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(donor["screening_gaps"]["reactive"], json!(["hcv"]));
    assert_eq!(donor["screening"].as_array().unwrap().len(), 6);
    // a result for an earlier specimen, recorded later, does not supersede
    app.screen(&team, &donor_id, "hcv", "negative", app.days_ago(4))
        .await;
    let donor = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(donor["screening_gaps"]["reactive"], json!(["hcv"]));
    // refusals
    app.post(
        &format!("/api/v1/donors/{donor_id}/screening"),
        Some(&team.lab),
        json!({"test": "ebola", "result": "negative", "tested_at": rfc3339(app.days_ago(1))}),
    )
    .await
    .expect_error(400, "malformed_request");
    app.post(
        &format!("/api/v1/donors/{donor_id}/screening"),
        Some(&team.lab),
        json!({"test": "hiv", "result": "negative", "tested_at": rfc3339(app.clock.now() + Duration::days(2))}),
    )
    .await
    .expect_error(422, "invalid_field");
    app.post(
        &format!("/api/v1/donors/{}/screening", uuid::Uuid::nil()),
        Some(&team.lab),
        json!({"test": "hiv", "result": "negative", "tested_at": rfc3339(app.days_ago(1))}),
    )
    .await
    .expect_error(404, "not_found");
}

async fn a_donation_gets_a_din_with_its_check_character(app: TestApp) {
    let team = app.team().await;
    let donor = app.register_donor(&team, "UCD-0050").await;
    let donation = app.donation(&team, &id(&donor)).await;
    let din = donation["din"].as_str().unwrap();
    let year = app.days_ago(20).year() % 100;
    assert_eq!(din, format!("A9999{year:02}000001"));
    let parsed = Din::parse(din).unwrap();
    assert_eq!(
        donation["check_character"],
        parsed.check_character().to_string()
    );
    assert_eq!(donation["din_display"], parsed.display());
    assert_eq!(
        donation["din_display"].as_str().unwrap(),
        format!("A9999 {year:02} 000001 {}", parsed.check_character())
    );
    let second = app.donation(&team, &id(&donor)).await;
    assert_eq!(second["din"], format!("A9999{year:02}000002"));
    let fetched = app
        .get(
            &format!("/api/v1/donations/{}", id(&donation)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(fetched["din"], din);
}

async fn fifty_concurrent_donations_get_fifty_distinct_dins(app: TestApp) {
    let team = app.team().await;
    let donor = app.register_donor(&team, "UCD-0060").await;
    let donor_id = id(&donor);
    let donations = join_all((0..50).map(|_| app.donation(&team, &donor_id))).await;
    let mut dins: Vec<String> = donations
        .iter()
        .map(|d| d["din"].as_str().unwrap().to_owned())
        .collect();
    dins.sort();
    dins.dedup();
    assert_eq!(dins.len(), 50);
    let mut sequences: Vec<u32> = dins
        .iter()
        .map(|d| Din::parse(d).unwrap().sequence())
        .collect();
    sequences.sort();
    assert_eq!(
        sequences,
        (1..=50).collect::<Vec<_>>(),
        "no gaps, no repeats"
    );
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn donations_refuse_impossible_times_and_ineligible_donors(app: TestApp) {
    let team = app.team().await;
    let donor = app.register_donor(&team, "UCD-0070").await; // consent 30 days ago
    let donor_id = id(&donor);
    let donate = |collected: chrono::DateTime<chrono::Utc>,
                  received: chrono::DateTime<chrono::Utc>| {
        app.post(
            "/api/v1/donations",
            Some(&team.lab),
            json!({"donor_id": donor_id, "collected_at": rfc3339(collected), "received_at": rfc3339(received)}),
        )
    };
    let details = donate(app.days_ago(2), app.days_ago(3))
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(details["field"], "received_at");
    let details = donate(app.days_ago(40), app.days_ago(40))
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(details["field"], "collected_at");
    donate(
        app.clock.now() + Duration::days(1),
        app.clock.now() + Duration::days(1),
    )
    .await
    .expect_error(422, "invalid_field");
    app.post(
        "/api/v1/donations",
        Some(&team.lab),
        json!({"donor_id": uuid::Uuid::nil(), "collected_at": rfc3339(app.days_ago(2)), "received_at": rfc3339(app.days_ago(2))}),
    )
    .await
    .expect_error(404, "not_found");
    app.post(
        &format!("/api/v1/donors/{donor_id}/eligibility"),
        Some(&team.quality),
        signed(json!({"decision": "ineligible", "reason": "withdrew consent"})),
    )
    .await
    .expect(200);
    donate(app.days_ago(2), app.days_ago(2))
        .await
        .expect_error(422, "donor_not_eligible");
    // the quality officer does not receive cords
    app.post(
        "/api/v1/donations",
        Some(&team.quality),
        json!({"donor_id": donor_id, "collected_at": rfc3339(app.days_ago(2)), "received_at": rfc3339(app.days_ago(2))}),
    )
    .await
    .expect_error(403, "forbidden");
}

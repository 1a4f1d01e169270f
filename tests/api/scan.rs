//! `POST /api/v1/scan`: labels and typed codes resolve to the record, its
//! state and what the caller's role may do; everything else is refused with
//! the right code.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::id;

on_both_databases!(
    a_lab_user_moves_a_stored_vial_and_a_pharmacist_reserves_it,
    a_quality_officer_scanning_a_quarantined_lot_may_release_it,
    damaged_labels_can_be_typed_by_hand,
    what_is_not_a_label_is_refused,
    wristbands_and_dose_bags_resolve_with_the_next_step,
);

async fn a_lab_user_moves_a_stored_vial_and_a_pharmacist_reserves_it(app: TestApp) {
    let team = app.team().await;
    let (_, pharmacist) = app.staff("pharm.one", "pharmacist").await;
    let (lot, vials) = app.released_lot(&team, "UCD-5000", 2).await;
    let the_box = app.storage_box(&team, "5", 9, 9).await;
    app.store(&team, &id(&vials[0]), &id(&the_box), "C3")
        .await
        .expect(200);
    let payload = format!("CT1:V:{}", vials[0]["code"].as_str().unwrap());

    let lab = app
        .post(
            "/api/v1/scan",
            Some(&team.lab),
            json!({ "payload": payload }),
        )
        .await
        .expect(200);
    assert_eq!(lab["kind"], "vial");
    assert_eq!(lab["id"], vials[0]["id"]);
    assert_eq!(lab["code"], vials[0]["code"]);
    assert_eq!(lab["status"], "available");
    assert_eq!(
        lab["allowed_actions"],
        json!(["move", "discard", "print_label", "history", "trace"])
    );
    assert_eq!(
        lab["details"]["location"]["path"],
        "Tank 5 › Rack A › Box 1 › C3"
    );
    assert_eq!(lab["details"]["lot_code"], lot["code"]);
    let summary = lab["summary"].as_str().unwrap();
    assert!(
        summary.contains("Tank 5 › Rack A › Box 1 › C3"),
        "{summary}"
    );

    let pharmacy = app
        .post(
            "/api/v1/scan",
            Some(&pharmacist),
            json!({ "payload": payload }),
        )
        .await
        .expect(200);
    assert_eq!(
        pharmacy["allowed_actions"],
        json!(["reserve", "history", "trace"])
    );

    // the unstored vial is to be stored, not moved
    let unstored = app
        .post(
            "/api/v1/scan",
            Some(&team.lab),
            json!({ "payload": format!("CT1:V:{}", vials[1]["code"].as_str().unwrap()) }),
        )
        .await
        .expect(200);
    assert_eq!(unstored["allowed_actions"][0], "store");
    assert_eq!(unstored["details"]["location"], json!(null));
}

async fn a_quality_officer_scanning_a_quarantined_lot_may_release_it(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.quarantined_lot(&team, "UCD-5010", 2).await;
    let scanned = app
        .post(
            "/api/v1/scan",
            Some(&team.quality),
            json!({ "payload": lot["scan_payload"] }),
        )
        .await
        .expect(200);
    assert_eq!(scanned["kind"], "lot");
    assert_eq!(scanned["id"], lot["id"]);
    assert_eq!(scanned["status"], "quarantine");
    assert_eq!(
        scanned["allowed_actions"],
        json!(["release", "reject", "history", "trace"])
    );
    let lab = app
        .post(
            "/api/v1/scan",
            Some(&team.lab),
            json!({ "payload": lot["scan_payload"] }),
        )
        .await
        .expect(200);
    assert!(
        !lab["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("release"))
    );
}

async fn damaged_labels_can_be_typed_by_hand(app: TestApp) {
    let team = app.team().await;
    let (lot, vials) = app.quarantined_lot(&team, "UCD-5020", 1).await;
    let code = vials[0]["code"].as_str().unwrap();
    // a vial code, typed in lower case with a stray space
    let typed = app
        .post(
            "/api/v1/scan",
            Some(&team.lab),
            json!({ "payload": format!(" {} ", code.to_lowercase()) }),
        )
        .await
        .expect(200);
    assert_eq!(typed["id"], vials[0]["id"]);
    // a lot code
    let typed = app
        .post(
            "/api/v1/scan",
            Some(&team.lab),
            json!({ "payload": lot["code"] }),
        )
        .await
        .expect(200);
    assert_eq!(typed["kind"], "lot");
    // the DIN with its check character, as printed, spaces optional
    let donation = app
        .get(&format!("/api/v1/lots/{}", id(&lot)), Some(&team.lab))
        .await
        .expect(200);
    let din_display = donation["din_display"].as_str().unwrap();
    for typed in [din_display.to_owned(), din_display.replace(' ', "")] {
        let found = app
            .post("/api/v1/scan", Some(&team.lab), json!({ "payload": typed }))
            .await
            .expect(200);
        assert_eq!(found["kind"], "donation");
        assert_eq!(found["id"], lot["donation_id"]);
        assert_eq!(found["details"]["lots"][0]["code"], lot["code"]);
        assert!(
            found["allowed_actions"]
                .as_array()
                .unwrap()
                .contains(&json!("create_lot"))
        );
    }
    // a mistyped check character is caught
    let check = din_display.chars().last().unwrap();
    let wrong = if check == '0' { '1' } else { '0' };
    let mistyped = format!("{}{wrong}", &din_display[..din_display.len() - 1]);
    let answer = app
        .post(
            "/api/v1/scan",
            Some(&team.lab),
            json!({ "payload": mistyped }),
        )
        .await;
    let message = answer.body["error"]["message"].as_str().unwrap().to_owned();
    let details = answer.expect_error(422, "check_character_mismatch");
    assert_eq!(details["given"], wrong.to_string());
    // the right check character is never told, neither in the details nor
    // in the words
    assert_eq!(details.get("expected"), None, "{details}");
    assert!(!message.contains(&format!("'{check}'")), "{message}");
    assert!(!message.contains("expected"), "{message}");
    // the DIN alone is not enough
    let bare = din_display[..din_display.len() - 2].to_owned();
    app.post("/api/v1/scan", Some(&team.lab), json!({ "payload": bare }))
        .await
        .expect_error(400, "malformed_payload");
}

async fn what_is_not_a_label_is_refused(app: TestApp) {
    let team = app.team().await;
    app.quarantined_lot(&team, "UCD-5030", 1).await;
    for garbage in [
        "",
        "   ",
        "\u{0}\u{1}\u{2}\u{7f}\u{fffd}\u{fffd}",
        "ÿØÿà\u{0}\u{10}JFIF",
        &"CT1:V:".repeat(40),
        "'; DROP TABLE vials; --",
        "CT1:V:A999926000001-L01-V001' OR '1'='1",
        "CT9:V:A999926000001-L01-V001",
        "CT1:Z:A999926000001-L01-V001",
        "https://example.com/vial/1",
    ] {
        let details = app
            .post(
                "/api/v1/scan",
                Some(&team.lab),
                json!({ "payload": garbage }),
            )
            .await
            .expect_error(400, "malformed_payload");
        assert!(details.is_object());
    }
    for unknown in [
        "CT1:V:A999926999999-L01-V001",
        "A999926999999-L01-V001",
        "CT1:L:A999926999999-L01",
        "CT1:P:PV-999",
        "CT1:D:PV-999-D01",
    ] {
        let details = app
            .post(
                "/api/v1/scan",
                Some(&team.lab),
                json!({ "payload": unknown }),
            )
            .await
            .expect_error(404, "unknown_code");
        assert!(details["code"].as_str().is_some(), "{details}");
    }
    app.post("/api/v1/scan", None, json!({ "payload": "CT1:V:X" }))
        .await
        .expect_error(401, "unauthenticated");
    app.post(
        "/api/v1/scan",
        Some(&team.lab),
        json!({ "code": "CT1:V:X" }),
    )
    .await
    .expect_error(400, "malformed_request");
    app.post("/api/v1/scan", Some(&team.lab), json!({ "payload": 42 }))
        .await
        .expect_error(400, "malformed_request");
    // nothing was written by any of it
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn wristbands_and_dose_bags_resolve_with_the_next_step(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-5040", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-504", 40).await;
    let scan = |token: &str, payload: &str| {
        app.post("/api/v1/scan", Some(token), json!({ "payload": payload }))
    };
    let wristband = patient["scan_payload"].as_str().unwrap();
    let seen = scan(&clinic.pharmacist, wristband).await.expect(200);
    assert_eq!(seen["kind"], "patient");
    assert_eq!(seen["id"], patient["id"]);
    assert_eq!(seen["code"], "PV-504");
    assert_eq!(
        seen["allowed_actions"],
        json!(["calculate_dose", "order_dose", "history", "trace"])
    );
    assert!(
        !seen.to_string().contains("1980"),
        "a scan shows no birth date"
    );
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let bag = dose["scan_payload"].as_str().unwrap();
    let seen = scan(&clinic.pharmacist, bag).await.expect(200);
    assert_eq!(seen["kind"], "dose");
    assert_eq!(seen["status"], "reserved");
    assert_eq!(seen["allowed_actions"][0], "thaw");
    app.thaw(&clinic, &dose, 16_000_000, json!(90))
        .await
        .expect(200);
    app.verify_dose(&clinic, &dose).await.expect(200);
    let seen = scan(&clinic.clinician, bag).await.expect(200);
    assert_eq!(
        seen["allowed_actions"],
        json!(["start_infusion", "history", "trace"])
    );
    assert!(seen["summary"].as_str().unwrap().contains("give 2.5 mL"));
    let seen = scan(&clinic.clinician, wristband).await.expect(200);
    assert!(
        seen["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("start_infusion"))
    );
    assert_eq!(seen["details"]["open_dose"]["code"], dose["code"]);
}

//! Shipments on both databases: vials leave one site in a shipping
//! container and are scanned into boxes at another. Every state and
//! refusal of issue 15's shipping: packing (a vial, a whole box), the
//! signed seal, hand-overs, the receipt with its missing, unexpected and
//! extra scans and their reasons, the vial never available while it
//! travels or after it failed to arrive, and the races.

use serde_json::{Value, json};

use crate::clinic::{Clinic, eligible_criteria};
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{Team, id, rfc3339, signed};

on_both_databases!(
    a_shipment_takes_vials_from_one_site_to_another,
    a_vial_on_its_way_is_dosed_nowhere_and_moved_by_nobody,
    a_receipt_names_what_did_not_come_and_what_came_unlisted,
    packing_refusals_change_nothing,
    a_shipment_still_packing_is_cancelled_and_its_vials_come_back,
    two_packers_racing_for_one_vial_or_one_shipper,
    shipments_are_listed_at_either_end_only,
    a_warm_shipper_holds_every_vial_it_carried_until_quality_decides,
    a_recall_reaches_a_vial_on_its_way,
);

/// Two sites: the default one (the lab's, with its stock) and Ward 3, a
/// clinical site with its own lab account, pharmacist and box.
struct Two {
    team: Team,
    /// Pharmacists and a clinician of the default site.
    clinic: Clinic,
    admin: String,
    ward: Value,
    /// A lab account that works at the ward only.
    ward_lab: String,
    ward_box: Value,
    container: Value,
}

async fn two_sites(app: &TestApp) -> Two {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let admin = app.admin_token().await;
    let ward = app
        .post(
            "/api/v1/sites",
            Some(&admin),
            json!({ "name": "Ward 3", "kind": "clinical", "facility_code": "B1234", "time_zone": "Asia/Shanghai" }),
        )
        .await
        .expect(201);
    let (ward_lab_id, ward_lab) = app.staff("lab.ward", "lab").await;
    grant(app, &admin, &ward_lab_id.to_string(), &id(&ward)).await;
    let tank = app
        .post(
            "/api/v1/storage",
            Some(&ward_lab),
            json!({ "name": "Ward tank", "kind": "tank" }),
        )
        .await
        .expect(201);
    let ward_box = app
        .post(
            "/api/v1/storage",
            Some(&ward_lab),
            json!({ "name": "Ward box", "kind": "box", "parent_id": id(&tank), "rows": 9, "cols": 9 }),
        )
        .await
        .expect(201);
    assert_eq!(ward_box["site_id"], ward["id"]);
    let container = app
        .post(
            "/api/v1/shipping-containers",
            Some(&team.lab),
            json!({ "code": "ds-07" }),
        )
        .await
        .expect(201);
    assert_eq!(container["code"], "DS-07", "written as on the shipper");
    Two {
        team,
        clinic,
        admin,
        ward,
        ward_lab,
        ward_box,
        container,
    }
}

async fn grant(app: &TestApp, admin: &str, user_id: &str, site_id: &str) {
    app.post(
        &format!("/api/v1/users/{user_id}/sites"),
        Some(admin),
        json!({ "site_id": site_id }),
    )
    .await
    .expect(200);
}

async fn me(app: &TestApp, token: &str) -> String {
    id(&app.get("/api/v1/users/me", Some(token)).await.expect(200))
}

async fn new_shipment(app: &TestApp, two: &Two) -> Value {
    app.post(
        "/api/v1/shipments",
        Some(&two.team.lab),
        json!({ "to_site_id": id(&two.ward), "container_id": id(&two.container) }),
    )
    .await
    .expect(201)
}

fn payload(vial: &Value) -> String {
    vial["scan_payload"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("CT1:V:{}", vial["code"].as_str().unwrap()))
}

async fn pack(app: &TestApp, two: &Two, shipment: &str, scanned: &str) -> crate::helpers::Answer {
    app.post(
        &format!("/api/v1/shipments/{shipment}/pack"),
        Some(&two.team.lab),
        json!({ "scanned": scanned }),
    )
    .await
}

async fn vial(app: &TestApp, token: &str, vial_id: &str) -> Value {
    app.get(&format!("/api/v1/vials/{vial_id}"), Some(token))
        .await
        .expect(200)
}

/// Seals, has a courier take it and records its arrival at the ward.
async fn send(app: &TestApp, two: &Two, shipment: &str) {
    app.post(
        &format!("/api/v1/shipments/{shipment}/seal"),
        Some(&two.team.lab),
        signed(json!({})),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/shipments/{shipment}/handovers"),
        Some(&two.team.lab),
        json!({ "kind": "pick_up", "party": "Wang Li, SF Express" }),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/shipments/{shipment}/handovers"),
        Some(&two.ward_lab),
        json!({ "kind": "arrival", "party": "Wang Li, SF Express" }),
    )
    .await
    .expect(200);
}

async fn scan_in(
    app: &TestApp,
    two: &Two,
    shipment: &str,
    scanned: &str,
    position: &str,
) -> crate::helpers::Answer {
    app.post(
        &format!("/api/v1/shipments/{shipment}/receipt/scans"),
        Some(&two.ward_lab),
        json!({ "scanned": scanned, "box_id": id(&two.ward_box), "position": position }),
    )
    .await
}

fn actions(audit: &Value) -> Vec<String> {
    audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_shipment_takes_vials_from_one_site_to_another(app: TestApp) {
    let two = two_sites(&app).await;
    let clinic = &two.clinic;
    let (lot, vials) = app.dosing_stock(&two.team, "UCD-SH01", 6, 200).await;
    let home_box = app.storage_box(&two.team, "H", 9, 9).await;
    for (n, v) in vials.iter().enumerate() {
        app.store(&two.team, &id(v), &id(&home_box), &format!("A{}", n + 1))
            .await
            .expect(200);
    }
    let shipment = new_shipment(&app, &two).await;
    let sid = id(&shipment);
    assert_eq!(shipment["status"], "packing");
    assert!(
        shipment["code"].as_str().unwrap().starts_with("SH-20"),
        "{shipment}"
    );
    assert_eq!(shipment["to_site"]["name"], "Ward 3");
    assert_eq!(shipment["vial_count"], 0);

    // one vial by its label, one typed, then the rest of the box at once
    let one = pack(&app, &two, &sid, &payload(&vials[0]))
        .await
        .expect(200);
    assert_eq!(one["packed"], json!([vials[0]["code"]]));
    let in_shipper = vial(&app, &two.team.lab, &id(&vials[0])).await;
    assert_eq!(in_shipper["status"], "in_transit", "it left storage");
    assert_eq!(in_shipper["location"], json!(null));
    let typed = vials[1]["code"].as_str().unwrap().to_lowercase();
    pack(&app, &two, &sid, &typed).await.expect(200);
    let whole = pack(
        &app,
        &two,
        &sid,
        &format!("CT1:B:{}", id(&home_box).to_uppercase()),
    )
    .await
    .expect(200);
    assert_eq!(whole["packed"].as_array().unwrap().len(), 4, "{whole}");
    assert_eq!(whole["already_packed"], json!([]));
    assert_eq!(whole["shipment"]["vial_count"], 6);
    let line = &whole["shipment"]["vials"][0];
    let container_place = format!(
        "Shipper DS-07 · shipment {}",
        shipment["code"].as_str().unwrap()
    );
    assert_eq!(line["place"], json!(container_place));
    // scanning a packed vial again packs nothing twice
    let again = pack(&app, &two, &sid, &payload(&vials[0]))
        .await
        .expect(200);
    assert_eq!(again["packed"], json!([]));
    assert_eq!(again["already_packed"], json!([vials[0]["code"]]));

    send(&app, &two, &sid).await;
    let arrived = app
        .get(&format!("/api/v1/shipments/{sid}"), Some(&two.ward_lab))
        .await
        .expect(200);
    assert_eq!(arrived["status"], "arrived");
    assert_eq!(arrived["handovers"].as_array().unwrap().len(), 2);
    assert_eq!(arrived["handovers"][0]["kind"], "pick_up");
    assert_eq!(arrived["handovers"][1]["party"], "Wang Li, SF Express");
    assert_eq!(arrived["missing_count"], 6);
    assert_eq!(arrived["next_actions"], json!(["scan_in", "receive"]));

    for (n, v) in vials.iter().enumerate() {
        let scanned = scan_in(&app, &two, &sid, &payload(v), &format!("B{}", n + 1))
            .await
            .expect(200);
        assert_eq!(scanned["outcome"], "received");
        assert_eq!(
            scanned["place"],
            json!(format!("Ward tank › Ward box › B{}", n + 1))
        );
    }
    // scanned in, it waits for the signed receipt: not yet available
    let waiting = vial(&app, &two.ward_lab, &id(&vials[0])).await;
    assert_eq!(waiting["status"], "in_transit");
    assert_eq!(waiting["location"]["position"], "B1");
    assert_eq!(waiting["site_id"], two.ward["id"]);
    let same = scan_in(&app, &two, &sid, &payload(&vials[0]), "B1")
        .await
        .expect(200);
    assert_eq!(same["outcome"], "already_received");

    let received = app
        .post(
            &format!("/api/v1/shipments/{sid}/receive"),
            Some(&two.ward_lab),
            signed(json!({})),
        )
        .await
        .expect(200);
    assert_eq!(received["status"], "received");
    assert_eq!(received["received_count"], 6);
    assert_eq!(received["missing_count"], 0);
    assert_eq!(
        received["container"]["site_id"], two.ward["id"],
        "the shipper is at the ward now"
    );
    let here = vial(&app, &two.ward_lab, &id(&vials[0])).await;
    assert_eq!(here["status"], "available");
    assert_eq!(here["site_id"], two.ward["id"]);

    // the journey is in the vial's custody record, step by step
    let audit = app
        .get(
            &format!("/api/v1/audit?subject_id={}", id(&vials[0])),
            Some(&two.team.quality),
        )
        .await
        .expect(200);
    let steps = actions(&audit);
    for step in [
        "vial.stored",
        "vial.packed",
        "vial.received",
        "vial.arrived",
    ] {
        assert!(steps.contains(&step.to_owned()), "{step} in {steps:?}");
    }
    let shipment_audit = app
        .get(
            &format!("/api/v1/audit?subject_id={sid}"),
            Some(&two.team.quality),
        )
        .await
        .expect(200);
    assert_eq!(
        actions(&shipment_audit),
        [
            "shipment.created",
            "shipment.sealed",
            "shipment.picked_up",
            "shipment.arrived",
            "shipment.received"
        ]
    );

    // the lot's trace shows the journey
    let lot_id = id(&lot);
    let trace = app
        .get(
            &format!("/api/v1/trace/lots/{lot_id}"),
            Some(&two.team.quality),
        )
        .await
        .expect(200);
    let journey = &trace["shipments"][0];
    assert_eq!(journey["code"], shipment["code"]);
    assert_eq!(journey["from_site"], "Main site");
    assert_eq!(journey["to_site"], "Ward 3");
    assert_eq!(journey["status"], "received");
    assert_eq!(journey["vial_codes"].as_array().unwrap().len(), 6);
    assert_eq!(journey["missing"], json!([]));

    // and a patient of the ward is dosed from them, by a pharmacist there
    for token in [&clinic.clinician, &clinic.pharmacist] {
        let user = me(&app, token).await;
        grant(&app, &two.admin, &user, &id(&two.ward)).await;
    }
    let patient = app
        .post(
            "/api/v1/patients",
            Some(&clinic.clinician),
            json!({
                "subject_code": "PV-SH1",
                "birth_date": "1980-05-17",
                "sex": "female",
                "enrolled_at": rfc3339(app.days_ago(3)),
                "baseline_pasi": 14.2,
                "criteria": eligible_criteria(),
                "site_id": id(&two.ward),
            }),
        )
        .await
        .expect(201);
    app.weigh(clinic, &id(&patient), json!(70), "kg", 1)
        .await
        .expect(201);
    app.order(clinic, &id(&patient)).await.expect(201);
    let report = app.verify_ledger(&two.team).await;
    assert_eq!(report["replay"]["differences"], json!(0), "{report}");
}

async fn a_vial_on_its_way_is_dosed_nowhere_and_moved_by_nobody(app: TestApp) {
    let two = two_sites(&app).await;
    let clinic = &two.clinic;
    let (lot, vials) = app.dosing_stock(&two.team, "UCD-SH02", 4, 200).await;
    let shipment = new_shipment(&app, &two).await;
    let sid = id(&shipment);
    for v in &vials {
        pack(&app, &two, &sid, &payload(v)).await.expect(200);
    }
    let trace = app
        .get(
            &format!("/api/v1/trace/lots/{}", id(&lot)),
            Some(&two.team.quality),
        )
        .await
        .expect(200);
    let packed = trace["vials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == vials[0]["id"])
        .unwrap()
        .clone();
    assert!(
        packed["location"]
            .as_str()
            .unwrap()
            .starts_with("Shipper DS-07 · shipment SH-"),
        "the trace says where a packed vial is: {packed}"
    );
    let scanned = app
        .post(
            "/api/v1/scan",
            Some(&two.team.lab),
            json!({ "payload": payload(&vials[0]) }),
        )
        .await
        .expect(200);
    assert!(
        scanned["summary"]
            .as_str()
            .unwrap()
            .contains("Shipper DS-07 · shipment SH-"),
        "the scan says where it is: {scanned}"
    );
    assert!(
        !scanned["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("discard")),
        "a vial in a shipment is not discarded from the scan station: {scanned}"
    );
    // packed, and again sealed and on its way: no patient at either site is dosed from it
    let home_patient = app.weighed_patient(clinic, "PV-SH2", 70).await;
    app.order(clinic, &id(&home_patient))
        .await
        .expect_error(422, "insufficient_stock");
    send(&app, &two, &sid).await;
    app.order(clinic, &id(&home_patient))
        .await
        .expect_error(422, "insufficient_stock");
    for token in [&clinic.clinician, &clinic.pharmacist] {
        let user = me(&app, token).await;
        grant(&app, &two.admin, &user, &id(&two.ward)).await;
    }
    let ward_patient = app
        .post(
            "/api/v1/patients",
            Some(&clinic.clinician),
            json!({
                "subject_code": "PV-SH3",
                "birth_date": "1980-05-17",
                "sex": "female",
                "enrolled_at": rfc3339(app.days_ago(3)),
                "baseline_pasi": 14.2,
                "criteria": eligible_criteria(),
                "site_id": id(&two.ward),
            }),
        )
        .await
        .expect(201);
    app.weigh(clinic, &id(&ward_patient), json!(70), "kg", 1)
        .await
        .expect(201);
    app.order(clinic, &id(&ward_patient))
        .await
        .expect_error(422, "insufficient_stock");
    // nor stored, discarded or packed elsewhere while it travels
    let home_box = app.storage_box(&two.team, "H2", 9, 9).await;
    app.store(&two.team, &id(&vials[0]), &id(&home_box), "A1")
        .await
        .expect_error(409, "invalid_state");
    app.post(
        &format!("/api/v1/vials/{}/discard", id(&vials[0])),
        Some(&two.team.lab),
        signed(json!({ "reason": "dropped" })),
    )
    .await
    .expect_error(409, "in_shipment");
    // scanned in but not yet signed for, still not for dosing
    scan_in(&app, &two, &sid, &payload(&vials[0]), "A1")
        .await
        .expect(200);
    app.order(clinic, &id(&ward_patient))
        .await
        .expect_error(422, "insufficient_stock");
    let reserved = app
        .get("/api/v1/vials?status=reserved", Some(&two.team.lab))
        .await
        .expect(200);
    assert_eq!(reserved["items"], json!([]), "no vial was reserved");
    let report = app.verify_ledger(&two.team).await;
    assert_eq!(report["replay"]["differences"], json!(0), "{report}");
}

async fn a_receipt_names_what_did_not_come_and_what_came_unlisted(app: TestApp) {
    let two = two_sites(&app).await;
    let (lot, vials) = app.dosing_stock(&two.team, "UCD-SH03", 4, 200).await;
    let shipment = new_shipment(&app, &two).await;
    let sid = id(&shipment);
    for v in &vials[..3] {
        pack(&app, &two, &sid, &payload(v)).await.expect(200);
    }
    send(&app, &two, &sid).await;
    scan_in(&app, &two, &sid, &payload(&vials[0]), "A1")
        .await
        .expect(200);
    scan_in(&app, &two, &sid, &payload(&vials[1]), "A2")
        .await
        .expect(200);
    // a celltrail vial that was never packed, and a label of no celltrail vial
    let unexpected = scan_in(&app, &two, &sid, &payload(&vials[3]), "A3")
        .await
        .expect(200);
    assert_eq!(unexpected["outcome"], "unexpected");
    let stays = vial(&app, &two.team.lab, &id(&vials[3])).await;
    assert_eq!(
        stays["site_id"],
        json!("00000000-0000-7000-8000-000000000001"),
        "not moved"
    );
    assert_eq!(stays["status"], "available");
    let extra = scan_in(&app, &two, &sid, "FOREIGN-LABEL-0042", "A4")
        .await
        .expect(200);
    assert_eq!(extra["outcome"], "extra");
    // noted once however often scanned
    scan_in(&app, &two, &sid, "FOREIGN-LABEL-0042", "A4")
        .await
        .expect(200);
    let noted = extra["shipment"]["discrepancies"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(noted.len(), 2);
    // a position already taken is refused in words and moves nothing
    app.post(
        &format!("/api/v1/shipments/{sid}/receipt/scans"),
        Some(&two.ward_lab),
        json!({ "scanned": payload(&vials[2]), "box_id": id(&two.ward_box), "position": "A1" }),
    )
    .await
    .expect_error(409, "position_occupied");

    // no reason for the vial that did not come, nor for the scans: refused
    let refused = app
        .post(
            &format!("/api/v1/shipments/{sid}/receive"),
            Some(&two.ward_lab),
            signed(json!({})),
        )
        .await
        .expect_error(422, "receipt_incomplete");
    assert_eq!(refused["missing"], json!([vials[2]["code"]]));
    assert_eq!(refused["discrepancies"].as_array().unwrap().len(), 2);
    // a reason for the vial alone is not enough either
    let missing_reason =
        json!({ "vial_id": id(&vials[2]), "reason": "not in the shipper on opening" });
    app.post(
        &format!("/api/v1/shipments/{sid}/receive"),
        Some(&two.ward_lab),
        signed(json!({ "reasons": [missing_reason.clone()] })),
    )
    .await
    .expect_error(422, "receipt_incomplete");
    // a reason for a vial that arrived, an empty reason, a bad signature
    let arrived_reason = json!({ "vial_id": id(&vials[0]), "reason": "why not" });
    let mut reasons = vec![missing_reason.clone()];
    for d in &noted {
        reasons.push(json!({ "discrepancy_id": d["id"], "reason": "set aside for the sender" }));
    }
    let mut with_arrived = reasons.clone();
    with_arrived.push(arrived_reason);
    app.post(
        &format!("/api/v1/shipments/{sid}/receive"),
        Some(&two.ward_lab),
        signed(json!({ "reasons": with_arrived })),
    )
    .await
    .expect_error(422, "invalid_field");
    let mut empty = reasons.clone();
    empty[0]["reason"] = json!("  ");
    app.post(
        &format!("/api/v1/shipments/{sid}/receive"),
        Some(&two.ward_lab),
        signed(json!({ "reasons": empty })),
    )
    .await
    .expect_error(422, "invalid_field");
    app.post(
        &format!("/api/v1/shipments/{sid}/receive"),
        Some(&two.ward_lab),
        json!({ "reasons": reasons, "signature": { "password": "not-mine", "meaning": "received" } }),
    )
    .await
    .expect_error(401, "signature_invalid");
    // the quality officer does not sign a receipt; the sending lab cannot
    app.post(
        &format!("/api/v1/shipments/{sid}/receive"),
        Some(&two.team.lab),
        signed(json!({ "reasons": reasons })),
    )
    .await
    .expect_error(403, "not_your_site");
    let still = app
        .get(&format!("/api/v1/shipments/{sid}"), Some(&two.ward_lab))
        .await
        .expect(200);
    assert_eq!(still["status"], "arrived", "nothing changed");

    let received = app
        .post(
            &format!("/api/v1/shipments/{sid}/receive"),
            Some(&two.ward_lab),
            signed(json!({ "reasons": reasons })),
        )
        .await
        .expect(200);
    assert_eq!(received["received_count"], 2);
    let lost = received["vials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vial_id"] == vials[2]["id"])
        .unwrap()
        .clone();
    assert_eq!(lost["missing_reason"], "not in the shipper on opening");
    assert_eq!(lost["status"], "discarded");
    assert!(
        received["discrepancies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["reason"] == "set aside for the sender")
    );
    // the vial that did not arrive is available nowhere, and the receipt is final
    let gone = vial(&app, &two.team.lab, &id(&vials[2])).await;
    assert_eq!(gone["status"], "discarded");
    let trace = app
        .get(
            &format!("/api/v1/trace/lots/{}", id(&lot)),
            Some(&two.team.quality),
        )
        .await
        .expect(200);
    assert_eq!(trace["shipments"][0]["missing"], json!([vials[2]["code"]]));
    app.post(
        &format!("/api/v1/shipments/{sid}/receive"),
        Some(&two.ward_lab),
        signed(json!({ "reasons": [] })),
    )
    .await
    .expect_error(409, "invalid_state");
    let audit = app
        .get(
            &format!("/api/v1/audit?subject_id={}", id(&vials[2])),
            Some(&two.team.quality),
        )
        .await
        .expect(200);
    assert!(actions(&audit).contains(&"vial.lost".to_owned()));
    let report = app.verify_ledger(&two.team).await;
    assert_eq!(report["replay"]["differences"], json!(0), "{report}");
}

async fn packing_refusals_change_nothing(app: TestApp) {
    let two = two_sites(&app).await;
    let (_, released) = app.dosing_stock(&two.team, "UCD-SH04", 3, 200).await;
    let (_, quarantined) = app.quarantined_lot(&two.team, "UCD-SH05", 2).await;
    let ward = id(&two.ward);
    let home = "00000000-0000-7000-8000-000000000001";
    // creating: to itself, in a shipper elsewhere, by the wrong role, unknown site
    app.post(
        "/api/v1/shipments",
        Some(&two.team.lab),
        json!({ "to_site_id": home, "container_id": id(&two.container) }),
    )
    .await
    .expect_error(422, "invalid_field");
    let ward_shipper = app
        .post(
            "/api/v1/shipping-containers",
            Some(&two.ward_lab),
            json!({ "code": "DS-09" }),
        )
        .await
        .expect(201);
    app.post(
        "/api/v1/shipments",
        Some(&two.team.lab),
        json!({ "to_site_id": ward, "container_id": id(&ward_shipper) }),
    )
    .await
    .expect_error(422, "wrong_site");
    app.post(
        "/api/v1/shipments",
        Some(&two.team.quality),
        json!({ "to_site_id": ward, "container_id": id(&two.container) }),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        "/api/v1/shipments",
        Some(&two.team.lab),
        json!({ "to_site_id": "00000000-0000-7000-8000-0000000000ff", "container_id": id(&two.container) }),
    )
    .await
    .expect_error(404, "not_found");
    app.post(
        "/api/v1/shipping-containers",
        Some(&two.team.lab),
        json!({ "code": "DS 07" }),
    )
    .await
    .expect_error(422, "invalid_field");
    app.post(
        "/api/v1/shipping-containers",
        Some(&two.team.lab),
        json!({ "code": "DS-07" }),
    )
    .await
    .expect_error(422, "invalid_field");

    let shipment = new_shipment(&app, &two).await;
    let sid = id(&shipment);
    // one unreceived shipment per shipper
    app.post(
        "/api/v1/shipments",
        Some(&two.team.lab),
        json!({ "to_site_id": ward, "container_id": id(&two.container) }),
    )
    .await
    .expect_error(409, "container_in_use");
    // sealing nothing
    app.post(
        &format!("/api/v1/shipments/{sid}/seal"),
        Some(&two.team.lab),
        signed(json!({})),
    )
    .await
    .expect_error(422, "shipment_empty");
    // a quarantined vial, an unknown code, a lot label, nonsense
    pack(&app, &two, &sid, &payload(&quarantined[0]))
        .await
        .expect_error(409, "invalid_state");
    pack(&app, &two, &sid, "CT1:V:A999926999999-L01-V001")
        .await
        .expect_error(404, "unknown_code");
    pack(&app, &two, &sid, "CT1:L:A999926000001-L01")
        .await
        .expect_error(422, "invalid_field");
    pack(&app, &two, &sid, "")
        .await
        .expect_error(400, "malformed_payload");
    // the ward's lab does not pack at the sending site
    app.post(
        &format!("/api/v1/shipments/{sid}/pack"),
        Some(&two.ward_lab),
        json!({ "scanned": payload(&released[0]) }),
    )
    .await
    .expect_error(403, "not_your_site");
    // a box holding one vial that may not go: none of it goes
    let mixed = app.storage_box(&two.team, "M", 9, 9).await;
    app.store(&two.team, &id(&released[0]), &id(&mixed), "A1")
        .await
        .expect(200);
    app.store(&two.team, &id(&quarantined[0]), &id(&mixed), "A2")
        .await
        .expect(200);
    let refused = pack(
        &app,
        &two,
        &sid,
        &format!("CT1:B:{}", id(&mixed).to_uppercase()),
    )
    .await
    .expect_error(422, "not_shippable");
    let named = refused["vials"].as_array().unwrap();
    assert_eq!(named.len(), 1, "{refused}");
    assert!(
        named[0]
            .as_str()
            .unwrap()
            .starts_with(quarantined[0]["code"].as_str().unwrap())
    );
    let unmoved = vial(&app, &two.team.lab, &id(&released[0])).await;
    assert_eq!(unmoved["status"], "available", "nothing was packed");
    assert_eq!(unmoved["location"]["position"], "A1");
    // after all of that, a vial that may go goes
    let packed = pack(&app, &two, &sid, &payload(&released[1]))
        .await
        .expect(200);
    assert_eq!(packed["packed"].as_array().unwrap().len(), 1);
    // sealed: nothing more goes in or comes out, and a bad signature seals nothing
    app.post(
        &format!("/api/v1/shipments/{sid}/seal"),
        Some(&two.team.lab),
        json!({ "signature": { "password": "wrong", "meaning": "sealed" } }),
    )
    .await
    .expect_error(401, "signature_invalid");
    app.post(
        &format!("/api/v1/shipments/{sid}/seal"),
        Some(&two.team.lab),
        signed(json!({})),
    )
    .await
    .expect(200);
    pack(&app, &two, &sid, &payload(&released[2]))
        .await
        .expect_error(409, "invalid_state");
    app.post(
        &format!("/api/v1/shipments/{sid}/unpack"),
        Some(&two.team.lab),
        json!({ "scanned": payload(&released[1]) }),
    )
    .await
    .expect_error(409, "invalid_state");
    // hand-overs in order, by the right people
    app.post(
        &format!("/api/v1/shipments/{sid}/handovers"),
        Some(&two.ward_lab),
        json!({ "kind": "arrival", "party": "Wang Li" }),
    )
    .await
    .expect_error(409, "invalid_state");
    app.post(
        &format!("/api/v1/shipments/{sid}/handovers"),
        Some(&two.team.lab),
        json!({ "kind": "pick_up", "party": " " }),
    )
    .await
    .expect_error(422, "invalid_field");
    app.post(
        &format!("/api/v1/shipments/{sid}/handovers"),
        Some(&two.team.lab),
        json!({ "kind": "teleport", "party": "Wang Li" }),
    )
    .await
    .expect_error(422, "invalid_field");
    app.post(
        &format!("/api/v1/shipments/{sid}/handovers"),
        Some(&two.team.quality),
        json!({ "kind": "pick_up", "party": "Wang Li" }),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        &format!("/api/v1/shipments/{sid}/handovers"),
        Some(&two.team.lab),
        json!({ "kind": "pick_up", "party": "Wang Li, SF Express" }),
    )
    .await
    .expect(200);
    // not scanned in before its arrival is recorded, nor into another site's box
    scan_in(&app, &two, &sid, &payload(&released[1]), "A1")
        .await
        .expect_error(409, "invalid_state");
    app.post(
        &format!("/api/v1/shipments/{sid}/handovers"),
        Some(&two.team.lab),
        json!({ "kind": "arrival", "party": "Wang Li" }),
    )
    .await
    .expect_error(403, "not_your_site");
    app.post(
        &format!("/api/v1/shipments/{sid}/handovers"),
        Some(&two.ward_lab),
        json!({ "kind": "arrival", "party": "Wang Li" }),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/shipments/{sid}/receipt/scans"),
        Some(&two.ward_lab),
        json!({ "scanned": payload(&released[1]), "box_id": id(&mixed), "position": "C1" }),
    )
    .await
    .expect_error(422, "wrong_site");
    app.post(
        &format!("/api/v1/shipments/{sid}/receipt/scans"),
        Some(&two.ward_lab),
        json!({ "scanned": payload(&released[1]), "box_id": id(&two.ward_box), "position": "Z9" }),
    )
    .await
    .expect_error(422, "invalid_position");
    let report = app.verify_ledger(&two.team).await;
    assert_eq!(report["replay"]["differences"], json!(0), "{report}");
}

async fn a_shipment_still_packing_is_cancelled_and_its_vials_come_back(app: TestApp) {
    let two = two_sites(&app).await;
    let (_, vials) = app.dosing_stock(&two.team, "UCD-SH06", 2, 200).await;
    let shipment = new_shipment(&app, &two).await;
    let sid = id(&shipment);
    for v in &vials {
        pack(&app, &two, &sid, &payload(v)).await.expect(200);
    }
    // one taken out, the other comes back with the cancellation
    let out = app
        .post(
            &format!("/api/v1/shipments/{sid}/unpack"),
            Some(&two.team.lab),
            json!({ "scanned": payload(&vials[0]) }),
        )
        .await
        .expect(200);
    assert_eq!(out["vial_count"], 1);
    assert_eq!(
        vial(&app, &two.team.lab, &id(&vials[0])).await["status"],
        "available"
    );
    app.post(
        &format!("/api/v1/shipments/{sid}/unpack"),
        Some(&two.team.lab),
        json!({ "scanned": payload(&vials[0]) }),
    )
    .await
    .expect_error(422, "invalid_field");
    app.post(
        &format!("/api/v1/shipments/{sid}/cancel"),
        Some(&two.team.lab),
        json!({ "reason": "" }),
    )
    .await
    .expect_error(422, "invalid_field");
    let cancelled = app
        .post(
            &format!("/api/v1/shipments/{sid}/cancel"),
            Some(&two.team.lab),
            json!({ "reason": "courier cancelled the pick-up" }),
        )
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["vial_count"], 0);
    assert_eq!(
        vial(&app, &two.team.lab, &id(&vials[1])).await["status"],
        "available"
    );
    // the shipper is free again
    new_shipment(&app, &two).await;
    let report = app.verify_ledger(&two.team).await;
    assert_eq!(report["replay"]["differences"], json!(0), "{report}");
}

async fn two_packers_racing_for_one_vial_or_one_shipper(app: TestApp) {
    let two = two_sites(&app).await;
    let (_, vials) = app.dosing_stock(&two.team, "UCD-SH07", 1, 200).await;
    let other_shipper = app
        .post(
            "/api/v1/shipping-containers",
            Some(&two.team.lab),
            json!({ "code": "DS-08" }),
        )
        .await
        .expect(201);
    let first = new_shipment(&app, &two).await;
    let second = app
        .post(
            "/api/v1/shipments",
            Some(&two.team.lab),
            json!({ "to_site_id": id(&two.ward), "container_id": id(&other_shipper) }),
        )
        .await
        .expect(201);
    let scanned = payload(&vials[0]);
    let (first_id, second_id) = (id(&first), id(&second));
    let (a, b) = tokio::join!(
        pack(&app, &two, &first_id, &scanned),
        pack(&app, &two, &second_id, &scanned)
    );
    let statuses = [a.status.as_u16(), b.status.as_u16()];
    assert!(
        statuses.contains(&200) && statuses.iter().filter(|s| **s == 200).count() == 1,
        "one wins: {statuses:?} {} {}",
        a.body,
        b.body
    );
    assert!(statuses.contains(&409), "{statuses:?}");
    let one = app
        .get(
            &format!("/api/v1/shipments/{}", id(&first)),
            Some(&two.team.lab),
        )
        .await
        .expect(200);
    let other = app
        .get(
            &format!("/api/v1/shipments/{}", id(&second)),
            Some(&two.team.lab),
        )
        .await
        .expect(200);
    assert_eq!(
        one["vial_count"].as_i64().unwrap() + other["vial_count"].as_i64().unwrap(),
        1,
        "the vial is in one shipment"
    );
    // two shipments started at once in one free shipper: one gets it
    let free = app
        .post(
            "/api/v1/shipping-containers",
            Some(&two.team.lab),
            json!({ "code": "DS-10" }),
        )
        .await
        .expect(201);
    let body = json!({ "to_site_id": id(&two.ward), "container_id": id(&free) });
    let (a, b) = tokio::join!(
        app.post("/api/v1/shipments", Some(&two.team.lab), body.clone()),
        app.post("/api/v1/shipments", Some(&two.team.lab), body.clone())
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} {}", a.body, b.body);
    let report = app.verify_ledger(&two.team).await;
    assert_eq!(report["replay"]["differences"], json!(0), "{report}");
}

async fn shipments_are_listed_at_either_end_only(app: TestApp) {
    let two = two_sites(&app).await;
    let shipment = new_shipment(&app, &two).await;
    let listed = |token: String, query: &'static str| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/shipments{query}"), Some(&token))
                .await
                .expect(200)
        }
    };
    // the sender and the receiver see it; someone of a third site does not
    assert_eq!(
        listed(two.team.lab.clone(), "").await["items"][0]["id"],
        shipment["id"]
    );
    assert_eq!(
        listed(two.ward_lab.clone(), "").await["items"][0]["id"],
        shipment["id"]
    );
    assert_eq!(
        listed(two.ward_lab.clone(), "?status=packing").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        listed(two.ward_lab.clone(), "?status=received").await["items"],
        json!([])
    );
    let code = shipment["code"].as_str().unwrap();
    let found = app
        .get(
            &format!("/api/v1/shipments?q={}", &code[..7]),
            Some(&two.team.lab),
        )
        .await
        .expect(200);
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let store_site = app
        .post(
            "/api/v1/sites",
            Some(&two.admin),
            json!({ "name": "Store 9", "kind": "storage", "facility_code": "C1234", "time_zone": "UTC" }),
        )
        .await
        .expect(201);
    let (store_lab_id, store_lab) = app.staff("lab.store", "lab").await;
    grant(
        &app,
        &two.admin,
        &store_lab_id.to_string(),
        &id(&store_site),
    )
    .await;
    assert_eq!(listed(store_lab.clone(), "").await["items"], json!([]));
    app.get(
        &format!("/api/v1/shipments/{}", id(&shipment)),
        Some(&store_lab),
    )
    .await
    .expect_error(403, "not_your_site");
    app.get(
        &format!("/api/v1/shipments?site_id={}", id(&two.ward)),
        Some(&store_lab),
    )
    .await
    .expect_error(403, "not_your_site");
    app.get("/api/v1/shipments?status=lost", Some(&two.team.lab))
        .await
        .expect_error(422, "invalid_field");
}

async fn a_warm_shipper_holds_every_vial_it_carried_until_quality_decides(app: TestApp) {
    use chrono::Duration;
    let two = two_sites(&app).await;
    let (_, vials) = app.dosing_stock(&two.team, "UCD-SH08", 3, 200).await;
    let shipment = new_shipment(&app, &two).await;
    let sid = id(&shipment);
    for v in &vials[..2] {
        pack(&app, &two, &sid, &payload(v)).await.expect(200);
    }
    let logger = format!("/api/v1/shipments/{sid}/temperature-readings");
    let start = app.clock.now() - Duration::hours(2);
    let readings = crate::temperature::warm_spell(start, 30);
    // not before the seal
    app.post(
        &logger,
        Some(&two.team.lab),
        json!({ "readings": readings.clone() }),
    )
    .await
    .expect_error(409, "invalid_state");
    send(&app, &two, &sid).await;
    // a third site's lab and a quality officer do not upload a shipper's logger
    app.post(
        &logger,
        Some(&two.team.quality),
        json!({ "readings": readings.clone() }),
    )
    .await
    .expect_error(403, "forbidden");
    let recorded = app
        .post(
            &logger,
            Some(&two.ward_lab),
            json!({ "readings": readings.clone() }),
        )
        .await
        .expect(201);
    assert_eq!(
        recorded["excursions"].as_array().unwrap().len(),
        1,
        "{recorded}"
    );
    for v in &vials[..2] {
        assert_eq!(vial(&app, &two.team.lab, &id(v)).await["status"], "on_hold");
    }
    assert_eq!(
        vial(&app, &two.team.lab, &id(&vials[2])).await["status"],
        "available",
        "a vial that never left is not held"
    );
    // the same readings again, as the logger's CSV export, hold nothing twice
    let csv: String = std::iter::once("time,temperature".to_owned())
        .chain(readings.iter().map(|r| {
            format!(
                "{},{}",
                r["at"].as_str().unwrap(),
                r["celsius"].as_str().unwrap()
            )
        }))
        .collect::<Vec<_>>()
        .join("\n");
    let again = app
        .send(
            app.client
                .post(app.url(&format!("{logger}/csv")))
                .bearer_auth(&two.ward_lab)
                .header("content-type", "text/csv")
                .body(csv),
        )
        .await
        .expect(201);
    assert_eq!(again["accepted"], 0, "{again}");
    assert_eq!(again["duplicates"], json!(readings.len()));
    let refused = app
        .send(
            app.client
                .post(app.url(&format!("{logger}/csv")))
                .bearer_auth(&two.ward_lab)
                .header("content-type", "text/csv")
                .body("time,temperature\nyesterday,-150\n"),
        )
        .await
        .expect_error(422, "invalid_readings");
    assert!(
        refused["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("line 2"),
        "{refused}"
    );
    // received on hold: at the ward, still held, for the ward's quality officer
    for (n, v) in vials[..2].iter().enumerate() {
        scan_in(&app, &two, &sid, &payload(v), &format!("A{}", n + 1))
            .await
            .expect(200);
    }
    app.post(
        &format!("/api/v1/shipments/{sid}/receive"),
        Some(&two.ward_lab),
        signed(json!({})),
    )
    .await
    .expect(200);
    let held = vial(&app, &two.ward_lab, &id(&vials[0])).await;
    assert_eq!(held["status"], "on_hold");
    assert_eq!(held["site_id"], two.ward["id"]);
    let quality = me(&app, &two.team.quality).await;
    grant(&app, &two.admin, &quality, &id(&two.ward)).await;
    let holds = app
        .get("/api/v1/holds?status=open", Some(&two.team.quality))
        .await
        .expect(200);
    let hold = holds["items"][0].clone();
    app.post(
        &format!("/api/v1/holds/{}/release", id(&hold)),
        Some(&two.team.quality),
        signed(json!({ "reason": "logger probe was outside the dewar neck; product stayed in vapour phase" })),
    )
    .await
    .expect(200);
    for v in &vials[..2] {
        assert_eq!(
            vial(&app, &two.ward_lab, &id(v)).await["status"],
            "available",
            "released from hold at the ward: available there"
        );
    }
    let report = app.verify_ledger(&two.team).await;
    assert_eq!(report["replay"]["differences"], json!(0), "{report}");
}

async fn a_recall_reaches_a_vial_on_its_way(app: TestApp) {
    let two = two_sites(&app).await;
    let (lot, vials) = app.dosing_stock(&two.team, "UCD-SH09", 2, 200).await;
    let shipment = new_shipment(&app, &two).await;
    let sid = id(&shipment);
    for v in &vials {
        pack(&app, &two, &sid, &payload(v)).await.expect(200);
    }
    send(&app, &two, &sid).await;
    app.post(
        &format!("/api/v1/lots/{}/recall", id(&lot)),
        Some(&two.team.quality),
        signed(json!({ "reason": "sterility retest positive" })),
    )
    .await
    .expect(200);
    for v in &vials {
        assert_eq!(
            vial(&app, &two.team.lab, &id(v)).await["status"],
            "recalled",
            "the recall reaches it on the way"
        );
    }
    // it arrives recalled: scanned in, kept apart, never available
    scan_in(&app, &two, &sid, &payload(&vials[0]), "A1")
        .await
        .expect(200);
    let received = app
        .post(
            &format!("/api/v1/shipments/{sid}/receive"),
            Some(&two.ward_lab),
            signed(json!({ "reasons": [{ "vial_id": id(&vials[1]), "reason": "not in the shipper on opening" }] })),
        )
        .await
        .expect(200);
    assert_eq!(received["status"], "received");
    let arrived = vial(&app, &two.ward_lab, &id(&vials[0])).await;
    assert_eq!(arrived["status"], "recalled");
    assert_eq!(arrived["site_id"], two.ward["id"]);
    assert_eq!(arrived["location"]["position"], "A1");
    assert_eq!(
        vial(&app, &two.team.lab, &id(&vials[1])).await["status"],
        "discarded"
    );
    let report = app.verify_ledger(&two.team).await;
    assert_eq!(report["replay"]["differences"], json!(0), "{report}");
}

//! A shipment's papers and labels on both databases (issue 15): the
//! shipper's side label in every format and the labels issued for it;
//! scanning a shipper (`CT1:S:…`) and a packing list's QR (`CT1:H:…`) by
//! the sending lab, the receiving site and a third site, each answered
//! with what that person may do now; the packing list PDF with every
//! vial, its QR, and nothing about any patient or donor.

use serde_json::{Value, json};

use crate::clinic::Clinic;
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::readback::{decode_all, decode_png, pdf_page, pdf_text};
use crate::story::{Team, id, signed};

on_both_databases!(
    a_shippers_label_carries_its_code_in_every_format,
    shipper_labels_issued_are_counted_and_a_reprint_needs_a_reason,
    scanning_a_shipment_answers_what_each_end_may_do_now,
    scanning_a_shipper_names_its_shipment_until_it_is_over,
    #[needs(poppler)]
    the_packing_list_lists_every_vial_and_nothing_personal,
    the_packing_list_is_for_the_two_sites_only,
    the_scan_station_offers_the_shipment_and_the_shippers_label,
    the_command_line_prints_a_shippers_label,
);

/// The sending (default) site with its lab and stock, Ward 3 (the
/// receiving site) with its own lab account and box, a depot (a third
/// site) with its lab account, and the shipper DS-07 at the sending site.
struct Sites {
    team: Team,
    clinic: Clinic,
    ward: Value,
    ward_lab: String,
    ward_box: Value,
    depot_lab: String,
    container: Value,
}

async fn sites(app: &TestApp) -> Sites {
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
    let depot = app
        .post(
            "/api/v1/sites",
            Some(&admin),
            json!({ "name": "Depot", "kind": "storage", "facility_code": "C5678", "time_zone": "Europe/Berlin" }),
        )
        .await
        .expect(201);
    let (ward_lab_id, ward_lab) = app.staff("lab.ward", "lab").await;
    grant(app, &admin, &ward_lab_id.to_string(), &id(&ward)).await;
    let (depot_lab_id, depot_lab) = app.staff("lab.depot", "lab").await;
    grant(app, &admin, &depot_lab_id.to_string(), &id(&depot)).await;
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
    let container = app
        .post(
            "/api/v1/shipping-containers",
            Some(&team.lab),
            json!({ "code": "ds-07" }),
        )
        .await
        .expect(201);
    Sites {
        team,
        clinic,
        ward,
        ward_lab,
        ward_box,
        depot_lab,
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

/// A shipment from the sending site to Ward 3 in DS-07 with `vials` packed.
async fn shipment_of(app: &TestApp, s: &Sites, vials: &[Value]) -> Value {
    let shipment = app
        .post(
            "/api/v1/shipments",
            Some(&s.team.lab),
            json!({ "to_site_id": id(&s.ward), "container_id": id(&s.container) }),
        )
        .await
        .expect(201);
    for v in vials {
        app.post(
            &format!("/api/v1/shipments/{}/pack", id(&shipment)),
            Some(&s.team.lab),
            json!({ "scanned": format!("CT1:V:{}", code(v)) }),
        )
        .await
        .expect(200);
    }
    shipment
}

fn code(record: &Value) -> &str {
    record["code"].as_str().unwrap()
}

async fn seal(app: &TestApp, s: &Sites, sid: &str) {
    app.post(
        &format!("/api/v1/shipments/{sid}/seal"),
        Some(&s.team.lab),
        signed(json!({})),
    )
    .await
    .expect(200);
}

async fn hand_over(app: &TestApp, token: &str, sid: &str, kind: &str) {
    app.post(
        &format!("/api/v1/shipments/{sid}/handovers"),
        Some(token),
        json!({ "kind": kind, "party": "Wang Li, SF Express" }),
    )
    .await
    .expect(200);
}

async fn scan(app: &TestApp, token: &str, payload: &str) -> crate::helpers::Answer {
    app.post("/api/v1/scan", Some(token), json!({ "payload": payload }))
        .await
}

fn actions(found: &Value) -> Value {
    found["allowed_actions"].clone()
}

async fn a_shippers_label_carries_its_code_in_every_format(app: TestApp) {
    let s = sites(&app).await;
    let cid = id(&s.container);
    let path = |ext: &str| format!("/api/v1/shipping-containers/{cid}/label.{ext}");

    let (status, content_type, png) = app.get_bytes(&path("png"), Some(&s.team.lab)).await;
    assert_eq!((status, content_type.as_str()), (200, "image/png"));
    assert_eq!(
        decode_png(&png),
        ["CT1:S:DS-07"],
        "its QR is the scan payload"
    );

    let (status, content_type, svg) = app.get_bytes(&path("svg"), Some(&s.ward_lab)).await;
    assert_eq!((status, content_type.as_str()), (200, "image/svg+xml"));
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains("CT1:S:DS-07"), "{svg}");
    assert!(svg.contains(">DS-07<"), "the code printed as text: {svg}");

    let (status, _, zpl) = app.get_bytes(&path("zpl"), Some(&s.team.lab)).await;
    assert_eq!(status, 200);
    let zpl = String::from_utf8(zpl).unwrap();
    assert!(
        zpl.starts_with("^XA") && zpl.trim_end().ends_with("^XZ"),
        "{zpl}"
    );
    assert!(zpl.contains("CT1:S:DS-07"), "the QR's data: {zpl}");
    assert!(zpl.contains("^FDDS-07^FS"), "the code as text: {zpl}");

    let (status, content_type, pdf) = app.get_bytes(&path("pdf"), Some(&s.team.quality)).await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    let title = b"(Label CT1:S:DS-07)";
    assert!(
        pdf.windows(title.len()).any(|w| w == title),
        "titled with its payload"
    );

    // codes only: the site it belongs to, nothing about any shipment
    let shipment = shipment_of(&app, &s, &[]).await;
    let (_, _, svg) = app.get_bytes(&path("svg"), Some(&s.team.lab)).await;
    let svg = String::from_utf8(svg).unwrap();
    assert!(!svg.contains(code(&shipment)), "{svg}");

    // rendering is not issuing; an unknown container, a bad id
    let container = app
        .get(
            &format!("/api/v1/shipping-containers/{cid}"),
            Some(&s.team.lab),
        )
        .await
        .expect(200);
    assert_eq!(container["labels_issued"], 0);
    let unknown = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    for ext in ["png", "svg", "zpl", "pdf"] {
        app.get(
            &format!("/api/v1/shipping-containers/{unknown}/label.{ext}"),
            Some(&s.team.lab),
        )
        .await
        .expect_error(404, "not_found");
    }
    app.get(
        "/api/v1/shipping-containers/nope/label.png",
        Some(&s.team.lab),
    )
    .await
    .expect_error(400, "malformed_request");
    let (status, _, _) = app.get_bytes(&path("png"), None).await;
    assert_eq!(status, 401);
}

async fn shipper_labels_issued_are_counted_and_a_reprint_needs_a_reason(app: TestApp) {
    let s = sites(&app).await;
    let cid = id(&s.container);
    let issues = format!("/api/v1/shipping-containers/{cid}/label-issues");
    let issued = app
        .post(&issues, Some(&s.team.lab), json!({ "count": 2 }))
        .await
        .expect(201);
    assert_eq!(issued["subject_kind"], "shipping_container");
    assert_eq!(issued["subject_id"], s.container["id"]);
    assert_eq!(issued["reprint"], false);
    assert_eq!(issued["count"], 2);
    assert_eq!(labels_issued(&app, &s, &cid).await, 2);

    // a reprint without a reason, a count out of range, the wrong role or
    // site: refused, nothing counted
    app.post(&issues, Some(&s.team.lab), json!({ "count": 1 }))
        .await
        .expect_error(422, "reprint_reason_required");
    app.post(
        &issues,
        Some(&s.team.lab),
        json!({ "count": 1, "reason": "  " }),
    )
    .await
    .expect_error(422, "reprint_reason_required");
    app.post(
        &issues,
        Some(&s.team.lab),
        json!({ "count": 0, "reason": "x" }),
    )
    .await
    .expect_error(422, "invalid_field");
    app.post(
        &issues,
        Some(&s.ward_lab),
        json!({ "count": 1, "reason": "torn" }),
    )
    .await
    .expect_error(403, "not_your_site");
    app.post(
        &issues,
        Some(&s.clinic.pharmacist),
        json!({ "count": 1, "reason": "torn" }),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        "/api/v1/shipping-containers/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/label-issues",
        Some(&s.team.lab),
        json!({ "count": 1 }),
    )
    .await
    .expect_error(404, "not_found");
    assert_eq!(labels_issued(&app, &s, &cid).await, 2);

    let reprint = app
        .post(
            &issues,
            Some(&s.team.lab),
            json!({ "count": 1, "reason": "torn off in the LN2 vapour" }),
        )
        .await
        .expect(201);
    assert_eq!(reprint["reprint"], true);
    assert_eq!(reprint["reason"], "torn off in the LN2 vapour");
    assert_eq!(labels_issued(&app, &s, &cid).await, 3);

    // each issue is a custody event of the container
    let audit = app
        .get(
            &format!("/api/v1/audit?subject_kind=shipping_container&subject_id={cid}"),
            Some(&s.team.quality),
        )
        .await
        .expect(200);
    let issued: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "container.labels_issued")
        .collect();
    assert_eq!(issued.len(), 2, "{audit}");
    assert_eq!(issued[1]["details"]["labels_issued"], 3);
    assert_eq!(app.verify_ledger(&s.team).await["ok"], true);
}

async fn labels_issued(app: &TestApp, s: &Sites, cid: &str) -> Value {
    app.get(
        &format!("/api/v1/shipping-containers/{cid}"),
        Some(&s.team.lab),
    )
    .await
    .expect(200)["labels_issued"]
        .clone()
}

async fn scanning_a_shipment_answers_what_each_end_may_do_now(app: TestApp) {
    let s = sites(&app).await;
    let (_, vials) = app.dosing_stock(&s.team, "UCD-DOC1", 3, 200).await;
    let shipment = shipment_of(&app, &s, &vials[..2]).await;
    let sid = id(&shipment);
    let payload = format!("CT1:H:{}", code(&shipment));

    let sending = scan(&app, &s.team.lab, &payload).await.expect(200);
    assert_eq!(sending["kind"], "shipment");
    assert_eq!(sending["id"], shipment["id"]);
    assert_eq!(sending["code"], shipment["code"]);
    assert_eq!(sending["status"], "packing");
    assert_eq!(
        actions(&sending),
        json!(["pack", "seal", "cancel", "open", "packing_list"])
    );
    let d = &sending["details"];
    assert_eq!(d["vial_count"], 2);
    assert_eq!(d["to_site"], "Ward 3");
    assert_eq!(d["to_facility_code"], "B1234");
    assert_eq!(d["container_code"], "DS-07");
    assert_eq!(d["sending"], true);
    assert_eq!(d["receiving"], false);
    let summary = sending["summary"].as_str().unwrap();
    assert!(
        summary.contains(code(&shipment))
            && summary.contains("Ward 3 (B1234)")
            && summary.contains("DS-07"),
        "{summary}"
    );
    // scanners add line ends and keyboards lower case
    let typed = scan(
        &app,
        &s.team.lab,
        &format!("{}\r\n", payload.to_lowercase()),
    )
    .await
    .expect(200);
    assert_eq!(typed["id"], shipment["id"]);

    // the receiving site looks while it is packed; a third site sees what
    // it is and may do nothing; the sending site's pharmacist only looks
    let ward = scan(&app, &s.ward_lab, &payload).await.expect(200);
    assert_eq!(actions(&ward), json!(["open", "packing_list"]));
    assert_eq!(ward["details"]["receiving"], true);
    let depot = scan(&app, &s.depot_lab, &payload).await.expect(200);
    assert_eq!(depot["kind"], "shipment");
    assert_eq!(depot["status"], "packing");
    assert_eq!(actions(&depot), json!([]));
    assert_eq!(depot["details"]["third_site"], true);
    let pharmacist = scan(&app, &s.clinic.pharmacist, &payload).await.expect(200);
    assert_eq!(actions(&pharmacist), json!(["open", "packing_list"]));

    // sealed: the courier's pick-up at the sending end
    seal(&app, &s, &sid).await;
    let sealed = scan(&app, &s.team.lab, &payload).await.expect(200);
    assert_eq!(sealed["status"], "sealed");
    assert_eq!(actions(&sealed), json!(["pick_up", "open", "packing_list"]));
    assert_eq!(
        actions(&scan(&app, &s.ward_lab, &payload).await.expect(200)),
        json!(["open", "packing_list"])
    );
    // on its way: the receiving site records its arrival
    hand_over(&app, &s.team.lab, &sid, "pick_up").await;
    let on_its_way = scan(&app, &s.ward_lab, &payload).await.expect(200);
    assert_eq!(on_its_way["status"], "in_transit");
    assert_eq!(
        actions(&on_its_way),
        json!(["transfer", "arrive", "open", "packing_list"])
    );
    // arrived: the receiving site scans in and signs; the sender looks
    hand_over(&app, &s.ward_lab, &sid, "arrival").await;
    let arrived = scan(&app, &s.ward_lab, &payload).await.expect(200);
    assert_eq!(
        actions(&arrived),
        json!(["scan_in", "receive", "open", "packing_list"])
    );
    assert_eq!(
        actions(&scan(&app, &s.team.lab, &payload).await.expect(200)),
        json!(["open", "packing_list"])
    );
    assert_eq!(
        actions(&scan(&app, &s.depot_lab, &payload).await.expect(200)),
        json!([])
    );

    // unknown codes and malformed payloads
    scan(&app, &s.team.lab, "CT1:H:SH-1999-9999")
        .await
        .expect_error(404, "unknown_code");
    scan(&app, &s.team.lab, "CT1:S:DS-99")
        .await
        .expect_error(404, "unknown_code");
    scan(&app, &s.team.lab, "CT1:H:")
        .await
        .expect_error(400, "malformed_payload");
    scan(&app, &s.team.lab, "CT1:H:SH 2026")
        .await
        .expect_error(400, "malformed_payload");
    scan(&app, &s.team.lab, "CT1:Q:SH-2026-0001")
        .await
        .expect_error(400, "malformed_payload");
    assert_eq!(app.verify_ledger(&s.team).await["ok"], true);
}

async fn scanning_a_shipper_names_its_shipment_until_it_is_over(app: TestApp) {
    let s = sites(&app).await;
    let (_, vials) = app.dosing_stock(&s.team, "UCD-DOC2", 2, 200).await;

    // on no shipment: the lab at its site starts one or prints its label
    let free = scan(&app, &s.team.lab, "CT1:S:DS-07").await.expect(200);
    assert_eq!(free["kind"], "shipper");
    assert_eq!(free["id"], s.container["id"]);
    assert_eq!(free["code"], "DS-07");
    assert_eq!(free["status"], "free");
    assert_eq!(actions(&free), json!(["create_shipment", "print_label"]));
    assert_eq!(free["details"]["shipment"], json!(null));
    let elsewhere = scan(&app, &s.ward_lab, "ct1:s:ds-07").await.expect(200);
    assert_eq!(elsewhere["status"], "free");
    assert_eq!(actions(&elsewhere), json!([]));
    assert_eq!(
        actions(
            &scan(&app, &s.clinic.pharmacist, "CT1:S:DS-07")
                .await
                .expect(200)
        ),
        json!([])
    );

    // on a shipment: that shipment's acts for the person scanning
    let shipment = shipment_of(&app, &s, &vials).await;
    let sid = id(&shipment);
    let packing = scan(&app, &s.team.lab, "CT1:S:DS-07").await.expect(200);
    assert_eq!(packing["status"], "in_use");
    assert_eq!(
        packing["details"]["shipment"]["shipment_code"],
        shipment["code"]
    );
    assert_eq!(packing["details"]["shipment"]["vial_count"], 2);
    assert_eq!(
        actions(&packing),
        json!([
            "pack",
            "seal",
            "cancel",
            "open",
            "packing_list",
            "print_label"
        ])
    );
    let summary = packing["summary"].as_str().unwrap();
    assert!(
        summary.contains(code(&shipment)) && summary.contains("Ward 3"),
        "{summary}"
    );
    seal(&app, &s, &sid).await;
    hand_over(&app, &s.team.lab, &sid, "pick_up").await;
    // the courier brings it: scanning the shipper at the ward
    let arriving = scan(&app, &s.ward_lab, "CT1:S:DS-07").await.expect(200);
    assert_eq!(
        actions(&arriving),
        json!(["transfer", "arrive", "open", "packing_list"])
    );
    assert_eq!(arriving["details"]["third_site"], false);
    let depot = scan(&app, &s.depot_lab, "CT1:S:DS-07").await.expect(200);
    assert_eq!(actions(&depot), json!([]));
    assert_eq!(depot["details"]["third_site"], true);

    // received: the shipper is on no shipment again
    hand_over(&app, &s.ward_lab, &sid, "arrival").await;
    for (n, v) in vials.iter().enumerate() {
        app.post(
            &format!("/api/v1/shipments/{sid}/receipt/scans"),
            Some(&s.ward_lab),
            json!({ "scanned": format!("CT1:V:{}", code(v)), "box_id": id(&s.ward_box), "position": format!("A{}", n + 1) }),
        )
        .await
        .expect(200);
    }
    app.post(
        &format!("/api/v1/shipments/{sid}/receive"),
        Some(&s.ward_lab),
        signed(json!({})),
    )
    .await
    .expect(200);
    let over = scan(&app, &s.team.lab, "CT1:S:DS-07").await.expect(200);
    assert_eq!(over["status"], "free");
    assert_eq!(over["details"]["shipment"], json!(null));
    assert_eq!(app.verify_ledger(&s.team).await["ok"], true);
}

async fn the_packing_list_lists_every_vial_and_nothing_personal(app: TestApp) {
    let s = sites(&app).await;
    let (lot, vials) = app.dosing_stock(&s.team, "UCD-DOC3", 8, 200).await;
    // the lot has a recipient at the sending site: the paper must still
    // never name the patient
    let patient = app.weighed_patient(&s.clinic, "PV-DOC3", 40).await;
    let dose = app
        .post(
            "/api/v1/doses",
            Some(&s.clinic.pharmacist),
            json!({ "patient_id": id(&patient), "lot_id": id(&lot) }),
        )
        .await
        .expect(201);
    let reserved: Vec<&str> = dose["vial_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let going: Vec<Value> = vials
        .iter()
        .filter(|v| !reserved.contains(&id(v).as_str()))
        .take(3)
        .cloned()
        .collect();
    assert_eq!(going.len(), 3);
    let shipment = shipment_of(&app, &s, &going).await;
    let sid = id(&shipment);
    let path = format!("/api/v1/shipments/{sid}/packing-list.pdf");
    let (status, content_type, pdf) = app.get_bytes(&path, Some(&s.team.lab)).await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    let text = pdf_text(&pdf);
    let shipment_code = code(&shipment);
    assert!(text.contains("Packing list"), "{text}");
    assert!(
        text.contains(&format!("Shipment {shipment_code}")),
        "{text}"
    );
    assert!(text.contains(&format!("CT1:H:{shipment_code}")), "{text}");
    for v in &going {
        assert!(text.contains(code(v)), "{} missing from {text}", code(v));
    }
    assert!(text.contains(code(&lot)), "{text}");
    assert!(text.contains("Ward 3 · facility B1234"), "{text}");
    assert!(text.contains("DS-07"), "{text}");
    assert!(text.contains("packing"), "{text}");
    assert!(text.contains("Signature"), "{text}");
    // the DIN as people read it, with its check character
    let din = lot["din"].as_str().unwrap();
    let din_display = format!("{} {} {}", &din[..5], &din[5..7], &din[7..13]);
    assert!(text.contains(&din_display), "{din_display}: {text}");
    // codes only: no subject code, birth date or donor code
    let patient_record = app
        .get(
            &format!("/api/v1/patients/{}", id(&patient)),
            Some(&s.clinic.clinician),
        )
        .await
        .expect(200);
    let birth_date = patient_record["birth_date"].as_str().unwrap();
    for personal in ["PV-DOC3", birth_date, "UCD-DOC3", code(&dose)] {
        assert!(!text.contains(personal), "{personal} printed: {text}");
    }
    // its QR reads back as the payload the scan station resolves
    let page = pdf_page(&pdf, 1, 150);
    assert_eq!(decode_all(&page), [format!("CT1:H:{shipment_code}")]);

    // sent and received with one vial missing: received and missing with
    // its reason, the times in the sending site's zone with the offset
    seal(&app, &s, &sid).await;
    hand_over(&app, &s.team.lab, &sid, "pick_up").await;
    hand_over(&app, &s.ward_lab, &sid, "arrival").await;
    for (n, v) in going.iter().take(2).enumerate() {
        app.post(
            &format!("/api/v1/shipments/{sid}/receipt/scans"),
            Some(&s.ward_lab),
            json!({ "scanned": format!("CT1:V:{}", code(v)), "box_id": id(&s.ward_box), "position": format!("A{}", n + 1) }),
        )
        .await
        .expect(200);
    }
    app.post(
        &format!("/api/v1/shipments/{sid}/receive"),
        Some(&s.ward_lab),
        signed(json!({ "reasons": [{ "vial_id": id(&going[2]), "reason": "not in the shipper on opening" }] })),
    )
    .await
    .expect(200);
    let (status, _, pdf) = app.get_bytes(&path, Some(&s.ward_lab)).await;
    assert_eq!(status, 200, "the receiving site prints it too");
    let text = pdf_text(&pdf);
    assert!(text.contains("received"), "{text}");
    assert!(text.contains("2 received · 1 missing"), "{text}");
    if let Ok(keep) = std::env::var("CELLTRAIL_KEEP_PACKING_LIST") {
        std::fs::write(keep, &pdf).unwrap();
    }
    // the reason, wrapped in its column (text extraction may put its
    // last line after the next column's)
    assert!(text.contains("missing: not in the shipper"), "{text}");
    assert!(text.contains("opening"), "{text}");
    let home = app
        .get("/api/v1/sites", Some(&s.team.lab))
        .await
        .expect(200);
    let sending_zone = home
        .as_array()
        .or_else(|| home["items"].as_array())
        .unwrap()
        .iter()
        .find(|site| site["id"] == shipment["from_site"]["id"])
        .map(|site| site["time_zone"].as_str().unwrap().to_owned())
        .unwrap();
    assert!(
        text.contains(&format!("{sending_zone} (the sending site's time zone)")),
        "{text}"
    );
    let offset = chrono::Utc::now()
        .with_timezone(&sending_zone.parse::<chrono_tz::Tz>().unwrap())
        .format("%:z")
        .to_string();
    assert!(
        text.contains(&offset),
        "times carry the offset {offset}: {text}"
    );
    for personal in ["PV-DOC3", birth_date, "UCD-DOC3"] {
        assert!(!text.contains(personal), "{personal} printed: {text}");
    }
}

async fn the_packing_list_is_for_the_two_sites_only(app: TestApp) {
    let s = sites(&app).await;
    let shipment = shipment_of(&app, &s, &[]).await;
    let path = format!("/api/v1/shipments/{}/packing-list.pdf", id(&shipment));
    let (status, content_type, pdf) = app.get_bytes(&path, Some(&s.ward_lab)).await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF-"));
    app.get(&path, Some(&s.depot_lab))
        .await
        .expect_error(403, "not_your_site");
    let admin = app.admin_token().await;
    app.get(&path, Some(&admin))
        .await
        .expect_error(403, "forbidden");
    let (status, _, _) = app.get_bytes(&path, None).await;
    assert_eq!(status, 401);
    app.get(
        "/api/v1/shipments/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/packing-list.pdf",
        Some(&s.team.lab),
    )
    .await
    .expect_error(404, "not_found");
    app.get("/api/v1/shipments/nope/packing-list.pdf", Some(&s.team.lab))
        .await
        .expect_error(400, "malformed_request");
}

async fn the_scan_station_offers_the_shipment_and_the_shippers_label(app: TestApp) {
    use crate::web::{page, sign_in};
    let s = sites(&app).await;
    let shipment = shipment_of(&app, &s, &[]).await;
    let sid = id(&shipment);
    let cid = id(&s.container);
    let lab = sign_in(&app, "lab.tech").await;
    let scanned = format!("/scan?q=CT1%3AH%3A{}", code(&shipment));
    let (status, html) = page(&app, &scanned, &lab).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"scan-result\""), "{html}");
    assert!(html.contains(code(&shipment)), "{html}");
    assert!(
        html.contains(&format!("href=\"/shipments/{sid}\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("/api/v1/shipments/{sid}/packing-list.pdf")),
        "{html}"
    );
    assert!(!html.contains("scan-third-site"), "{html}");
    // the shipper: its shipment, and its label for the lab at its site
    let (_, html) = page(&app, "/scan?q=CT1%3AS%3ADS-07", &lab).await;
    assert!(
        html.contains(&format!("href=\"/shipments/{sid}\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("/api/v1/shipping-containers/{cid}/label.png")),
        "{html}"
    );
    // a third site: what it is, no way in
    let depot = sign_in(&app, "lab.depot").await;
    let (status, html) = page(&app, &scanned, &depot).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"scan-third-site\""), "{html}");
    assert!(html.contains("Ward 3"), "{html}");
    assert!(
        !html.contains(&format!("href=\"/shipments/{sid}\"")),
        "{html}"
    );
    assert!(!html.contains("packing-list.pdf"), "{html}");
    // an unknown shipment is said, not a server error
    let (status, html) = page(&app, "/scan?q=CT1%3AH%3ASH-1999-0001", &lab).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"scan-error\""), "{html}");
}

async fn the_command_line_prints_a_shippers_label(app: TestApp) {
    let s = sites(&app).await;
    let celltrail = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_celltrail"))
            .arg("label")
            .args(args)
            .args(["-o", "-"])
            .env("DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    // by its code as written, its label's payload or its id
    for name in ["ds-07", "CT1:S:DS-07", &id(&s.container)] {
        let output = celltrail(&["--shipper", name, "--format", "png"]);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(decode_png(&output.stdout), ["CT1:S:DS-07"], "{name}");
    }
    let output = celltrail(&["--shipper", "DS-07", "--format", "zpl"]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("CT1:S:DS-07"));
    let output = celltrail(&["--shipper", "DS-99", "--format", "png"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DS-99"), "{stderr}");
    // another kind's payload is named for what it is
    let output = celltrail(&["--shipper", "CT1:H:SH-2026-0001", "--format", "png"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("packing-list QR") && !stderr.contains("--shipment"),
        "{stderr}"
    );
}

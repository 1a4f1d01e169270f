//! Shipping on the pages, on both databases: the lab starts a shipment in a
//! shipper it added, scans vials in and seals it under signature, the
//! courier's pick-up is recorded; the receiving site records the arrival,
//! scans each vial into the next free position of a box, and signs the
//! receipt only once it has said, in words, why a vial did not come.
//! Refusals come back as sentences, never field names.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::id;
use crate::web::{csrf, page, sign_in, submit};

on_both_databases!(
    a_shipment_is_packed_sent_and_received_on_the_pages,
    homes_show_the_work_of_your_own_sites,
    each_reads_times_in_the_zone_of_their_site,
);

/// A redirect's query, decoded: `ok=Packed: …` or `error=…`.
fn decoded(location: &str) -> String {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    crate::printing::percent_decode(&query.replace('+', " "))
}

async fn a_shipment_is_packed_sent_and_received_on_the_pages(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.dosing_stock(&team, "UCD-WS01", 2, 200).await;
    let (_, quarantined) = app.quarantined_lot(&team, "UCD-WS02", 1).await;
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
    app.post(
        &format!("/api/v1/users/{ward_lab_id}/sites"),
        Some(&admin),
        json!({ "site_id": id(&ward) }),
    )
    .await
    .expect(200);
    let tank = app
        .post(
            "/api/v1/storage",
            Some(&ward_lab),
            json!({ "name": "Ward tank", "kind": "tank" }),
        )
        .await
        .expect(201);
    app.post(
        "/api/v1/storage",
        Some(&ward_lab),
        json!({ "name": "Ward box", "kind": "box", "parent_id": id(&tank), "rows": 9, "cols": 9 }),
    )
    .await
    .expect(201);

    let lab = sign_in(&app, "lab.tech").await;
    let (status, list) = page(&app, "/shipments", &lab).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("Add a shipping container"), "{list}");
    let key = csrf(&list);
    let (status, to, _) = submit(
        &app,
        &lab,
        "/shipping-containers",
        &[("csrf", &key), ("code", "ds-07")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(decoded(&to).contains("Shipper DS-07 added"), "{to}");
    let containers = app
        .get("/api/v1/shipping-containers", Some(&team.lab))
        .await
        .expect(200);
    let container = id(&containers[0]);
    let (status, to, _) = submit(
        &app,
        &lab,
        "/shipments",
        &[
            ("csrf", &key),
            ("to_site_id", &id(&ward)),
            ("container_id", &container),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/shipments/"), "{to}");
    let shipment_path = to.split('?').next().unwrap().to_owned();
    let sid = shipment_path.trim_start_matches("/shipments/").to_owned();

    // a quarantined vial is refused in words, and nothing is packed
    let payload = |v: &Value| format!("CT1:V:{}", v["code"].as_str().unwrap());
    let (_, to, _) = submit(
        &app,
        &lab,
        &format!("{shipment_path}/pack"),
        &[("csrf", &key), ("scanned", &payload(&quarantined[0]))],
    )
    .await;
    let said = decoded(&to);
    assert!(said.starts_with("error="), "{said}");
    assert!(
        !said.contains("scanned") && !said.contains("invalid_state"),
        "plain words: {said}"
    );
    for v in &vials {
        let (_, to, _) = submit(
            &app,
            &lab,
            &format!("{shipment_path}/pack"),
            &[("csrf", &key), ("scanned", &payload(v))],
        )
        .await;
        assert!(decoded(&to).starts_with("ok=Packed"), "{to}");
    }
    let (_, packing) = page(&app, &shipment_path, &lab).await;
    assert!(packing.contains("Sign and seal"), "{packing}");
    assert!(packing.contains(vials[0]["code"].as_str().unwrap()));
    let (_, to, _) = submit(
        &app,
        &lab,
        &format!("{shipment_path}/seal"),
        &[
            ("csrf", &key),
            ("password", crate::helpers::STAFF_PASSWORD),
            ("meaning", "sealed for shipping"),
        ],
    )
    .await;
    assert!(decoded(&to).starts_with("ok=Sealed"), "{to}");
    let (_, vial_page) = page(&app, &format!("/vials/{}", id(&vials[0])), &lab).await;
    assert!(
        vial_page.contains("Shipper DS-07 · shipment SH-"),
        "the vial's page says where it is: {vial_page}"
    );
    let (_, to, _) = submit(
        &app,
        &lab,
        &format!("{shipment_path}/handovers"),
        &[
            ("csrf", &key),
            ("kind", "pick_up"),
            ("party", "Wang Li, SF Express"),
        ],
    )
    .await;
    assert!(decoded(&to).starts_with("ok=Pick-up recorded"), "{to}");

    // at the ward
    let ward_cookie = sign_in(&app, "lab.ward").await;
    let (_, arriving) = page(&app, &shipment_path, &ward_cookie).await;
    assert!(arriving.contains("It has arrived here"), "{arriving}");
    let ward_key = csrf(&arriving);
    let (_, to, _) = submit(
        &app,
        &ward_cookie,
        &format!("{shipment_path}/handovers"),
        &[
            ("csrf", &ward_key),
            ("kind", "arrival"),
            ("party", "Wang Li, SF Express"),
        ],
    )
    .await;
    assert!(decoded(&to).starts_with("ok=Arrival recorded"), "{to}");
    let (_, receiving) = page(&app, &shipment_path, &ward_cookie).await;
    assert!(
        receiving.contains("name=\"position\" required size=\"4\" value=\"A1\""),
        "the next free position is offered: {receiving}"
    );
    let boxes = app
        .get("/api/v1/storage", Some(&ward_lab))
        .await
        .expect(200);
    let ward_box = boxes
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["kind"] == "box")
        .map(id)
        .unwrap();
    let (_, to, _) = submit(
        &app,
        &ward_cookie,
        &format!("{shipment_path}/receipt"),
        &[
            ("csrf", &ward_key),
            ("scanned", &payload(&vials[0])),
            ("box_id", &ward_box),
            ("position", "A1"),
        ],
    )
    .await;
    assert!(
        decoded(&to).contains("is in Ward tank › Ward box › A1"),
        "{to}"
    );
    assert!(
        to.contains(&format!("box={ward_box}")),
        "the box is kept: {to}"
    );
    let (_, next) = page(
        &app,
        &format!("{shipment_path}?box={ward_box}"),
        &ward_cookie,
    )
    .await;
    assert!(next.contains("value=\"A2\""), "next free A2");
    // the second vial did not come: the receipt asks why, in words
    assert!(
        next.contains(&format!(
            "Vial {} did not arrive: why?",
            vials[1]["code"].as_str().unwrap()
        )),
        "{next}"
    );
    let (_, to, _) = submit(
        &app,
        &ward_cookie,
        &format!("{shipment_path}/receive"),
        &[
            ("csrf", &ward_key),
            ("password", crate::helpers::STAFF_PASSWORD),
            ("meaning", "received"),
        ],
    )
    .await;
    let said = decoded(&to);
    assert!(said.starts_with("error=The receipt cannot be signed yet: give a reason for each vial that did not arrive"), "{said}");
    assert!(said.contains(vials[1]["code"].as_str().unwrap()), "{said}");
    let missing_field = format!("vial:{}", id(&vials[1]));
    let (_, to, _) = submit(
        &app,
        &ward_cookie,
        &format!("{shipment_path}/receive"),
        &[
            ("csrf", &ward_key),
            (&missing_field, "not in the shipper on opening"),
            ("password", crate::helpers::STAFF_PASSWORD),
            ("meaning", "received"),
        ],
    )
    .await;
    assert!(decoded(&to).starts_with("ok=Receipt signed"), "{to}");
    let done = app
        .get(&format!("/api/v1/shipments/{sid}"), Some(&ward_lab))
        .await
        .expect(200);
    assert_eq!(done["status"], "received");
    assert_eq!(done["received_count"], 1);
    let (_, finished) = page(&app, &shipment_path, &ward_cookie).await;
    assert!(
        finished.contains("did not arrive: not in the shipper on opening"),
        "{finished}"
    );
    // the pages of a site that has nothing to do with it are closed
    let (status, _) = page(&app, &shipment_path, &sign_in(&app, "qa.officer").await).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "quality has no shipment pages"
    );
}

async fn homes_show_the_work_of_your_own_sites(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.quarantined_lot(&team, "UCD-WS03", 1).await;
    let (_, stock) = app.dosing_stock(&team, "UCD-WS04", 1, 200).await;
    let admin = app.admin_token().await;
    let ward = app
        .post(
            "/api/v1/sites",
            Some(&admin),
            json!({ "name": "Ward 3", "kind": "clinical", "facility_code": "B1234", "time_zone": "Asia/Shanghai" }),
        )
        .await
        .expect(201);
    let (ward_lab_id, _) = app.staff("lab.ward", "lab").await;
    app.post(
        &format!("/api/v1/users/{ward_lab_id}/sites"),
        Some(&admin),
        json!({ "site_id": id(&ward) }),
    )
    .await
    .expect(200);
    let lab = sign_in(&app, "lab.tech").await;
    let ward_lab = sign_in(&app, "lab.ward").await;
    let lot_code = lot["code"].as_str().unwrap();
    let (_, home) = page(&app, "/", &lab).await;
    assert!(home.contains(lot_code), "the lab sees its quarantine");
    let (_, ward_home) = page(&app, "/", &ward_lab).await;
    assert!(
        !ward_home.contains(lot_code),
        "the ward's lab does not see the cell lab's lots"
    );
    assert!(!ward_home.contains("Shipments waiting for you"));

    let container = app
        .post(
            "/api/v1/shipping-containers",
            Some(&team.lab),
            json!({ "code": "DS-07" }),
        )
        .await
        .expect(201);
    let shipment = app
        .post(
            "/api/v1/shipments",
            Some(&team.lab),
            json!({ "to_site_id": id(&ward), "container_id": id(&container) }),
        )
        .await
        .expect(201);
    let code = shipment["code"].as_str().unwrap();
    let (_, home) = page(&app, "/", &lab).await;
    assert!(
        home.contains("Shipments waiting for you") && home.contains(code),
        "the sender has it to seal"
    );
    let (_, ward_home) = page(&app, "/", &ward_lab).await;
    assert!(
        !ward_home.contains(code),
        "nothing for the ward while it is packed"
    );
    let sid = id(&shipment);
    app.post(
        &format!("/api/v1/shipments/{sid}/pack"),
        Some(&team.lab),
        json!({ "scanned": stock[0]["code"] }),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/shipments/{sid}/seal"),
        Some(&team.lab),
        crate::story::signed(json!({})),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/shipments/{sid}/handovers"),
        Some(&team.lab),
        json!({ "kind": "pick_up", "party": "Wang Li" }),
    )
    .await
    .expect(200);
    let (_, home) = page(&app, "/", &lab).await;
    assert!(
        !home.contains(code),
        "picked up, it is not the sender's to do"
    );
    let (_, ward_home) = page(&app, "/", &ward_lab).await;
    assert!(
        ward_home.contains(code),
        "on its way, the ward has it to receive"
    );
}

async fn each_reads_times_in_the_zone_of_their_site(app: TestApp) {
    app.team().await;
    let admin = app.admin_token().await;
    let berlin = app
        .post(
            "/api/v1/sites",
            Some(&admin),
            json!({ "name": "Berlin store", "kind": "storage", "facility_code": "D1234", "time_zone": "Europe/Berlin" }),
        )
        .await
        .expect(201);
    let (berlin_lab_id, berlin_lab) = app.staff("lab.berlin", "lab").await;
    app.post(
        &format!("/api/v1/users/{berlin_lab_id}/sites"),
        Some(&admin),
        json!({ "site_id": id(&berlin) }),
    )
    .await
    .expect(200);
    let container = app
        .post(
            "/api/v1/shipping-containers",
            Some(&berlin_lab),
            json!({ "code": "DS-B1" }),
        )
        .await
        .expect(201);
    let shipment = app
        .post(
            "/api/v1/shipments",
            Some(&berlin_lab),
            json!({ "to_site_id": "00000000-0000-7000-8000-000000000001", "container_id": id(&container) }),
        )
        .await
        .expect(201);
    let path = format!("/shipments/{}", id(&shipment));
    // Berlin is +01:00 in winter and +02:00 in summer; Beijing +08:00
    let berlin_offset = |html: &str| html.contains("+01:00") || html.contains("+02:00");
    let (_, in_berlin) = page(&app, &path, &sign_in(&app, "lab.berlin").await).await;
    assert!(
        berlin_offset(&in_berlin) && !in_berlin.contains("+08:00"),
        "{in_berlin}"
    );
    let (_, in_beijing) = page(&app, &path, &sign_in(&app, "lab.tech").await).await;
    assert!(
        in_beijing.contains("+08:00") && !berlin_offset(&in_beijing),
        "{in_beijing}"
    );
}

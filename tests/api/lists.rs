//! The lists (`GET /api/v1/lots`, `/donors`, `/patients`, `/doses`,
//! `/vials`): keyset pages by code that add up to exactly the records,
//! filters and a search that takes what people type or scan, items shaped
//! as the single-record routes answer, and every malformed request refused
//! with the field it is about.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::id;

on_both_databases!(
    pages_add_up_to_every_record_once_in_code_order,
    items_are_the_single_record_routes_answers,
    a_search_takes_a_code_a_din_or_a_scan,
    filters_narrow_by_status_lot_box_patient_and_expiry,
    malformed_list_requests_are_refused_by_field,
);

/// Every page of `path` (which has a `?`), `limit` at a time: the items in
/// the order served, and how many pages it took.
async fn every_page(app: &TestApp, token: &str, path: &str, limit: u32) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&limit={limit}&cursor={c}"),
            None => format!("{path}&limit={limit}"),
        };
        let page = app.get(&url, Some(token)).await.expect(200);
        pages += 1;
        let got = page["items"].as_array().expect("items").clone();
        assert!(
            got.len() <= limit as usize,
            "{url}: a page holds at most its limit"
        );
        items.extend(got);
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert!(pages < 1_000, "{path}: paging never ends");
                cursor = Some(next.to_owned());
            }
            None => return (items, pages),
        }
    }
}

/// A lot's DIN check character: the last of its DIN as printed.
fn check_character(lot: &Value) -> String {
    let printed = lot["din_display"].as_str().unwrap();
    printed.chars().last().unwrap().to_string()
}

fn codes(items: &[Value], field: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[field].as_str().unwrap().to_owned())
        .collect()
}

fn assert_code_order(codes: &[String]) {
    let mut sorted = codes.to_vec();
    sorted.sort();
    sorted.dedup();
    assert_eq!(codes, sorted, "in code order, each once");
}

async fn pages_add_up_to_every_record_once_in_code_order(app: TestApp) {
    let team = app.team().await;
    let (_, first) = app.dosing_stock(&team, "UCD-2001", 7, 300).await;
    let (_, second) = app.dosing_stock(&team, "UCD-2002", 5, 300).await;
    app.register_donor(&team, "UCD-2003").await;
    let all_vials: BTreeSet<String> = first.iter().chain(&second).map(id).collect();

    for limit in [1, 3, 12, 500] {
        let (vials, pages) = every_page(&app, &team.lab, "/api/v1/vials?", limit).await;
        assert_code_order(&codes(&vials, "code"));
        let ids: BTreeSet<String> = vials.iter().map(id).collect();
        assert_eq!(ids, all_vials, "limit {limit}: every vial, once");
        assert_eq!(
            pages,
            12usize.div_ceil(limit as usize).max(1),
            "limit {limit}"
        );
    }
    // exactly a page's worth: the last full page says so, no empty page after
    let (_, pages) = every_page(&app, &team.lab, "/api/v1/vials?", 6).await;
    assert_eq!(pages, 2);

    let (donors, _) = every_page(&app, &team.quality, "/api/v1/donors?", 2).await;
    assert_eq!(codes(&donors, "code"), ["UCD-2001", "UCD-2002", "UCD-2003"]);
    let (lots, _) = every_page(&app, &team.quality, "/api/v1/lots?", 1).await;
    assert_eq!(lots.len(), 2);
    assert_code_order(&codes(&lots, "code"));

    // the default page is 50; an unknown list parameter changes nothing
    let page = app
        .get("/api/v1/vials?status=available", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 12);
    assert_eq!(page["next_cursor"], Value::Null);

    // a record added behind the cursor is not shown; one ahead of it is
    let page = app
        .get("/api/v1/donors?limit=1", Some(&team.quality))
        .await
        .expect(200);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    app.register_donor(&team, "UCD-1000").await;
    app.register_donor(&team, "UCD-9999").await;
    let rest = app
        .get(
            &format!("/api/v1/donors?limit=50&cursor={cursor}"),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(
        codes(rest["items"].as_array().unwrap(), "code"),
        ["UCD-2002", "UCD-2003", "UCD-9999"]
    );
}

async fn items_are_the_single_record_routes_answers(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, vials) = app.dosing_stock(&team, "UCD-2101", 8, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-101", 64).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let the_box = app.storage_box(&team, "B1", 9, 9).await;
    app.post(
        &format!("/api/v1/vials/{}/store", id(&vials[0])),
        Some(&team.lab),
        json!({ "box_id": the_box["id"], "position": "A1" }),
    )
    .await
    .expect(200);

    let cases = [
        ("lots", id(&lot)),
        ("patients", id(&patient)),
        ("doses", id(&dose)),
        ("vials", id(&vials[0])),
    ];
    for (list, record_id) in cases {
        let page = app
            .get(&format!("/api/v1/{list}?limit=500"), Some(&team.quality))
            .await
            .expect(200);
        let item = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| id(i) == record_id)
            .unwrap_or_else(|| panic!("{list}: the record is listed"))
            .clone();
        let single = app
            .get(&format!("/api/v1/{list}/{record_id}"), Some(&team.quality))
            .await
            .expect(200);
        assert_eq!(
            item, single,
            "{list}: the item is what its own route answers"
        );
    }
    // the donor, found through the list by the lot's DIN
    let din = lot["din"].as_str().unwrap();
    let page = app
        .get(&format!("/api/v1/donors?q={din}"), Some(&team.quality))
        .await
        .expect(200);
    let donor = &page["items"][0];
    let single = app
        .get(
            &format!("/api/v1/donors/{}", id(donor)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(donor, &single);
    assert_eq!(donor["code"], "UCD-2101");
}

async fn a_search_takes_a_code_a_din_or_a_scan(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, vials) = app.dosing_stock(&team, "UCD-2201", 4, 300).await;
    let (other, _) = app.dosing_stock(&team, "UCD-2202", 4, 300).await;
    let din = lot["din"].as_str().unwrap().to_owned();
    let printed = lot["din_display"].as_str().unwrap().to_owned();
    let check = check_character(&lot);

    let found = |list: &'static str, q: String| {
        let app = &app;
        let token = team.quality.clone();
        async move {
            let q = q.replace(' ', "%20").replace(':', "%3A");
            let page = app
                .get(&format!("/api/v1/{list}?q={q}"), Some(&token))
                .await
                .expect(200);
            codes(page["items"].as_array().unwrap(), "code")
        }
    };
    let lot_code = lot["code"].as_str().unwrap().to_owned();
    // a lot by its code, its DIN, the DIN as printed, typed in lower case
    for q in [
        lot_code.clone(),
        din.clone(),
        printed.clone(),
        format!("{}{check}", din.to_lowercase()),
        format!("  {lot_code}  "),
    ] {
        assert_eq!(found("lots", q.clone()).await, [lot_code.as_str()], "{q:?}");
    }
    // a vial by its scan payload, by its code, and by its lot
    let vial_code = vials[1]["code"].as_str().unwrap().to_owned();
    assert_eq!(
        found("vials", format!("CT1:V:{vial_code}")).await,
        [vial_code.as_str()]
    );
    assert_eq!(
        found("vials", vial_code.to_lowercase()).await,
        [vial_code.as_str()]
    );
    assert_eq!(found("vials", lot_code.clone()).await.len(), 4);
    assert_eq!(found("vials", din.clone()).await.len(), 4);
    // the other lot's DIN finds only it
    assert_eq!(
        found("lots", other["din"].as_str().unwrap().to_owned()).await,
        [other["code"].as_str().unwrap().to_owned()]
    );
    // a donor by code prefix
    assert_eq!(
        found("donors", "ucd-22".into()).await,
        ["UCD-2201", "UCD-2202"]
    );
    // patients and doses by subject code
    let patient = app.weighed_patient(&clinic, "PV-201", 64).await;
    app.weighed_patient(&clinic, "PV-202", 64).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let page = app
        .get("/api/v1/patients?q=pv-201", Some(&clinic.pharmacist))
        .await
        .expect(200);
    assert_eq!(
        codes(page["items"].as_array().unwrap(), "subject_code"),
        ["PV-201"]
    );
    let page = app
        .get(
            "/api/v1/patients?q=CT1%3AP%3APV-202",
            Some(&clinic.pharmacist),
        )
        .await
        .expect(200);
    assert_eq!(
        codes(page["items"].as_array().unwrap(), "subject_code"),
        ["PV-202"]
    );
    let page = app
        .get("/api/v1/doses?q=PV-201", Some(&clinic.pharmacist))
        .await
        .expect(200);
    assert_eq!(page["items"][0]["id"], dose["id"]);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    // nothing matches: an empty page, not an error
    let page = app
        .get("/api/v1/vials?q=ZZZ", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(page, json!({"items": [], "next_cursor": null}));
}

async fn filters_narrow_by_status_lot_box_patient_and_expiry(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (soon, soon_vials) = app.dosing_stock(&team, "UCD-2301", 8, 10).await;
    let (later, _) = app.dosing_stock(&team, "UCD-2302", 4, 100).await;
    let (held, _) = app.quarantined_lot(&team, "UCD-2303", 2).await;
    let count = |path: String, token: String| {
        let app = &app;
        async move {
            let page = app.get(&path, Some(&token)).await.expect(200);
            page["items"].as_array().unwrap().len()
        }
    };
    let q = team.quality.clone();
    assert_eq!(
        count("/api/v1/lots?status=released".into(), q.clone()).await,
        2
    );
    assert_eq!(
        count("/api/v1/lots?status=quarantine".into(), q.clone()).await,
        1
    );
    assert_eq!(
        count("/api/v1/lots?expiring_within_days=30".into(), q.clone()).await,
        1
    );
    let page = app
        .get("/api/v1/lots?expiring_within_days=30", Some(&q))
        .await
        .expect(200);
    assert_eq!(page["items"][0]["id"], soon["id"]);
    assert_eq!(
        count("/api/v1/lots?expiring_within_days=365".into(), q.clone()).await,
        3
    );
    assert_eq!(
        count("/api/v1/vials?expiring_within_days=30".into(), q.clone()).await,
        8
    );
    assert_eq!(
        count(format!("/api/v1/vials?lot_id={}", id(&later)), q.clone()).await,
        4
    );
    assert_eq!(
        count(
            format!("/api/v1/vials?lot_id={}&status=available", id(&held)),
            q.clone()
        )
        .await,
        0
    );
    // a box's vials
    let the_box = app.storage_box(&team, "B1", 9, 9).await;
    for (vial, position) in soon_vials.iter().zip(["A1", "A2"]) {
        app.post(
            &format!("/api/v1/vials/{}/store", id(vial)),
            Some(&team.lab),
            json!({ "box_id": the_box["id"], "position": position }),
        )
        .await
        .expect(200);
    }
    assert_eq!(
        count(format!("/api/v1/vials?box_id={}", id(&the_box)), q.clone()).await,
        2
    );
    // doses by patient and status; the vials they took are reserved
    let first = app.weighed_patient(&clinic, "PV-301", 64).await;
    let second = app.weighed_patient(&clinic, "PV-302", 64).await;
    let ordered = app.order(&clinic, &id(&first)).await.expect(201);
    app.order(&clinic, &id(&second)).await.expect(201);
    app.post(
        &format!("/api/v1/doses/{}/cancel", id(&ordered)),
        Some(&clinic.pharmacist),
        json!({ "reason": "ordered for the wrong day" }),
    )
    .await
    .expect(200);
    assert_eq!(
        count("/api/v1/doses?status=reserved".into(), q.clone()).await,
        1
    );
    assert_eq!(
        count("/api/v1/doses?status=cancelled".into(), q.clone()).await,
        1
    );
    assert_eq!(
        count(
            format!("/api/v1/doses?patient_id={}", id(&first)),
            q.clone()
        )
        .await,
        1
    );
    let reserved = count("/api/v1/vials?status=reserved".into(), q.clone()).await;
    assert!(reserved >= 1, "the open dose's vials are reserved");
    // donors by eligibility
    app.register_donor(&team, "UCD-2399").await;
    assert_eq!(
        count("/api/v1/donors?status=pending".into(), q.clone()).await,
        1
    );
    assert_eq!(
        count("/api/v1/donors?status=eligible".into(), q.clone()).await,
        3
    );
}

async fn malformed_list_requests_are_refused_by_field(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-2401", 2, 300).await;
    // the DIN with a check character that is not its own
    let wrong = match check_character(&lot).as_str() {
        "A" => "B",
        _ => "A",
    };
    let wrong_din = format!("/api/v1/lots?q={}{wrong}", lot["din"].as_str().unwrap());
    let answer = app.get(&wrong_din, Some(&team.lab)).await;
    let message = answer.body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert_eq!(answer.expect_error(422, "invalid_field")["field"], "q");
    assert!(message.contains("check character"), "{message}");
    for (path, field) in [
        ("/api/v1/vials?limit=0", "limit"),
        ("/api/v1/lots?limit=501", "limit"),
        ("/api/v1/donors?cursor=not-a-cursor", "cursor"),
        ("/api/v1/doses?cursor=c1.zz", "cursor"),
        ("/api/v1/patients?q=PV_001", "q"),
        ("/api/v1/vials?q=%27%20OR%201%3D1", "q"),
        (
            "/api/v1/lots?expiring_within_days=0",
            "expiring_within_days",
        ),
        (
            "/api/v1/vials?expiring_within_days=100000",
            "expiring_within_days",
        ),
    ] {
        let refused = app
            .get(path, Some(&team.lab))
            .await
            .expect_error(422, "invalid_field");
        assert_eq!(refused["field"], field, "{path}");
    }
    for path in [
        "/api/v1/vials?status=lost",
        "/api/v1/lots?limit=many",
        "/api/v1/doses?patient_id=nobody",
        "/api/v1/vials?expiring_within_days=-1",
    ] {
        app.get(path, Some(&team.lab))
            .await
            .expect_error(400, "malformed_request");
    }
    for list in ["lots", "donors", "patients", "doses", "vials"] {
        app.get(&format!("/api/v1/{list}"), None)
            .await
            .expect_error(401, "unauthenticated");
    }
}

//! A donation's DIN label on the network label printers, on both
//! databases: printed by the lab as ZPL, recorded as issued
//! (`donation.label_issued`, with how many and why) only once the printer
//! took it, a reprint only with a reason; the print form on the donation's
//! page and on the dose's page, shown only where a printer is configured.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::printing::{PrintRoom, form_fields, issues_of, labels_in, send_form, with_printers};
use crate::story::{Team, id};
use crate::web::{browser, csrf, page, sign_in};

with_printers!(
    a_din_label_is_printed_by_the_lab_and_recorded_as_issued,
    a_refused_din_label_prints_nothing_and_records_nothing,
    the_donation_page_prints_its_din_label_and_counts_the_labels,
    the_donation_page_says_it_in_chinese,
    the_dose_page_prints_the_bag_label,
);

on_both_databases!(without_a_printer_no_page_offers_to_print);

/// The `donation.label_issued` events of the donation, oldest first.
async fn din_label_issues(app: &TestApp, team: &Team, donation: &Value) -> Vec<Value> {
    let donation = id(donation);
    issues_of(app, team, "donation", &donation, "donation.label_issued").await
}

async fn a_din_label_is_printed_by_the_lab_and_recorded_as_issued(mut room: PrintRoom) {
    let team = room.app.team().await;
    let (_, donation) = room.app.eligible_donor(&team, "UCD-7110").await;
    let printed = room
        .print(
            "lab-zebra",
            &team.lab,
            json!({ "kind": "donation", "id": id(&donation), "copies": 3 }),
        )
        .await
        .expect(201);
    assert_eq!(printed["kind"], "donation");
    assert_eq!(printed["labels_sent"], 3);
    assert_eq!(printed["issue"]["subject_kind"], "donation");
    assert_eq!(printed["issue"]["reprint"], false);
    assert_eq!(printed["issue"]["vials"], json!([]));
    let job = room.job().await;
    assert_eq!(labels_in(&job), 3);
    // the DIN as people read it, and in the QR with its check character
    let din = donation["din"].as_str().unwrap();
    let check = donation["check_character"].as_str().unwrap();
    assert!(job.contains(&format!("{din}{check}")), "{job}");

    // a reprint needs a reason; without one nothing is printed
    room.print(
        "lab-zebra",
        &team.lab,
        json!({ "kind": "donation", "id": id(&donation) }),
    )
    .await
    .expect_error(422, "reprint_reason_required");
    room.nothing_printed().await;
    let reprint = room
        .print(
            "lab-zebra",
            &team.lab,
            json!({ "kind": "donation", "id": id(&donation), "reason": "bag label torn" }),
        )
        .await
        .expect(201);
    assert_eq!(reprint["issue"]["reprint"], true);
    assert_eq!(labels_in(&room.job().await), 1);

    // the ledger says who, how many and why
    let issued = din_label_issues(&room.app, &team, &donation).await;
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[0]["actor_username"], "lab.tech");
    assert_eq!(issued[0]["details"]["count"], 3);
    assert_eq!(issued[0]["details"]["din"], din);
    assert_eq!(issued[1]["details"]["reprint"], true);
    assert_eq!(issued[1]["details"]["reason"], "bag label torn");
}

async fn a_refused_din_label_prints_nothing_and_records_nothing(mut room: PrintRoom) {
    let team = room.app.team().await;
    let (_, pharmacist) = room.app.staff("pharma", "pharmacist").await;
    let (_, donation) = room.app.eligible_donor(&team, "UCD-7120").await;
    let donation_id = id(&donation);
    let before = room.events(&team).await;
    for (printer, token, body, status, code) in [
        // the DIN label is the lab's, as receiving the cord is
        (
            "lab-zebra",
            &team.quality,
            json!({ "kind": "donation", "id": donation_id }),
            403,
            "forbidden",
        ),
        (
            "lab-zebra",
            &pharmacist,
            json!({ "kind": "donation", "id": donation_id }),
            403,
            "forbidden",
        ),
        (
            "lab-zebra",
            &team.lab,
            json!({ "kind": "donation", "id": uuid::Uuid::new_v4() }),
            404,
            "not_found",
        ),
        (
            "lab-zebra",
            &team.lab,
            json!({ "kind": "donation", "id": donation_id, "copies": 11 }),
            422,
            "invalid_field",
        ),
        (
            "pharmacy",
            &team.lab,
            json!({ "kind": "donation", "id": donation_id }),
            404,
            "unknown_printer",
        ),
        (
            "switched-off",
            &team.lab,
            json!({ "kind": "donation", "id": donation_id }),
            409,
            "printer_unreachable",
        ),
    ] {
        room.print(printer, token, body)
            .await
            .expect_error(status, code);
    }
    room.nothing_printed().await;
    assert_eq!(room.events(&team).await, before);
    assert!(
        din_label_issues(&room.app, &team, &donation)
            .await
            .is_empty()
    );
}

async fn the_donation_page_prints_its_din_label_and_counts_the_labels(mut room: PrintRoom) {
    let team = room.app.team().await;
    let (_, donation) = room.app.eligible_donor(&team, "UCD-7130").await;
    let donation_id = id(&donation);
    let path = format!("/donations/{donation_id}");
    let cookie = sign_in(&room.app, "lab.tech").await;
    let (status, html) = page(&room.app, &path, &cookie).await;
    assert_eq!(status, StatusCode::OK);
    for part in [
        "Print the donation's DIN label",
        r#"action="/print""#,
        r#"name="kind" value="donation""#,
        &format!(r#"name="id" value="{donation_id}""#),
        r#"<option value="lab-zebra">"#,
        r#"name="reason""#,
        "No DIN label has been printed on a label printer yet.",
        "Labels printed from here are recorded as issued; the downloads above are not.",
    ] {
        assert!(html.contains(part), "{part} missing from {html}");
    }

    // the form returns to the donation's page, saying what happened
    let token = csrf(&html);
    let response = browser()
        .post(room.app.url("/print"))
        .header(COOKIE, &cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("kind", "donation"),
            ("id", &donation_id),
            ("printer", "lab-zebra"),
            ("copies", "2"),
            ("reason", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap();
    assert!(location.starts_with(&format!("{path}?ok=")), "{location}");
    assert_eq!(labels_in(&room.job().await), 2);
    let (_, html) = page(&room.app, &path, &cookie).await;
    assert!(
        html.contains("2 DIN labels have been printed on a label printer and recorded as issued"),
        "{html}"
    );
    assert!(html.contains("DIN labels issued"), "history: {html}");

    // refusals in words; nothing printed, nothing recorded
    let before = room.events(&team).await;
    let off = room.off_address.clone();
    for (printer, copies, reason, said) in [
        (
            "lab-zebra",
            "1",
            " ",
            "Labels were printed for this before: say why they are printed again. Nothing was printed."
                .to_owned(),
        ),
        (
            "lab-zebra",
            "twelve",
            "smudged",
            "Print from 1 to 10 copies of each label at a time. Nothing was printed.".to_owned(),
        ),
        (
            "switched-off",
            "1",
            "smudged",
            format!(
                "The printer switched-off did not answer at {off}: is it switched on and connected? Nothing was recorded."
            ),
        ),
    ] {
        let (message, ok) = send_form(
            &room,
            &cookie,
            &[
                ("kind", "donation"),
                ("id", &donation_id),
                ("printer", printer),
                ("copies", copies),
                ("reason", reason),
            ],
        )
        .await;
        assert!(!ok, "{message}");
        assert_eq!(message, said);
    }
    room.nothing_printed().await;
    assert_eq!(room.events(&team).await, before);
    assert_eq!(din_label_issues(&room.app, &team, &donation).await.len(), 1);

    // quality reads the page but does not print DIN labels: no form
    let quality = sign_in(&room.app, "qa.officer").await;
    let (status, html) = page(&room.app, &path, &quality).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(r#"action="/print""#), "{html}");
    assert!(html.contains("2 DIN labels have been printed"), "{html}");
}

async fn the_donation_page_says_it_in_chinese(mut room: PrintRoom) {
    let team = room.app.team().await;
    let (_, donation) = room.app.eligible_donor(&team, "UCD-7140").await;
    room.app
        .put(
            "/api/v1/users/me/preferences",
            Some(&team.lab),
            json!({ "language": "zh-CN" }),
        )
        .await
        .expect(200);
    let cookie = sign_in(&room.app, "lab.tech").await;
    let donation_id = id(&donation);
    let path = format!("/donations/{donation_id}");
    let (_, html) = page(&room.app, &path, &cookie).await;
    assert!(html.contains("打印此捐献的 DIN 标签"), "{html}");
    assert!(
        html.contains("尚未在标签打印机上打印过 DIN 标签。"),
        "{html}"
    );
    let (message, ok) = send_form(
        &room,
        &cookie,
        &[
            ("kind", "donation"),
            ("id", &donation_id),
            ("printer", "lab-zebra"),
            ("copies", "2"),
            ("reason", ""),
        ],
    )
    .await;
    assert!(ok);
    assert_eq!(message, "已将 2 张标签发送到 lab-zebra，并已记录为已发放。");
    assert_eq!(labels_in(&room.job().await), 2);
    let (_, html) = page(&room.app, &path, &cookie).await;
    assert!(
        html.contains("已在标签打印机上打印 2 张 DIN 标签，并已记录为已发放"),
        "{html}"
    );
    assert!(html.contains("已发放 DIN 标签"), "history: {html}");
    let (message, ok) = send_form(
        &room,
        &cookie,
        &[
            ("kind", "donation"),
            ("id", &donation_id),
            ("printer", "lab-zebra"),
            ("copies", "1"),
            ("reason", ""),
        ],
    )
    .await;
    assert!(!ok);
    assert_eq!(
        message,
        "此前已为其打印过标签：重新打印请填写原因。未打印任何标签。"
    );
    room.nothing_printed().await;
}

async fn the_dose_page_prints_the_bag_label(mut room: PrintRoom) {
    let team = room.app.team().await;
    let clinic = room.app.clinic().await;
    room.app.dosing_stock(&team, "UCD-7150", 10, 60).await;
    let patient = room.app.weighed_patient(&clinic, "PV-075", 70).await;
    let dose = room.app.order(&clinic, &id(&patient)).await.expect(201);
    let dose_id = id(&dose);
    let cookie = sign_in(&room.app, "pharm.one").await;
    let (status, html) = page(&room.app, &format!("/doses/{dose_id}"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    for part in [
        "Print the dose bag's label",
        r#"name="kind" value="dose""#,
        &format!(r#"name="id" value="{dose_id}""#),
    ] {
        assert!(html.contains(part), "{part} missing from {html}");
    }
    let before = room.events(&team).await;
    let (message, ok) = send_form(
        &room,
        &cookie,
        &[
            ("kind", "dose"),
            ("id", &dose_id),
            ("printer", "lab-zebra"),
            ("copies", "1"),
        ],
    )
    .await;
    assert!(ok, "{message}");
    assert_eq!(message, "Sent one label to lab-zebra, recorded as issued.");
    let job = room.job().await;
    assert_eq!(labels_in(&job), 1);
    assert!(job.contains(dose["code"].as_str().unwrap()), "{job}");
    // one issue more in the ledger, counted on the page
    let after = room.events(&team).await.as_i64().unwrap();
    assert_eq!(after, before.as_i64().unwrap() + 1);
    let (_, html) = page(&room.app, &format!("/doses/{dose_id}"), &cookie).await;
    assert!(html.contains("Bag labels issued: 1 (last "), "{html}");
    // a second bag label from the form, without a reason: refused in words
    let fields = form_fields("dose", &dose_id, "lab-zebra", "");
    let (message, ok) = send_form(&room, &cookie, &fields).await;
    assert!(!ok);
    assert_eq!(
        message,
        "Labels were printed for this before: say why they are printed again. Nothing was printed."
    );
    room.nothing_printed().await;
    assert_eq!(room.events(&team).await.as_i64().unwrap(), after);
}

async fn without_a_printer_no_page_offers_to_print(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (_, donation) = app.eligible_donor(&team, "UCD-7160").await;
    app.dosing_stock(&team, "UCD-7161", 10, 60).await;
    let patient = app.weighed_patient(&clinic, "PV-076", 70).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let lab = sign_in(&app, "lab.tech").await;
    let (status, html) = page(&app, &format!("/donations/{}", id(&donation)), &lab).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(r#"action="/print""#), "{html}");
    // nothing said about label printers the site does not have
    assert!(!html.contains("label printer"), "{html}");
    // the downloads are still there
    assert!(html.contains("/label.zpl"), "{html}");
    let pharmacist = sign_in(&app, "pharm.one").await;
    let (status, html) = page(&app, &format!("/doses/{}", id(&dose)), &pharmacist).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(r#"action="/print""#), "{html}");
}

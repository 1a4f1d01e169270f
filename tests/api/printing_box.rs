//! A storage box's label on the network label printers, on both
//! databases: printed by the lab as ZPL holding the box's payload,
//! recorded as issued (`storage.box_label_issued`) only once the printer
//! took it, a reprint only with a reason; a rack has no label to print;
//! the box's page offers the form and counts the labels.

use serde_json::json;

use crate::printing::{PrintRoom, issues_of, labels_in, with_printers};
use crate::story::id;
use crate::web::{page, sign_in};

with_printers!(a_box_label_is_printed_by_the_lab_and_recorded_as_issued);

async fn a_box_label_is_printed_by_the_lab_and_recorded_as_issued(mut room: PrintRoom) {
    let team = room.app.team().await;
    let the_box = room.app.storage_box(&team, "P", 9, 9).await;
    let box_id = id(&the_box);
    let printed = room
        .print(
            "lab-zebra",
            &team.lab,
            json!({ "kind": "storage_box", "id": box_id, "copies": 2 }),
        )
        .await
        .expect(201);
    assert_eq!(printed["labels_sent"], 2);
    assert_eq!(printed["issue"]["subject_kind"], "storage");
    let job = room.job().await;
    assert_eq!(labels_in(&job), 2);
    assert!(
        job.contains(&format!("CT1:B:{}", box_id.to_ascii_uppercase())),
        "{job}"
    );

    // a reprint says why; without a reason nothing is printed
    room.print(
        "lab-zebra",
        &team.lab,
        json!({ "kind": "storage_box", "id": box_id }),
    )
    .await
    .expect_error(422, "reprint_reason_required");
    room.nothing_printed().await;
    // only the lab prints it, and a rack has no label
    room.print(
        "lab-zebra",
        &team.quality,
        json!({ "kind": "storage_box", "id": box_id, "reason": "smudged" }),
    )
    .await
    .expect_error(403, "forbidden");
    let rack = the_box["parent_id"].as_str().unwrap().to_owned();
    room.print(
        "lab-zebra",
        &team.lab,
        json!({ "kind": "storage_box", "id": rack, "reason": "try" }),
    )
    .await
    .expect_error(422, "not_a_box");
    room.nothing_printed().await;

    let issued = issues_of(
        &room.app,
        &team,
        "storage",
        &box_id,
        "storage.box_label_issued",
    )
    .await;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0]["details"]["count"], 2);
    assert_eq!(issued[0]["details"]["name"], "Box 1");

    // the box's page offers the form and counts what was issued
    let lab = sign_in(&room.app, "lab.tech").await;
    let (_, html) = page(&room.app, &format!("/storage/{box_id}"), &lab).await;
    assert!(
        html.contains("Print this box&#39;s label") || html.contains("Print this box's label"),
        "{html}"
    );
    assert!(html.contains("Box labels issued: 2"), "{html}");
    assert!(html.contains("value=\"storage_box\""), "{html}");
}

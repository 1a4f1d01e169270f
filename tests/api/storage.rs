//! Storage: the tank › rack › box hierarchy, positions, moves, races.

use futures::future::join_all;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{id, signed};

on_both_databases!(
    storage_is_tank_rack_box,
    a_box_shows_its_occupied_positions,
    vials_move_and_every_move_is_recorded_with_both_places,
    positions_outside_the_box_and_non_boxes_are_refused,
    two_vials_racing_for_one_position_one_wins,
    one_vial_racing_into_two_positions_lands_once,
    a_discarded_vial_frees_its_position_and_cannot_return,
);

async fn storage_is_tank_rack_box(app: TestApp) {
    let team = app.team().await;
    let post = |body: serde_json::Value| app.post("/api/v1/storage", Some(&team.lab), body);
    let tank = post(json!({"name": "Tank 1", "kind": "tank"}))
        .await
        .expect(201);
    assert_eq!(tank["path"], "Tank 1");
    let rack = post(json!({"name": "Rack A", "kind": "rack", "parent_id": tank["id"]}))
        .await
        .expect(201);
    assert_eq!(rack["path"], "Tank 1 › Rack A");
    let the_box = post(
        json!({"name": "Box 3", "kind": "box", "parent_id": rack["id"], "rows": 9, "cols": 9}),
    )
    .await
    .expect(201);
    assert_eq!(the_box["path"], "Tank 1 › Rack A › Box 3");
    // refusals
    post(json!({"name": "Loose rack", "kind": "rack"}))
        .await
        .expect_error(422, "invalid_storage_placement");
    post(json!({"name": "Box in box", "kind": "box", "parent_id": the_box["id"], "rows": 2, "cols": 2}))
        .await
        .expect_error(422, "invalid_storage_placement");
    post(json!({"name": "Sizeless", "kind": "box", "parent_id": rack["id"]}))
        .await
        .expect_error(422, "invalid_storage_placement");
    post(json!({"name": "Huge", "kind": "box", "parent_id": rack["id"], "rows": 27, "cols": 9}))
        .await
        .expect_error(422, "invalid_storage_placement");
    post(json!({"name": "Box 3", "kind": "box", "parent_id": rack["id"], "rows": 9, "cols": 9}))
        .await
        .expect_error(409, "storage_name_taken");
    post(json!({"name": "Orphan", "kind": "box", "parent_id": uuid::Uuid::nil(), "rows": 9, "cols": 9}))
        .await
        .expect_error(404, "not_found");
    post(json!({"name": "", "kind": "tank"}))
        .await
        .expect_error(422, "invalid_field");
    post(json!({"name": "Freezer", "kind": "fridge"}))
        .await
        .expect_error(400, "malformed_request");
    app.post(
        "/api/v1/storage",
        Some(&team.quality),
        json!({"name": "Tank 2", "kind": "tank"}),
    )
    .await
    .expect_error(403, "forbidden");
    // a tank shows its racks
    let contents = app
        .get(
            &format!("/api/v1/storage/{}", id(&tank)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(contents["children"].as_array().unwrap().len(), 1);
    assert_eq!(contents["children"][0]["name"], "Rack A");
    let all = app
        .get("/api/v1/storage", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(all.as_array().unwrap().len(), 3);
}

async fn a_box_shows_its_occupied_positions(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.released_lot(&team, "UCD-2000", 3).await;
    let the_box = app.storage_box(&team, "1", 2, 3).await;
    for (vial, position) in vials.iter().zip(["B3", "A2", "A10"]) {
        let answer = app.store(&team, &id(vial), &id(&the_box), position).await;
        if position == "A10" {
            answer.expect_error(422, "invalid_position");
        } else {
            answer.expect(200);
        }
    }
    let contents = app
        .get(
            &format!("/api/v1/storage/{}", id(&the_box)),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let occupied = contents["occupied"].as_array().unwrap();
    let positions: Vec<_> = occupied
        .iter()
        .map(|o| o["position"].as_str().unwrap())
        .collect();
    assert_eq!(positions, ["A2", "B3"]);
    assert_eq!(occupied[0]["vial_code"], vials[1]["code"]);
    assert_eq!(contents["free_positions"], 4);
    assert_eq!(contents["rows"], 2);
    assert_eq!(contents["cols"], 3);
}

async fn vials_move_and_every_move_is_recorded_with_both_places(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-2100", 1).await;
    let vial = id(&vials[0]);
    let the_box = app.storage_box(&team, "1", 9, 9).await;
    let other = app.storage_box(&team, "2", 10, 10).await;
    // quarantined vials are stored too
    app.store(&team, &vial, &id(&the_box), "a1")
        .await
        .expect(200);
    // storing again where it is changes nothing
    app.store(&team, &vial, &id(&the_box), "A1")
        .await
        .expect(200);
    let moved = app
        .store(&team, &vial, &id(&other), "J10")
        .await
        .expect(200);
    assert_eq!(moved["location"]["path"], "Tank 2 › Rack A › Box 1 › J10");
    assert_eq!(moved["status"], "quarantine");
    let events = app
        .get(
            &format!("/api/v1/audit?subject_kind=vial&subject_id={vial}"),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let events = events.as_array().unwrap();
    let actions: Vec<_> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["vial.frozen", "vial.stored", "vial.moved"]);
    assert_eq!(events[1]["from_location"], json!(null));
    assert_eq!(events[1]["to_location"], "Tank 1 › Rack A › Box 1 › A1");
    assert_eq!(events[2]["from_location"], "Tank 1 › Rack A › Box 1 › A1");
    assert_eq!(events[2]["to_location"], "Tank 2 › Rack A › Box 1 › J10");
    assert_eq!(events[2]["actor_username"], "lab.tech");
    // the old position is free again
    let contents = app
        .get(
            &format!("/api/v1/storage/{}", id(&the_box)),
            Some(&team.lab),
        )
        .await
        .expect(200);
    assert!(contents["occupied"].as_array().unwrap().is_empty());
    // the pharmacist and quality officer do not move vials
    app.post(
        &format!("/api/v1/vials/{vial}/store"),
        Some(&team.quality),
        json!({"box_id": id(&the_box), "position": "A1"}),
    )
    .await
    .expect_error(403, "forbidden");
}

async fn positions_outside_the_box_and_non_boxes_are_refused(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-2200", 1).await;
    let vial = id(&vials[0]);
    let the_box = app.storage_box(&team, "1", 9, 9).await;
    for position in [
        "J1",
        "A10",
        "A0",
        "",
        "11",
        "A-1",
        "'; DROP TABLE vials; --",
    ] {
        let details = app
            .store(&team, &vial, &id(&the_box), position)
            .await
            .expect_error(422, "invalid_position");
        assert_eq!(details["last"], "I9");
    }
    let box_contents = app
        .get(
            &format!("/api/v1/storage/{}", id(&the_box)),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let rack_id = box_contents["parent_id"].as_str().unwrap().to_owned();
    app.store(&team, &vial, &rack_id, "A1")
        .await
        .expect_error(422, "not_a_box");
    app.store(&team, &vial, &uuid::Uuid::nil().to_string(), "A1")
        .await
        .expect_error(404, "not_found");
    app.store(&team, &uuid::Uuid::nil().to_string(), &id(&the_box), "A1")
        .await
        .expect_error(404, "not_found");
    let vial_now = app
        .get(&format!("/api/v1/vials/{vial}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(vial_now["location"], json!(null));
}

async fn two_vials_racing_for_one_position_one_wins(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-2300", 10).await;
    let the_box = app.storage_box(&team, "1", 9, 9).await;
    let box_id = id(&the_box);
    for (round, pair) in vials.chunks(2).enumerate() {
        let position = format!("A{}", round + 1);
        let answers = join_all(
            pair.iter()
                .map(|v| app.store(&team, &id(v), &box_id, &position)),
        )
        .await;
        let mut statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}");
        let loser = answers.into_iter().find(|a| a.status == 409).unwrap();
        let details = loser.expect_error(409, "position_occupied");
        assert_eq!(details["position"], position);
        let contents = app
            .get(&format!("/api/v1/storage/{box_id}"), Some(&team.lab))
            .await
            .expect(200);
        let here = contents["occupied"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["position"] == position.as_str())
            .count();
        assert_eq!(here, 1, "round {round}");
    }
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn one_vial_racing_into_two_positions_lands_once(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-2400", 1).await;
    let vial = id(&vials[0]);
    let the_box = app.storage_box(&team, "1", 9, 9).await;
    let box_id = id(&the_box);
    let answers =
        join_all(["C1", "C2", "C3", "C4"].map(|p| app.store(&team, &vial, &box_id, p))).await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    assert!(ok >= 1);
    let contents = app
        .get(&format!("/api/v1/storage/{box_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(
        contents["occupied"].as_array().unwrap().len(),
        1,
        "one vial, one place"
    );
    let vial_now = app
        .get(&format!("/api/v1/vials/{vial}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(
        vial_now["location"]["position"],
        contents["occupied"][0]["position"]
    );
    // each successful answer is one recorded move, chained in order
    let events = app
        .get(
            &format!("/api/v1/audit?subject_kind=vial&subject_id={vial}"),
            Some(&team.lab),
        )
        .await
        .expect(200);
    assert_eq!(events.as_array().unwrap().len(), 1 + ok);
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn a_discarded_vial_frees_its_position_and_cannot_return(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.released_lot(&team, "UCD-2500", 2).await;
    let (vial, other) = (id(&vials[0]), id(&vials[1]));
    let the_box = app.storage_box(&team, "1", 9, 9).await;
    app.store(&team, &vial, &id(&the_box), "E5")
        .await
        .expect(200);
    let path = format!("/api/v1/vials/{vial}/discard");
    app.post(&path, Some(&team.lab), json!({"reason": "cracked", "signature": {"password": "wrong-password", "meaning": "discard"}}))
        .await
        .expect_error(401, "signature_invalid");
    app.post(
        &path,
        Some(&team.quality),
        signed(json!({"reason": "cracked"})),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(&path, Some(&team.lab), signed(json!({"reason": ""})))
        .await
        .expect_error(422, "invalid_field");
    let still = app
        .get(&format!("/api/v1/vials/{vial}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(still["status"], "available");
    let discarded = app
        .post(
            &path,
            Some(&team.lab),
            signed(json!({"reason": "cracked vial"})),
        )
        .await
        .expect(200);
    assert_eq!(discarded["status"], "discarded");
    assert_eq!(discarded["location"], json!(null));
    assert_eq!(discarded["next_actions"], json!([]));
    // its position is free for another vial
    app.store(&team, &other, &id(&the_box), "E5")
        .await
        .expect(200);
    // and nothing brings it back
    let details = app
        .store(&team, &vial, &id(&the_box), "E6")
        .await
        .expect_error(409, "invalid_state");
    assert_eq!(
        details,
        json!({"kind": "vial", "status": "discarded", "action": "store"})
    );
    app.post(&path, Some(&team.lab), signed(json!({"reason": "again"})))
        .await
        .expect_error(409, "invalid_state");
    let events = app
        .get(
            &format!("/api/v1/audit?subject_kind=vial&subject_id={vial}"),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "vial.discarded");
    assert_eq!(last["from_location"], "Tank 1 › Rack A › Box 1 › E5");
    assert_eq!(last["details"]["reason"], "cracked vial");
    assert_eq!(last["details"]["from"], "available");
    assert_eq!(last["details"]["signature"]["signer"], "lab.tech");
}

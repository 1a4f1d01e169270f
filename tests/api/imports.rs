//! Imports (issue 16), on both databases: a 1,000-row file with 20 seeded
//! errors is reported whole by the dry run and writes nothing; the same
//! file corrected is uploaded, accepted by quality's signature and written
//! (vials in their positions, lots in quarantine, the ledger replaying to
//! the tables); an import killed after its first chunk resumes from the
//! command line; a repeated import changes nothing; release in the same
//! signed act; a wrong signature or an unreleasable lot writes nothing.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use celltrail::domain::import::sample::Sample;
use celltrail::entities::{custody_event, donor, import, lot, signature, storage_unit, vial};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{STAFF_PASSWORD, TestApp};
use crate::on_both_databases;
use crate::story::{id, rfc3339};

on_both_databases!(
    a_thousand_rows_with_twenty_errors_are_all_reported_and_nothing_is_written,
    an_interrupted_import_resumes_and_a_repeated_one_changes_nothing,
    quality_releases_every_lot_in_the_accepting_act,
    a_wrong_signature_or_an_unreleasable_lot_writes_nothing,
    the_template_imports_and_the_next_din_follows_its_own_facilitys,
    the_lab_uploads_on_the_page_and_quality_signs_there,
    each_reader_sees_the_files_problems_in_their_own_language,
    a_run_that_stops_says_why_and_quality_resumes_it,
    a_lab_at_two_sites_names_the_banks_site,
    a_second_click_on_accept_stops_nothing,
);

/// Rows, in the tables the import writes, and the ledger's length.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    donors: u64,
    lots: u64,
    vials: u64,
    units: u64,
    events: u64,
}

async fn counts(app: &TestApp) -> Counts {
    let db = app.state.db.conn();
    Counts {
        donors: donor::Entity::find().count(db).await.unwrap(),
        lots: lot::Entity::find().count(db).await.unwrap(),
        vials: vial::Entity::find().count(db).await.unwrap(),
        units: storage_unit::Entity::find().count(db).await.unwrap(),
        events: custody_event::Entity::find().count(db).await.unwrap(),
    }
}

async fn head_hash(app: &TestApp) -> String {
    custody_event::Entity::find()
        .order_by_desc(custody_event::Column::Seq)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .map(|e| e.hash)
        .unwrap_or_default()
}

/// Sends `text` as `text/csv` to `/api/v1/imports{query}`.
async fn send(app: &TestApp, token: &str, query: &str, text: &str) -> crate::helpers::Answer {
    app.send(
        app.client
            .post(app.url(&format!("/api/v1/imports{query}")))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(text.to_owned()),
    )
    .await
}

/// Replaces the cell `column` of spreadsheet row `row` (header = 1).
fn set(text: &str, row: usize, column: &str, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let index = lines[0].split(',').position(|c| c == column).unwrap();
    let mut cells: Vec<String> = lines[row - 1].split(',').map(str::to_owned).collect();
    cells[index] = value.to_owned();
    lines[row - 1] = cells.join(",");
    lines.join("\n") + "\n"
}

/// Waits for a background import to finish; its view.
async fn finished(app: &TestApp, token: &str, import_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let view = app
            .get(&format!("/api/v1/imports/{import_id}"), Some(token))
            .await
            .expect(200);
        if view["status"] == "finished" {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "the import did not finish: {view:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn accept_body(password: &str, release: bool) -> Value {
    json!({
        "release_lots": release,
        "signature": { "password": password, "meaning": "accepted for import" },
    })
}

async fn a_thousand_rows_with_twenty_errors_are_all_reported_and_nothing_is_written(app: TestApp) {
    let team = app.team().await;
    // already in the database: a donor the file names with another
    // consent, and a vial stored in a box the file also fills
    app.post(
        "/api/v1/donors",
        Some(&team.lab),
        json!({ "code": "D000007", "consent_at": rfc3339(app.days_ago(90)) }),
    )
    .await
    .expect(201);
    let (_, stored) = app.quarantined_lot(&team, "PRE-1", 1).await;
    let boxed = app.storage_box(&team, "PRE", 9, 9).await;
    app.store(&team, &id(&stored[0]), &id(&boxed), "A1")
        .await
        .expect(200);

    // 10 lots of 100 vials: lot k on rows 2+100k ..= 101+100k
    let clean = Sample::new(10, 100, app.clock.now()).csv();
    let mut text = clean.clone();
    let mut expected: Vec<&str> = Vec::new();
    let mut seed = |text: &mut String, row: usize, column: &str, value: &str, at: &'static str| {
        *text = set(text, row, column, value);
        if !at.is_empty() {
            expected.push(at);
        }
    };
    seed(&mut text, 5, "volume_ul", "1.0", "5:volume_ul"); // mL typed as µL
    seed(&mut text, 10, "din", "B123425000001X", "10:din"); // wrong check character
    seed(&mut text, 20, "position", "J1", "20:position"); // outside the 9×9 box
    seed(&mut text, 31, "position", "D2", "31:position"); // row 30's position
    for row in 102..=201 {
        let at = if row == 102 { "102:expires_at" } else { "" };
        seed(&mut text, row, "expires_at", "2025-01-01T00:00:00Z", at); // before manufacture
    }
    seed(&mut text, 205, "qc_viability", "high", "205:qc_viability"); // not a number
    for row in 302..=401 {
        let at = if row == 302 { "302:cells_per_vial" } else { "" };
        seed(&mut text, row, "cells_per_vial", "20000000", at); // ten times the others
    }
    seed(&mut text, 450, "product_code", "S9999", "450:product_code"); // differs within its lot
    seed(&mut text, 460, "vial_code", "", "");
    seed(&mut text, 460, "vial_number", "58", "460:vial_number"); // twice in its lot
    seed(
        &mut text,
        470,
        "collected_at",
        "2026-01-01T00:00:00Z",
        "470:collected_at",
    );
    seed(
        &mut text,
        480,
        "consent_at",
        "2026-01-02T00:00:00Z",
        "480:consent_at",
    );
    seed(&mut text, 510, "screen_hiv", "maybe", "510:screen_hiv");
    seed(&mut text, 520, "eligibility", "yes", "520:eligibility");
    seed(&mut text, 530, "din", "B123425000006", "530:din"); // no check character
    seed(&mut text, 550, "frozen_at", "31/12/2025", "550:frozen_at");
    seed(&mut text, 560, "box_rows", "40", "560:box_rows");
    // already registered, with another consent
    seed(&mut text, 602, "donor_code", "D000007", "602:consent_at");
    for (column, value) in [("tank", "Tank PRE"), ("rack", "Rack A"), ("box", "Box 1")] {
        seed(&mut text, 650, column, value, "");
    }
    seed(&mut text, 650, "position", "A1", "650:position"); // where a stored vial is
    for row in 702..=801 {
        let at = if row == 702 { "702:received_at" } else { "" };
        seed(&mut text, row, "received_at", "2025-01-01T00:00:00Z", at); // before collection
    }
    text = text.replacen("qc_cd19", "qc_cd99", 1); // an unknown QC test
    expected.push("1:qc_cd99");
    assert_eq!(expected.len(), 20);
    expected.sort_by_key(|at| at.split(':').next().unwrap().parse::<usize>().unwrap());

    let before = counts(&app).await;
    let report = send(&app, &team.lab, "?dry_run=true", &text)
        .await
        .expect(200);
    assert_eq!(report["ok"], false);
    let found: Vec<String> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}:{}", p["row"], p["column"].as_str().unwrap()))
        .collect();
    assert_eq!(found, expected, "{:#}", report["lines"]);
    let lines = report["lines"].as_array().unwrap();
    assert!(
        lines[1].as_str().unwrap().starts_with("5:volume_ul: "),
        "{lines:#?}"
    );
    assert!(lines[1].as_str().unwrap().contains("1000"), "{lines:#?}");
    // the real run refuses the same file with the same problems
    let refused = send(&app, &team.lab, "", &text).await;
    let details = refused.expect_error(422, "import_invalid");
    assert_eq!(details["problems"].as_array().unwrap().len(), 20);
    assert_eq!(counts(&app).await, before, "nothing was written");
    // only the lab sends files
    send(&app, &team.quality, "?dry_run=true", &text)
        .await
        .expect_error(403, "forbidden");

    // corrected (and the donor already registered renamed), it imports
    let corrected = set(&clean, 2, "lot_code", "").replace("D000007", "D000017");
    let dry = send(&app, &team.lab, "?dry_run=true", &corrected)
        .await
        .expect(200);
    assert_eq!(dry["ok"], true, "{:#}", dry["lines"]);
    assert_eq!(
        (
            dry["rows"].as_u64(),
            dry["lots"].as_u64(),
            dry["vials"].as_u64()
        ),
        (Some(1000), Some(10), Some(1000))
    );
    // the donor already registered (with another consent) is named
    app.post(
        "/api/v1/donors",
        Some(&team.lab),
        json!({ "code": "D000008", "consent_at": rfc3339(app.days_ago(90)) }),
    )
    .await
    .expect(201);
    let clash = send(&app, &team.lab, "?dry_run=true", &corrected)
        .await
        .expect(200);
    let lines: Vec<&str> = clash["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("702:consent_at: donor D000008 is already recorded"),
        "{lines:#?}"
    );
    let corrected = corrected.replace("D000008", "D000018");

    let pending = send(&app, &team.lab, "?file_name=bank.csv", &corrected)
        .await
        .expect(201);
    assert_eq!(pending["status"], "pending");
    let import_id = id(&pending);
    let accepted = app
        .post(
            &format!("/api/v1/imports/{import_id}/accept"),
            Some(&team.quality),
            accept_body(STAFF_PASSWORD, false),
        )
        .await
        .expect(202);
    assert_eq!(accepted["status"], "running");
    let done = finished(&app, &team.quality, &import_id).await;
    assert_eq!(done["rows_done"], 1000);
    assert_eq!(done["percent_done"], 100);
    assert_eq!(done["summary"]["vials"], 1000);
    assert_eq!(done["summary"]["lots"], 10);
    assert_eq!(done["summary"]["donors"], 10);
    let after = counts(&app).await;
    assert_eq!(after.vials, before.vials + 1000);
    assert_eq!(after.lots, before.lots + 10);

    // in quarantine, in their positions, with the imported mark
    let db = app.state.db.conn();
    let first = vial::Entity::find()
        .filter(vial::Column::Code.eq("B123425000001-L01-V001"))
        .one(db)
        .await
        .unwrap()
        .expect("the first vial");
    let shown = app
        .get(&format!("/api/v1/vials/{}", first.id), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(shown["status"], "quarantine");
    assert_eq!(shown["location"]["position"], "A1");
    assert_eq!(shown["location"]["path"], "Tank 1 › Rack 1 › Box 1 › A1");
    let quarantined = lot::Entity::find()
        .filter(lot::Column::Code.like("B1234%"))
        .filter(lot::Column::Status.eq("quarantine"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(quarantined, 10);
    let events = app
        .get(
            &format!("/api/v1/audit?subject_kind=vial&subject_id={}", first.id),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let events = events
        .as_array()
        .cloned()
        .unwrap_or_else(|| events["items"].as_array().unwrap().clone());
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["vial.frozen", "vial.stored"]);
    let sha = done["file_sha256"].as_str().unwrap();
    for event in &events {
        assert_eq!(
            event["details"]["imported"]["file_sha256"], sha,
            "{event:#}"
        );
        assert_eq!(event["details"]["imported"]["row"], 2, "{event:#}");
    }
    let verified = app.verify_ledger(&team).await;
    assert_eq!(verified["ok"], true, "{verified:#}");

    // the same file again: nothing to do
    let again = send(&app, &team.lab, "", &corrected).await.expect(200);
    assert_eq!(again["id"], import_id);
    assert_eq!(again["status"], "finished");
    let dry = send(&app, &team.lab, "?dry_run=true", &corrected)
        .await
        .expect(200);
    assert_eq!(dry["already_imported"], true);
    assert_eq!(counts(&app).await, after);
}

fn celltrail(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_celltrail"));
    command
        .env("DATABASE_URL", database_url)
        .env_remove("CELLTRAIL_ADMIN_PASSWORD")
        .env("CELLTRAIL_SIGNER_PASSWORD", STAFF_PASSWORD)
        .env("RUST_LOG", "warn");
    command
}

fn import_command(app: &TestApp, file: &std::path::Path) -> Command {
    let mut command = celltrail(&app.database_url);
    command.args(["import"]).arg(file).args([
        "--as",
        "lab.tech",
        "--signer",
        "qa.officer",
        "--chunk-vials",
        "10",
    ]);
    command
}

async fn an_interrupted_import_resumes_and_a_repeated_one_changes_nothing(app: TestApp) {
    let team = app.team().await;
    let file = app.files.path().join("bank.csv");
    std::fs::write(&file, Sample::new(40, 10, app.clock.now()).csv()).unwrap();
    let before = counts(&app).await;

    // killed once its first chunk is committed
    let mut child = import_command(&app, &file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        let read = stderr.read_line(&mut line).unwrap();
        assert!(read > 0, "the import ended without a chunk");
        if line.starts_with("imported chunk 1/40") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let row = import::Entity::find()
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "running");
    assert!(row.chunks_done >= 1 && row.chunks_done < 40, "{row:?}");
    assert_eq!(row.rows_done, row.chunks_done * 10);
    let partial = counts(&app).await;
    assert_eq!(partial.vials, before.vials + row.rows_done as u64);

    // the same command continues after the last committed chunk
    let output = import_command(&app, &file).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("created"), "{stdout}");
    assert!(
        !stderr.contains(&format!("imported chunk {}/40", row.chunks_done)),
        "{stderr}"
    );
    assert!(stderr.contains("imported chunk 40/40"), "{stderr}");
    let done = counts(&app).await;
    assert_eq!(done.vials, before.vials + 400);
    assert_eq!(done.lots, before.lots + 40);
    assert_eq!(done.donors, before.donors + 40);
    let row = import::Entity::find()
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.status.as_str(), row.chunks_done, row.rows_done),
        ("finished", 40, 400)
    );
    // the acceptance and the resumption are each signed
    let signed = signature::Entity::find()
        .filter(signature::Column::SubjectId.eq(row.id))
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(signed, 2);
    let verified = app.verify_ledger(&team).await;
    assert_eq!(verified["ok"], true, "{verified:#}");

    // and once more: nothing imported twice, the ledger untouched
    let head = head_hash(&app).await;
    let output = import_command(&app, &file).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("nothing to import"), "{stdout}");
    assert_eq!(counts(&app).await, done);
    assert_eq!(head_hash(&app).await, head);

    // the dry run of a file with a problem exits non-zero, naming it
    let bad = app.files.path().join("bad.csv");
    let mut other = Sample::new(2, 2, app.clock.now());
    other.first_sequence = 1000;
    other.storage_prefix = "X".into();
    std::fs::write(&bad, set(&other.csv(), 3, "volume_ul", "1")).unwrap();
    let output = celltrail(&app.database_url)
        .args(["import"])
        .arg(&bad)
        .args(["--dry-run", "--as", "lab.tech"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert!(
        stdout.starts_with("3:volume_ul: 1 µL is too little"),
        "{stdout}"
    );
    assert_eq!(counts(&app).await, done);
}

async fn quality_releases_every_lot_in_the_accepting_act(app: TestApp) {
    let team = app.team().await;
    let text = Sample::new(3, 5, app.clock.now()).csv();
    let pending = send(&app, &team.lab, "", &text).await.expect(201);
    let import_id = id(&pending);
    app.post(
        &format!("/api/v1/imports/{import_id}/accept"),
        Some(&team.quality),
        accept_body(STAFF_PASSWORD, true),
    )
    .await
    .expect(202);
    let done = finished(&app, &team.quality, &import_id).await;
    assert_eq!(done["release_lots"], true);
    assert_eq!(done["summary"]["lots_released"], 3);
    let db = app.state.db.conn();
    let released = lot::Entity::find()
        .filter(lot::Column::Status.eq("released"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(released, 3);
    let available = vial::Entity::find()
        .filter(vial::Column::Status.eq("available"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(available, 15);
    // the eligibility decisions and releases point at the one signature
    let decided = custody_event::Entity::find()
        .filter(custody_event::Column::Action.is_in(["donor.eligibility_decided", "lot.released"]))
        .all(db)
        .await
        .unwrap();
    assert_eq!(decided.len(), 6);
    for event in &decided {
        assert_eq!(event.actor_username, "qa.officer");
        let details: Value = serde_json::from_str(&event.details).unwrap();
        assert_eq!(
            details["accepted_by"]["signature_id"], done["signature_id"],
            "{details:#}"
        );
    }
    let verified = app.verify_ledger(&team).await;
    assert_eq!(verified["ok"], true, "{verified:#}");
}

async fn a_wrong_signature_or_an_unreleasable_lot_writes_nothing(app: TestApp) {
    let team = app.team().await;
    let mut text = Sample::new(2, 3, app.clock.now()).csv();
    for row in 5..=7 {
        text = set(&text, row, "qc_sterility", "positive");
    }
    let pending = send(&app, &team.lab, "", &text).await.expect(201);
    let import_id = id(&pending);
    let before = counts(&app).await;
    let path = format!("/api/v1/imports/{import_id}/accept");
    app.post(
        &path,
        Some(&team.quality),
        accept_body("not-the-password", false),
    )
    .await
    .expect_error(401, "signature_invalid");
    app.post(&path, Some(&team.lab), accept_body(STAFF_PASSWORD, false))
        .await
        .expect_error(403, "forbidden");
    // the second lot failed sterility: it cannot be released
    let refused = app
        .post(
            &path,
            Some(&team.quality),
            accept_body(STAFF_PASSWORD, true),
        )
        .await;
    let details = refused.expect_error(422, "import_invalid");
    assert_eq!(
        details["lines"][0].as_str().unwrap().split(": ").next(),
        Some("5:qc_sterility"),
        "{details:#}"
    );
    let dry = send(&app, &team.lab, "?dry_run=true&release=true", &text)
        .await
        .expect(200);
    assert_eq!(dry["ok"], false);
    assert_eq!(counts(&app).await, before);
    let view = app
        .get(&format!("/api/v1/imports/{import_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(view["status"], "pending");
    // accepted into quarantine, it goes in
    app.post(
        &path,
        Some(&team.quality),
        accept_body(STAFF_PASSWORD, false),
    )
    .await
    .expect(202);
    finished(&app, &team.quality, &import_id).await;
    assert_eq!(counts(&app).await.vials, before.vials + 6);
    app.post(
        &path,
        Some(&team.quality),
        accept_body(STAFF_PASSWORD, false),
    )
    .await
    .expect_error(409, "invalid_state");
}

async fn the_template_imports_and_the_next_din_follows_its_own_facilitys(app: TestApp) {
    let team = app.team().await;
    let text = include_str!("../../docs/import/template.csv");
    let pending = send(&app, &team.lab, "?file_name=template.csv", text)
        .await
        .expect(201);
    let import_id = id(&pending);
    app.post(
        &format!("/api/v1/imports/{import_id}/accept"),
        Some(&team.quality),
        accept_body(STAFF_PASSWORD, false),
    )
    .await
    .expect(202);
    let done = finished(&app, &team.quality, &import_id).await;
    assert_eq!(done["summary"]["vials"], 3);
    assert_eq!(
        done["summary"]["storage_units"], 4,
        "Tank 1, Rack A, Box 1, Box 7"
    );
    // the template's DINs are of this installation's facility (A9999):
    // the next DIN it assigns for 2025 comes after them
    let donor = donor::Entity::find()
        .filter(donor::Column::Code.eq("UCD-0102"))
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let donation = app
        .post(
            "/api/v1/donations",
            Some(&team.lab),
            json!({
                "donor_id": donor.id,
                "collected_at": "2025-06-01T00:00:00Z",
                "received_at": "2025-06-01T02:00:00Z",
            }),
        )
        .await
        .expect(201);
    assert_eq!(donation["din"], "A999925000103");
    let verified = app.verify_ledger(&team).await;
    assert_eq!(verified["ok"], true, "{verified:#}");
}

async fn the_lab_uploads_on_the_page_and_quality_signs_there(app: TestApp) {
    use crate::web::{csrf, page, sign_in, submit};
    use reqwest::StatusCode;
    app.team().await;
    let lab = sign_in(&app, "lab.tech").await;
    let (status, list) = page(&app, "/imports", &lab).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains("Bring in a bank&#39;s file") || list.contains("Bring in a bank's file"),
        "{list}"
    );
    assert!(
        list.contains("src=\"/assets/import.js\""),
        "the script is a file"
    );
    let text = Sample::new(2, 3, app.clock.now()).csv();
    let bad = set(&text, 3, "volume_ul", "1.0");
    let before = counts(&app).await;
    let (status, _, shown) = submit(
        &app,
        &lab,
        "/imports",
        &[
            ("csrf", &csrf(&list)),
            ("content", &bad),
            ("file_name", "bank.csv"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        shown.contains("volume_ul") && shown.contains("write 1000"),
        "{shown}"
    );
    assert_eq!(counts(&app).await, before);
    let (status, location, _) = submit(
        &app,
        &lab,
        "/imports",
        &[
            ("csrf", &csrf(&shown)),
            ("content", &text),
            ("file_name", "bank.csv"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let path = location.split('?').next().unwrap().to_owned();
    assert!(path.starts_with("/imports/"), "{location}");

    let quality = sign_in(&app, "qa.officer").await;
    let (status, waiting) = page(&app, &path, &quality).await;
    assert_eq!(status, StatusCode::OK);
    assert!(waiting.contains("<progress"), "{waiting}");
    assert!(waiting.contains("Accept the import"), "{waiting}");
    let (status, location, _) = submit(
        &app,
        &quality,
        &format!("{path}/accept"),
        &[
            ("csrf", &csrf(&waiting)),
            ("release", "on"),
            ("password", STAFF_PASSWORD),
            ("meaning", "accepted for import"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with(&path), "{location}");
    let token = crate::helpers::token_of(app.login("qa.officer", STAFF_PASSWORD).await);
    let done = finished(&app, &token, path.trim_start_matches("/imports/")).await;
    assert_eq!(done["summary"]["lots_released"], 2);
    let (_, page_done) = page(&app, &path, &quality).await;
    assert!(page_done.contains("Created 2 donors"), "{page_done}");
}

/// The upload page says a file's problems in its reader's language, each
/// at its row and column as the file names them; the API keeps its
/// English lines and gives each problem's key and values.
async fn each_reader_sees_the_files_problems_in_their_own_language(app: TestApp) {
    use crate::web::{csrf, page, sign_in, submit};
    use reqwest::StatusCode;
    let team = app.team().await;
    let (_, chinese_token) = app.staff("lab.zh", "lab").await;
    app.put(
        "/api/v1/users/me/preferences",
        Some(&chinese_token),
        json!({"language": "zh-CN"}),
    )
    .await
    .expect(200);
    let text = Sample::new(2, 3, app.clock.now()).csv();
    let bad = set(&text, 3, "volume_ul", "1"); // millilitres in the µL column
    let bad = set(&bad, 4, "passage", "abc");
    let bad = set(&bad, 6, "position", "Z99"); // outside a 9 × 9 box
    let before = counts(&app).await;
    let upload = |cookie: String| {
        let app = &app;
        let bad = bad.clone();
        async move {
            let (_, list) = page(app, "/imports", &cookie).await;
            let (status, _, shown) = submit(
                app,
                &cookie,
                "/imports",
                &[("csrf", &csrf(&list)), ("content", &bad)],
            )
            .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{shown}");
            shown
        }
    };
    let at = |row: usize, column: &str, words: &str| {
        format!("<td>{row}</td><td class=\"code\">{column}</td><td>{words}")
    };

    let chinese = upload(sign_in(&app, "lab.zh").await).await;
    assert!(chinese.contains("<html lang=\"zh-CN\">"), "{chinese}");
    for expected in [
        at(
            3,
            "volume_ul",
            "1 µL 对一支冻存管来说太少：此列单位为微升（µL）；如果您指的是 1 mL，请填写 1000",
        ),
        at(4, "passage", "“abc”不是整数（传代次数，0 至 50）"),
        at(6, "position", "“Z99”不是 9×9 冻存盒中的位置（A1 至 I9）"),
    ] {
        assert!(chinese.contains(&expected), "{expected}: {chinese}");
    }
    assert!(chinese.contains("文件有 3 处问题"), "{chinese}");
    assert!(!chinese.contains("too little"), "{chinese}");
    assert!(!chinese.contains("is not a whole number"), "{chinese}");

    let english = upload(sign_in(&app, "lab.tech").await).await;
    assert!(english.contains("<html lang=\"en\">"), "{english}");
    for expected in [
        at(
            3,
            "volume_ul",
            "1 µL is too little for a vial: this column is in microlitres; if you meant 1 mL, write 1000",
        ),
        at(
            4,
            "passage",
            "&quot;abc&quot; is not a whole number (the passage, 0 to 50)",
        ),
        at(
            6,
            "position",
            "&quot;Z99&quot; is not a position of a 9×9 box (A1 to I9)",
        ),
    ] {
        assert!(english.contains(&expected), "{expected}: {english}");
    }
    assert!(!english.contains("冻存管来说太少"), "{english}");
    assert_eq!(counts(&app).await, before);

    // the API keeps its English lines, and gives each problem's key and values
    let report = send(&app, &team.lab, "?dry_run=true", &bad)
        .await
        .expect(200);
    let lines = report["lines"].as_array().unwrap();
    assert_eq!(
        lines[0],
        "3:volume_ul: 1 µL is too little for a vial: this column is in microlitres; if you meant 1 mL, write 1000"
    );
    let first = &report["problems"][0];
    assert_eq!(first["code"], "imp-problem-volume-looks-like-ml");
    assert_eq!(first["args"], json!({"value": "1", "microlitres": "1000"}));
    assert_eq!(
        first["message"],
        lines[0]
            .as_str()
            .unwrap()
            .trim_start_matches("3:volume_ul: ")
    );
}

/// A background run that meets a record made after its acceptance (here
/// a lot code taken behind the import's back) stops: its chunk writes
/// nothing, the import says why (its view, its page, an `import.stopped`
/// event) and stays `running`; once the cause is gone, quality resumes it
/// with a signature and it finishes, the reason cleared.
async fn a_run_that_stops_says_why_and_quality_resumes_it(app: TestApp) {
    use celltrail::domain::accounts::Role;
    use celltrail::domain::actor::AuthenticatedUser;
    use celltrail::services::imports;
    use celltrail::services::signatures::VerifiedSignature;
    use sea_orm::{ActiveModelTrait, IntoActiveModel, ModelTrait};

    let team = app.team().await;
    let mut sample = Sample::new(2, 3, app.clock.now());
    sample.first_sequence = 700;
    let text = sample.csv();
    let pending = send(&app, &team.lab, "?file_name=stops.csv", &text)
        .await
        .expect(201);
    let import_id = id(&pending);
    // quality's acceptance, as the route makes it, then the run held back
    let me = app
        .get("/api/v1/users/me", Some(&team.quality))
        .await
        .expect(200);
    let signature = VerifiedSignature {
        signer: AuthenticatedUser {
            user_id: id(&me).parse().unwrap(),
            session_id: uuid::Uuid::nil(),
            username: me["username"].as_str().unwrap().to_owned(),
            full_name: me["full_name"].as_str().unwrap().to_owned(),
            role: Role::Quality,
            locked_until: None,
            created_at: app.clock.now(),
        },
        meaning: "accepted for import".into(),
    };
    let started =
        imports::accept_uploaded(&app.state, &signature, import_id.parse().unwrap(), false)
            .await
            .unwrap();
    // meanwhile a lot takes the code of the file's first lot
    let (other, _) = app.quarantined_lot(&team, "D-STOP", 1).await;
    let first_lot_code = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(16)
        .unwrap()
        .to_owned();
    let mut intruder = lot::Entity::find_by_id(id(&other).parse::<uuid::Uuid>().unwrap())
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    intruder.id = uuid::Uuid::now_v7();
    intruder.code = first_lot_code.clone();
    let intruder = intruder
        .into_active_model()
        .reset_all()
        .insert(app.state.db.conn())
        .await
        .unwrap();
    let before = counts(&app).await;
    imports::run_in_background(&app.state, started);
    let deadline = Instant::now() + Duration::from_secs(60);
    let stopped = loop {
        let view = app
            .get(&format!("/api/v1/imports/{import_id}"), Some(&team.quality))
            .await
            .expect(200);
        if !view["stopped"].is_null() {
            break view;
        }
        assert!(Instant::now() < deadline, "the run did not stop: {view:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(stopped["status"], "running");
    assert_eq!(stopped["rows_done"], 0, "{stopped:#}");
    let after = counts(&app).await;
    assert_eq!(
        (after.donors, after.lots, after.vials, after.units),
        (before.donors, before.lots, before.vials, before.units),
        "the stopped chunk wrote nothing"
    );
    let events = app
        .get(
            &format!("/api/v1/audit?subject_kind=import&subject_id={import_id}"),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["import.uploaded", "import.accepted", "import.stopped"]
    );
    // the page says it stopped and offers quality the resumption
    let cookie = crate::web::sign_in(&app, "qa.officer").await;
    let (_, html) = crate::web::page(&app, &format!("/imports/{import_id}"), &cookie).await;
    assert!(html.contains("The import stopped before the end"), "{html}");
    assert!(html.contains("Resume the import"), "{html}");
    // the cause removed, quality resumes it and it finishes
    intruder.delete(app.state.db.conn()).await.unwrap();
    app.post(
        &format!("/api/v1/imports/{import_id}/accept"),
        Some(&team.quality),
        json!({
            "release_lots": false,
            "signature": { "password": STAFF_PASSWORD, "meaning": "import resumed" },
        }),
    )
    .await
    .expect(202);
    let done = finished(&app, &team.quality, &import_id).await;
    assert!(done["stopped"].is_null(), "{done:#}");
    assert_eq!(done["summary"]["vials"], 6);
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report:#}");
}

/// A lab person who works at two sites says at which the bank is: without
/// it the file is refused (`site_required`, nothing written), over the API
/// and on the command line; named, its records and storage are there.
async fn a_lab_at_two_sites_names_the_banks_site(app: TestApp) {
    let team = app.team().await;
    let admin = app.admin_token().await;
    let ward = crate::sites::site(&app, &admin, "Ward 3", "B1234", "clinical").await;
    let me = app
        .get("/api/v1/users/me", Some(&team.lab))
        .await
        .expect(200);
    app.post(
        &format!("/api/v1/users/{}/sites", id(&me)),
        Some(&admin),
        json!({ "site_id": id(&ward) }),
    )
    .await
    .expect(200);
    let mut sample = Sample::new(1, 2, app.clock.now());
    sample.first_sequence = 800;
    let text = sample.csv();
    let before = counts(&app).await;
    send(&app, &team.lab, "?dry_run=true", &text)
        .await
        .expect_error(422, "site_required");
    send(&app, &team.lab, "?file_name=ward.csv", &text)
        .await
        .expect_error(422, "site_required");
    let file = app.files.path().join("ward.csv");
    std::fs::write(&file, &text).unwrap();
    let refused = celltrail(&app.database_url)
        .args(["import"])
        .arg(&file)
        .args(["--as", "lab.tech", "--signer", "qa.officer"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("sites"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(counts(&app).await, before);
    // named by its facility code on the command line
    let done = celltrail(&app.database_url)
        .args(["import"])
        .arg(&file)
        .args([
            "--as",
            "lab.tech",
            "--signer",
            "qa.officer",
            "--site",
            "b1234",
        ])
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let vials = vial::Entity::find()
        .filter(
            vial::Column::Code
                .starts_with(text.lines().nth(1).unwrap().split(',').nth(16).unwrap()),
        )
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(vials.len(), 2);
    assert!(vials.iter().all(|v| v.site_id.to_string() == id(&ward)));
    // over the API, the same way: a dry run at the ward sees the file done
    let report = send(
        &app,
        &team.lab,
        &format!("?dry_run=true&site_id={}", id(&ward)),
        &text,
    )
    .await
    .expect(200);
    assert_eq!(report["already_imported"], true, "{report:#}");
    // the upload page asks the site of a lab person at two
    let cookie = crate::web::sign_in(&app, "lab.tech").await;
    let (_, html) = crate::web::page(&app, "/imports", &cookie).await;
    assert!(html.contains(r#"name="site_id""#), "{html}");
    assert!(html.contains("Ward 3 (B1234)"), "{html}");
}

/// Quality clicks *accept* twice: the second is answered (a resumption
/// while the first run writes, or 409 once it finished), the file is
/// written once, and no run says it stopped.
async fn a_second_click_on_accept_stops_nothing(app: TestApp) {
    let team = app.team().await;
    let mut sample = Sample::new(20, 10, app.clock.now());
    sample.first_sequence = 900;
    let pending = send(&app, &team.lab, "?file_name=twice.csv", &sample.csv())
        .await
        .expect(201);
    let import_id = id(&pending);
    let path = format!("/api/v1/imports/{import_id}/accept");
    let (first, second) = tokio::join!(
        app.post(
            &path,
            Some(&team.quality),
            accept_body(STAFF_PASSWORD, false)
        ),
        app.post(
            &path,
            Some(&team.quality),
            accept_body(STAFF_PASSWORD, false)
        ),
    );
    let statuses = [first.status.as_u16(), second.status.as_u16()];
    assert!(statuses.contains(&202), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [202, 409].contains(s)),
        "{statuses:?}"
    );
    let done = finished(&app, &team.quality, &import_id).await;
    assert!(done["stopped"].is_null(), "{done:#}");
    assert_eq!(done["summary"]["vials"], 200);
    assert_eq!(
        vial::Entity::find()
            .count(app.state.db.conn())
            .await
            .unwrap(),
        200
    );
    // a run that stepped aside for the other leaves no stop behind
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events = app
        .get(
            &format!("/api/v1/audit?subject_kind=import&subject_id={import_id}"),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] != "import.stopped"),
        "{events:#}"
    );
    let view = app
        .get(&format!("/api/v1/imports/{import_id}"), Some(&team.quality))
        .await
        .expect(200);
    assert!(view["stopped"].is_null(), "{view:#}");
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report:#}");
}

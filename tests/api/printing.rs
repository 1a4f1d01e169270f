//! Sending labels to network label printers, on both databases: a printer
//! here is a TCP listener of the test's own (it keeps every job it is
//! sent), a printer switched off is a port nobody listens on. Every label
//! sent (vial labels, a box label, a dose bag's, a wristband) is recorded
//! as issued, only once the printer took it; every refusal sends nothing
//! and records nothing.

use std::time::Duration;

use celltrail::domain::printer::Printer;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::helpers::{Backend, TestApp};
use crate::story::{Team, id, signed};
use crate::web::{browser, csrf, page, sign_in};

/// Runs each named `async fn(PrintRoom)` on both databases, the app
/// configured with two printers: `lab-zebra` (listening) and
/// `switched-off` (nobody listening).
macro_rules! with_printers {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                crate::helpers::sqlite_only();
                super::$name(super::PrintRoom::open(crate::helpers::Backend::Sqlite).await).await;
            }

            crate::postgres_test! {
                async fn postgres() {
                    super::$name(super::PrintRoom::open(crate::helpers::Backend::Postgres).await).await;
                }
            }
        }
    )+};
}
// for the other printing tests (printing_donation.rs)
pub(crate) use with_printers;

with_printers!(
    a_vial_label_is_sent_as_zpl_and_recorded_as_issued,
    a_lot_sheet_counts_on_each_vial_and_a_box_label_is_recorded_on_the_lot,
    a_printer_that_does_not_answer_records_nothing,
    an_unknown_printer_and_a_refused_request_send_nothing,
    a_vial_whose_life_is_over_gets_no_label_printed,
    the_print_form_says_what_happened_in_words,
    the_print_form_speaks_chinese_to_whoever_chose_it,
    a_wristband_and_a_dose_bag_label_are_recorded_and_counted_on_their_pages,
);

/// The app and the printer it prints to.
pub struct PrintRoom {
    pub app: TestApp,
    jobs: mpsc::UnboundedReceiver<String>,
    /// Where `switched-off` would be: a port just closed.
    pub off_address: String,
}

impl PrintRoom {
    pub async fn open(backend: Backend) -> PrintRoom {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (sender, jobs) = mpsc::unbounded_channel();
        // The printer: each connection is one job, read to its end.
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let sender = sender.clone();
                tokio::spawn(async move {
                    let mut job = Vec::new();
                    if stream.read_to_end(&mut job).await.is_ok() {
                        let _ = sender.send(String::from_utf8_lossy(&job).into_owned());
                    }
                });
            }
        });
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let off_port = closed.local_addr().unwrap().port();
        drop(closed);
        let printers = Printer::parse_list(&format!(
            "lab-zebra=127.0.0.1:{port},switched-off=127.0.0.1:{off_port}"
        ))
        .unwrap();
        let app = TestApp::spawn_with(backend, |settings| settings.printers = printers).await;
        PrintRoom {
            app,
            jobs,
            off_address: format!("127.0.0.1:{off_port}"),
        }
    }

    /// The next job the printer received.
    pub async fn job(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(10), self.jobs.recv())
            .await
            .expect("the printer received a job")
            .unwrap()
    }

    /// A print to `lab-zebra` refused as a reprint without a reason, and
    /// nothing sent.
    pub async fn reprint_refused(&mut self, token: &str, body: Value) {
        self.print("lab-zebra", token, body)
            .await
            .expect_error(422, "reprint_reason_required");
        self.nothing_printed().await;
    }

    /// The printer received nothing more.
    pub async fn nothing_printed(&mut self) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(self.jobs.try_recv().is_err(), "the printer received a job");
    }

    pub async fn print(&self, printer: &str, token: &str, body: Value) -> crate::helpers::Answer {
        self.app
            .post(
                &format!("/api/v1/printers/{printer}/print"),
                Some(token),
                body,
            )
            .await
    }

    async fn labels_issued(&self, team: &Team, vial: &Value) -> i64 {
        self.app
            .get(&format!("/api/v1/vials/{}", id(vial)), Some(&team.lab))
            .await
            .expect(200)["labels_issued"]
            .as_i64()
            .unwrap()
    }

    pub async fn events(&self, team: &Team) -> Value {
        self.app.verify_ledger(team).await["events"].clone()
    }
}

/// Labels in a job: each is one `^XA … ^XZ` format.
pub fn labels_in(job: &str) -> usize {
    let starts = job.matches("^XA").count();
    assert_eq!(starts, job.matches("^XZ").count(), "{job}");
    starts
}

async fn a_vial_label_is_sent_as_zpl_and_recorded_as_issued(mut room: PrintRoom) {
    let team = room.app.team().await;
    let (_, vials) = room.app.quarantined_lot(&team, "UCD-7010", 3).await;
    let printers = room
        .app
        .get("/api/v1/printers", Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(printers[0]["name"], "lab-zebra");
    assert_eq!(printers[1]["address"], room.off_address.as_str());

    let printed = room
        .print(
            "lab-zebra",
            &team.lab,
            json!({ "kind": "vial", "id": id(&vials[0]), "copies": 2 }),
        )
        .await
        .expect(201);
    assert_eq!(printed["labels_sent"], 2);
    assert_eq!(printed["issue"]["vials"][0]["labels_issued"], 2);
    let job = room.job().await;
    assert_eq!(labels_in(&job), 2);
    let code = vials[0]["code"].as_str().unwrap();
    assert!(job.matches(code).count() >= 2, "{job}");
    assert!(!job.contains(vials[1]["code"].as_str().unwrap()));
    assert_eq!(room.labels_issued(&team, &vials[0]).await, 2);

    // a reprint needs a reason, and without one nothing is printed
    room.reprint_refused(&team.lab, json!({ "kind": "vial", "id": id(&vials[0]) }))
        .await;
    let reprint = room
        .print(
            "lab-zebra",
            &team.lab,
            json!({ "kind": "vial", "id": id(&vials[0]), "reason": "label smudged by frost" }),
        )
        .await
        .expect(201);
    assert_eq!(reprint["issue"]["reprint"], true);
    assert_eq!(labels_in(&room.job().await), 1);
    assert_eq!(room.labels_issued(&team, &vials[0]).await, 3);

    // the ledger says who, how many and why
    let history = room
        .app
        .get(
            &format!(
                "/api/v1/audit?subject_kind=vial&subject_id={}",
                id(&vials[0])
            ),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let issued: Vec<_> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "vial.labels_issued")
        .collect();
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[0]["actor_username"], "lab.tech");
    assert_eq!(issued[0]["details"]["count"], 2);
    assert_eq!(issued[1]["details"]["reason"], "label smudged by frost");
}

async fn a_lot_sheet_counts_on_each_vial_and_a_box_label_is_recorded_on_the_lot(
    mut room: PrintRoom,
) {
    let team = room.app.team().await;
    let (lot, vials) = room.app.quarantined_lot(&team, "UCD-7020", 3).await;
    let printed = room
        .print(
            "lab-zebra",
            &team.lab,
            json!({ "kind": "lot_sheet", "id": id(&lot), "copies": 2 }),
        )
        .await
        .expect(201);
    assert_eq!(printed["labels_sent"], 6);
    assert_eq!(printed["issue"]["subject_kind"], "lot");
    let job = room.job().await;
    assert_eq!(labels_in(&job), 6);
    for vial in &vials {
        let code = vial["code"].as_str().unwrap();
        assert!(job.contains(code), "{code} missing from {job}");
        assert_eq!(room.labels_issued(&team, vial).await, 2);
    }

    // the box label: recorded on the lot, never counted as a vial's label
    let cookie = sign_in(&room.app, "lab.tech").await;
    let lot_page = format!("/lots/{}", id(&lot));
    let (_, html) = page(&room.app, &lot_page, &cookie).await;
    assert!(html.contains("No box label has been issued yet."), "{html}");
    let before = events_count(&room, &team).await;
    let boxed = room
        .print(
            "lab-zebra",
            &team.lab,
            json!({ "kind": "lot", "id": id(&lot) }),
        )
        .await
        .expect(201);
    assert_eq!(boxed["labels_sent"], 1);
    assert_eq!(boxed["issue"]["subject_kind"], "lot");
    assert_eq!(boxed["issue"]["count"], 1);
    assert_eq!(boxed["issue"]["reprint"], false);
    let job = room.job().await;
    assert_eq!(labels_in(&job), 1);
    assert!(job.contains(lot["code"].as_str().unwrap()));
    assert_eq!(events_count(&room, &team).await, before + 1);
    assert_eq!(room.labels_issued(&team, &vials[0]).await, 2);
    let issued = issues_of(&room.app, &team, "lot", &id(&lot), "lot.box_label_issued").await;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0]["actor_username"], "lab.tech");
    assert_eq!(issued[0]["details"]["code"], lot["code"]);
    assert_eq!(issued[0]["details"]["count"], 1);

    // a second box label is a reprint: refused without a reason
    room.reprint_refused(&team.lab, json!({ "kind": "lot", "id": id(&lot) }))
        .await;
    assert_eq!(events_count(&room, &team).await, before + 1);
    let (_, html) = page(&room.app, &lot_page, &cookie).await;
    assert!(html.contains("Box labels issued: 1 (last "), "{html}");
    assert!(html.contains("by lab.tech)") && html.contains("Box label issued"));
    assert_eq!(room.app.verify_ledger(&team).await["ok"], true);
}

/// The pages of the user of `token` speak Chinese from now on.
pub async fn choose_chinese(room: &PrintRoom, token: &str) {
    room.app
        .put(
            "/api/v1/users/me/preferences",
            Some(token),
            json!({ "language": "zh-CN" }),
        )
        .await
        .expect(200);
}

/// The print form's fields, as the page sends them.
pub fn form_fields<'a>(
    kind: &'a str,
    id: &'a str,
    printer: &'a str,
    reason: &'a str,
) -> [(&'a str, &'a str); 5] {
    [
        ("kind", kind),
        ("id", id),
        ("printer", printer),
        ("copies", "1"),
        ("reason", reason),
    ]
}

/// How many events the ledger holds (the verify report counts them).
async fn events_count(room: &PrintRoom, team: &Team) -> i64 {
    room.events(team).await.as_i64().expect("a count of events")
}

/// The `action` events of the record, oldest first.
pub async fn issues_of(
    app: &TestApp,
    team: &Team,
    kind: &str,
    id: &str,
    action: &str,
) -> Vec<Value> {
    let history = app
        .get(
            &format!("/api/v1/audit?subject_kind={kind}&subject_id={id}"),
            Some(&team.quality),
        )
        .await
        .expect(200);
    history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

async fn a_printer_that_does_not_answer_records_nothing(mut room: PrintRoom) {
    let team = room.app.team().await;
    let (lot, vials) = room.app.quarantined_lot(&team, "UCD-7030", 2).await;
    let before = room.events(&team).await;
    for body in [
        json!({ "kind": "vial", "id": id(&vials[0]) }),
        json!({ "kind": "lot_sheet", "id": id(&lot) }),
        json!({ "kind": "lot", "id": id(&lot) }),
    ] {
        let answer = room.print("switched-off", &team.lab, body).await;
        let message = answer.body["error"]["message"].as_str().unwrap().to_owned();
        let details = answer.expect_error(409, "printer_unreachable");
        assert_eq!(details["printer"], "switched-off");
        assert_eq!(details["address"], room.off_address.as_str());
        assert!(
            message.contains("did not answer") && message.contains("Nothing was recorded"),
            "{message}"
        );
    }
    assert_eq!(room.events(&team).await, before);
    assert_eq!(room.labels_issued(&team, &vials[0]).await, 0);
    room.nothing_printed().await;
}

async fn an_unknown_printer_and_a_refused_request_send_nothing(mut room: PrintRoom) {
    let team = room.app.team().await;
    let (_, pharmacist) = room.app.staff("pharma", "pharmacist").await;
    let (_, vials) = room.app.quarantined_lot(&team, "UCD-7040", 1).await;
    let vial = id(&vials[0]);
    let before = room.events(&team).await;
    let details = room
        .print("pharmacy", &team.lab, json!({ "kind": "vial", "id": vial }))
        .await
        .expect_error(404, "unknown_printer");
    assert_eq!(
        details["known_printers"],
        json!(["lab-zebra", "switched-off"])
    );
    for (token, body, status, code) in [
        (
            &team.lab,
            json!({ "kind": "vial", "id": vial, "copies": 11 }),
            422,
            "invalid_field",
        ),
        (
            &team.lab,
            json!({ "kind": "vial", "id": vial, "copies": 0 }),
            422,
            "invalid_field",
        ),
        (
            &team.lab,
            json!({ "kind": "sticker", "id": vial }),
            400,
            "malformed_request",
        ),
        (
            &team.lab,
            json!({ "kind": "vial", "id": uuid::Uuid::new_v4() }),
            404,
            "not_found",
        ),
        // vial labels are the lab's, as issuing them is
        (
            &team.quality,
            json!({ "kind": "vial", "id": vial }),
            403,
            "forbidden",
        ),
        (
            &pharmacist,
            json!({ "kind": "lot_sheet", "id": vial }),
            403,
            "forbidden",
        ),
    ] {
        room.print("lab-zebra", token, body)
            .await
            .expect_error(status, code);
    }
    room.nothing_printed().await;
    assert_eq!(room.events(&team).await, before);
    assert_eq!(room.labels_issued(&team, &vials[0]).await, 0);
}

async fn a_vial_whose_life_is_over_gets_no_label_printed(mut room: PrintRoom) {
    let team = room.app.team().await;
    let (lot, vials) = room.app.quarantined_lot(&team, "UCD-7050", 2).await;
    for vial in &vials {
        room.app
            .post(
                &format!("/api/v1/vials/{}/discard", id(vial)),
                Some(&team.lab),
                signed(json!({ "reason": "cracked on freezing" })),
            )
            .await
            .expect(200);
    }
    let before = room.events(&team).await;
    let answer = room
        .print(
            "lab-zebra",
            &team.lab,
            json!({ "kind": "vial", "id": id(&vials[0]) }),
        )
        .await;
    let message = answer.body["error"]["message"].as_str().unwrap().to_owned();
    answer.expect_error(422, "invalid_field");
    assert!(
        message.contains("discarded gets no new labels"),
        "{message}"
    );
    // a lot with no vial left to label has no sheet to print
    room.print(
        "lab-zebra",
        &team.lab,
        json!({ "kind": "lot_sheet", "id": id(&lot) }),
    )
    .await
    .expect_error(422, "invalid_field");
    room.nothing_printed().await;
    assert_eq!(room.events(&team).await, before);
}

async fn a_wristband_and_a_dose_bag_label_are_recorded_and_counted_on_their_pages(
    mut room: PrintRoom,
) {
    let team = room.app.team().await;
    let clinic = room.app.clinic().await;
    room.app.dosing_stock(&team, "UCD-7080", 10, 60).await;
    let patient = room.app.weighed_patient(&clinic, "PV-071", 70).await;
    let dose = room.app.order(&clinic, &id(&patient)).await.expect(201);
    let (patient_id, dose_id) = (id(&patient), id(&dose));
    let before = events_count(&room, &team).await;

    // a printer switched off takes nothing: nothing recorded
    for (token, body) in [
        (
            &clinic.clinician,
            json!({ "kind": "wristband", "id": patient_id }),
        ),
        (&clinic.pharmacist, json!({ "kind": "dose", "id": dose_id })),
    ] {
        room.print("switched-off", token, body)
            .await
            .expect_error(409, "printer_unreachable");
    }
    assert_eq!(events_count(&room, &team).await, before);
    let nurse = sign_in(&room.app, "nurse.one").await;
    let (_, html) = page(&room.app, &format!("/patients/{patient_id}"), &nurse).await;
    assert!(html.contains("No wristband has been issued yet."), "{html}");

    let printed = room
        .print(
            "lab-zebra",
            &clinic.clinician,
            json!({ "kind": "wristband", "id": patient_id, "copies": 2 }),
        )
        .await
        .expect(201);
    assert_eq!(printed["labels_sent"], 2);
    assert_eq!(printed["issue"]["subject_kind"], "patient");
    assert_eq!(printed["issue"]["subject_id"], patient_id.as_str());
    assert_eq!(printed["issue"]["count"], 2);
    let job = room.job().await;
    assert_eq!(labels_in(&job), 2);
    assert!(job.contains("PV-071"), "{job}");

    // a second wristband: a reprint, refused without a reason
    room.reprint_refused(
        &clinic.clinician,
        json!({ "kind": "wristband", "id": patient_id }),
    )
    .await;
    let reprint = room
        .print(
            "lab-zebra",
            &clinic.clinician,
            json!({ "kind": "wristband", "id": patient_id, "reason": "wristband torn" }),
        )
        .await
        .expect(201);
    assert_eq!(reprint["issue"]["reprint"], true);
    assert_eq!(labels_in(&room.job().await), 1);
    let issued = issues_of(
        &room.app,
        &team,
        "patient",
        &patient_id,
        "patient.wristband_issued",
    )
    .await;
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[0]["actor_username"], "nurse.one");
    assert_eq!(issued[0]["details"]["subject_code"], "PV-071");
    assert_eq!(issued[0]["details"]["count"], 2);
    assert_eq!(issued[0]["details"]["reprint"], false);
    assert_eq!(issued[1]["details"]["reason"], "wristband torn");

    let printed = room
        .print(
            "lab-zebra",
            &clinic.pharmacist,
            json!({ "kind": "dose", "id": dose_id }),
        )
        .await
        .expect(201);
    assert_eq!(printed["kind"], "dose");
    assert_eq!(printed["issue"]["subject_kind"], "dose");
    let job = room.job().await;
    assert_eq!(labels_in(&job), 1);
    assert!(job.contains(dose["code"].as_str().unwrap()), "{job}");
    let issued = issues_of(&room.app, &team, "dose", &dose_id, "dose.label_issued").await;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0]["actor_username"], "pharm.one");
    assert_eq!(issued[0]["details"]["code"], dose["code"]);
    room.reprint_refused(
        &clinic.pharmacist,
        json!({ "kind": "dose", "id": dose_id, "reason": "" }),
    )
    .await;
    assert_eq!(events_count(&room, &team).await, before + 3);

    // each page counts its labels, and its history has them in words
    let (_, html) = page(&room.app, &format!("/patients/{patient_id}"), &nurse).await;
    assert!(html.contains("Wristbands issued: 3 (last "), "{html}");
    assert!(html.contains("by nurse.one)") && html.contains("Wristband issued"));
    let pharmacist = sign_in(&room.app, "pharm.one").await;
    let (_, html) = page(&room.app, &format!("/doses/{dose_id}"), &pharmacist).await;
    assert!(html.contains("Bag labels issued: 1 (last "), "{html}");
    assert!(html.contains("by pharm.one)") && html.contains("Bag label issued"));

    // and in Chinese for whoever chose it
    choose_chinese(&room, &clinic.clinician).await;
    let nurse = sign_in(&room.app, "nurse.one").await;
    let (_, html) = page(&room.app, &format!("/patients/{patient_id}"), &nurse).await;
    assert!(html.contains("已发放腕带：3 条（最近一次 "), "{html}");
    assert!(html.contains("，nurse.one）"), "{html}");
    assert_eq!(room.app.verify_ledger(&team).await["ok"], true);
}

/// Sends the print form as the browser of `cookie`; returns the flash
/// message of the redirect and whether it is good news.
pub async fn send_form(room: &PrintRoom, cookie: &str, fields: &[(&str, &str)]) -> (String, bool) {
    let (_, home) = page(&room.app, "/", cookie).await;
    let mut form = fields.to_vec();
    let token = csrf(&home);
    form.push(("csrf", &token));
    let response = browser()
        .post(room.app.url("/print"))
        .header(COOKIE, cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let (path, query) = location.split_once('?').expect("a message");
    let (key, message) = query.split_once('=').unwrap();
    let message = percent_decode(message);
    assert!(
        ["/vials/", "/lots/", "/donations/", "/doses/", "/patients/"]
            .iter()
            .any(|page| path.starts_with(page)),
        "{location}"
    );
    (message, key == "ok")
}

pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

async fn the_print_form_says_what_happened_in_words(mut room: PrintRoom) {
    let team = room.app.team().await;
    let (lot, vials) = room.app.quarantined_lot(&team, "UCD-7060", 2).await;
    let cookie = sign_in(&room.app, "lab.tech").await;
    let vial = id(&vials[0]);
    let lot_id = id(&lot);

    let (message, ok) = send_form(
        &room,
        &cookie,
        &[
            ("kind", "vial"),
            ("id", &vial),
            ("printer", "lab-zebra"),
            ("copies", "1"),
            ("reason", ""),
        ],
    )
    .await;
    assert!(ok);
    assert_eq!(message, "Sent one label to lab-zebra, recorded as issued.");
    assert_eq!(labels_in(&room.job().await), 1);

    let (message, ok) = send_form(
        &room,
        &cookie,
        &[
            ("kind", "lot_sheet"),
            ("id", &lot_id),
            ("printer", "lab-zebra"),
            ("copies", "2"),
            ("reason", "first sheet jammed"),
        ],
    )
    .await;
    assert!(ok, "{message}");
    assert_eq!(message, "Sent 4 labels to lab-zebra, recorded as issued.");
    assert_eq!(labels_in(&room.job().await), 4);

    // refusals, in words; nothing printed, nothing recorded
    let before = room.events(&team).await;
    let off = room.off_address.clone();
    let unreachable = format!(
        "The printer switched-off did not answer at {off}: is it switched on and connected? Nothing was recorded."
    );
    for (fields, said) in [
        (
            vec![
                ("kind", "vial"),
                ("id", vial.as_str()),
                ("printer", "switched-off"),
                ("copies", "1"),
                ("reason", "again"),
            ],
            unreachable.as_str(),
        ),
        (
            vec![
                ("kind", "vial"),
                ("id", vial.as_str()),
                ("printer", "lab-zebra"),
                ("copies", "1"),
                ("reason", " "),
            ],
            "Labels were printed for this before: say why they are printed again. Nothing was printed.",
        ),
        (
            vec![
                ("kind", "vial"),
                ("id", vial.as_str()),
                ("printer", "lab-zebra"),
                ("copies", "ten"),
                ("reason", "x"),
            ],
            "Print from 1 to 10 copies of each label at a time. Nothing was printed.",
        ),
        (
            vec![
                ("kind", "vial"),
                ("id", vial.as_str()),
                ("printer", "lab-zebra"),
                ("copies", "40"),
                ("reason", "x"),
            ],
            "Print from 1 to 10 copies of each label at a time. Nothing was printed.",
        ),
        (
            vec![
                ("kind", "vial"),
                ("id", vial.as_str()),
                ("printer", "pharmacy"),
                ("copies", "1"),
                ("reason", "x"),
            ],
            "There is no printer named “pharmacy”; choose one from the list. Nothing was printed.",
        ),
    ] {
        let (message, ok) = send_form(&room, &cookie, &fields).await;
        assert!(!ok);
        assert_eq!(message, said);
    }
    room.nothing_printed().await;
    assert_eq!(room.events(&team).await, before);
    assert_eq!(room.labels_issued(&team, &vials[0]).await, 3);

    // a form that names no label is a page in words, not a trace
    let (_, home) = page(&room.app, "/", &cookie).await;
    let token = csrf(&home);
    let response = browser()
        .post(room.app.url("/print"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", token.as_str()), ("kind", "sticker"), ("id", "7")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("It does not say which label to print"),
        "{html}"
    );
    // a form without the session's token is refused, and prints nothing
    let response = browser()
        .post(room.app.url("/print"))
        .header(COOKIE, &cookie)
        .form(&[
            ("csrf", "0".repeat(32).as_str()),
            ("kind", "vial"),
            ("id", vial.as_str()),
            ("printer", "lab-zebra"),
            ("copies", "1"),
            ("reason", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    room.nothing_printed().await;
    // a role that does not print vial labels is told so
    let quality = sign_in(&room.app, "qa.officer").await;
    let (_, home) = page(&room.app, "/", &quality).await;
    let token = csrf(&home);
    let response = browser()
        .post(room.app.url("/print"))
        .header(COOKIE, &quality)
        .form(&[
            ("csrf", token.as_str()),
            ("kind", "vial"),
            ("id", vial.as_str()),
            ("printer", "lab-zebra"),
            ("copies", "1"),
            ("reason", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Your role does not print this label")
    );
    room.nothing_printed().await;
}

async fn the_print_form_speaks_chinese_to_whoever_chose_it(mut room: PrintRoom) {
    let team = room.app.team().await;
    let (_, vials) = room.app.quarantined_lot(&team, "UCD-7070", 1).await;
    choose_chinese(&room, &team.lab).await;
    let cookie = sign_in(&room.app, "lab.tech").await;
    let vial = id(&vials[0]);
    let (message, ok) = send_form(
        &room,
        &cookie,
        &[
            ("kind", "vial"),
            ("id", &vial),
            ("printer", "lab-zebra"),
            ("copies", "3"),
            ("reason", ""),
        ],
    )
    .await;
    assert!(ok);
    assert_eq!(message, "已将 3 张标签发送到 lab-zebra，并已记录为已发放。");
    assert_eq!(labels_in(&room.job().await), 3);
    let (message, ok) = send_form(
        &room,
        &cookie,
        &[
            ("kind", "vial"),
            ("id", &vial),
            ("printer", "switched-off"),
            ("copies", "1"),
            ("reason", "重新打印"),
        ],
    )
    .await;
    assert!(!ok);
    assert_eq!(
        message,
        format!(
            "打印机 switched-off（{}）没有响应：请检查是否已开机并已连接网络。未作任何记录。",
            room.off_address
        )
    );
}

/// A malformed printer entry stops the start, naming the entry and the
/// form it should take.
#[test]
fn a_malformed_printer_entry_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_celltrail"))
        .env(
            "DATABASE_URL",
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("never.db").display()
            ),
        )
        .env(
            "CELLTRAIL_PRINTERS",
            "lab-zebra=10.0.0.5:9100,pharmacy=10.0.0.6:nine",
        )
        .env("CELLTRAIL_ADMIN_PASSWORD", "never-used-password")
        .env("RUST_LOG", "warn")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the service started with a malformed printer entry");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CELLTRAIL_PRINTERS")
            && stderr.contains("pharmacy=10.0.0.6:nine")
            && stderr.contains("port"),
        "{stderr}"
    );
    assert!(!dir.path().join("never.db").exists(), "nothing was opened");
}

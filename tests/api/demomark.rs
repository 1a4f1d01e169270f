//! Demo data can never be taken for real: on a database holding the demo
//! trial every label (each kind, each format) carries the DEMO band, every
//! page the banner, every CSV export the demo column; on any other database
//! none of them does. Decided from the database's marker, so a server
//! restarted on a demo database still marks everything.

use celltrail::entities::{custody_event, dose, patient, vial};
use celltrail::services::demo_mark;
use reqwest::header::{COOKIE, SET_COOKIE};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::readback::{decode_png, pdf_text};
use crate::story::id;
use crate::web::{browser, page, post_sign_in};

on_both_databases!(
    a_demo_database_marks_every_label_page_and_export,
    a_real_database_marks_nothing_and_is_never_marked_by_a_refused_demo,
);

const BAND: &str = "DEMO — NOT FOR CLINICAL USE";
const BAND_ZPL: &str = "^FR^FH_^FDDEMO - NOT FOR CLINICAL USE^FS";
const BANNER: &str = "This server holds the demo trial";
const CSV_MARK: &str = "DEMO DATA - NOT FOR CLINICAL USE";

/// One record of each label kind, and who looks at them.
struct Subjects {
    vial: Uuid,
    lot: Uuid,
    patient: Uuid,
    dose: Uuid,
    /// A bearer token and a page session cookie of a quality officer.
    token: String,
    cookie: String,
}

async fn a_demo_database_marks_every_label_page_and_export(app: TestApp) {
    assert!(!demo_mark::is_demo(&app.state).await.unwrap());
    celltrail::demo::load(&app.state).await.unwrap();
    // the marker is one row and one ledger event, whose details carry it
    let db = app.state.db.conn();
    let events = custody_event::Entity::find()
        .filter(custody_event::Column::Action.eq("demo.loaded"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(
        events[0].details.contains("marked_at"),
        "{}",
        events[0].details
    );
    // decided from the database: a server that starts afresh on it (a new
    // state, nothing remembered) knows it holds demo data
    let restarted = celltrail::state::AppState {
        demo: Default::default(),
        ..app.state.clone()
    };
    assert!(demo_mark::is_demo(&restarted).await.unwrap());
    // marking again changes nothing
    demo_mark::mark(&restarted, &celltrail::services::Actor::system("demo"))
        .await
        .unwrap();
    let marked = custody_event::Entity::find()
        .filter(custody_event::Column::Action.eq("demo.loaded"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(marked, 1);
    let report = celltrail::services::ledger::verify(&app.state.db)
        .await
        .unwrap();
    assert!(report.ok, "{:?}", report.problems());

    let in_stock = vial::Entity::find()
        .filter(vial::Column::Status.eq("available"))
        .one(db)
        .await
        .unwrap()
        .expect("the demo keeps vials in stock");
    let subjects = Subjects {
        vial: in_stock.id,
        lot: in_stock.lot_id,
        patient: patient::Entity::find().one(db).await.unwrap().unwrap().id,
        dose: dose::Entity::find().one(db).await.unwrap().unwrap().id,
        token: crate::helpers::token_of(app.login("quality.demo", "demo-quality-password").await),
        cookie: session(
            post_sign_in(
                &app,
                &[
                    ("username", "quality.demo"),
                    ("password", "demo-quality-password"),
                    ("next", "/scan"),
                ],
            )
            .await,
        ),
    };
    check_marks(&app, &subjects, true).await;
}

async fn a_real_database_marks_nothing_and_is_never_marked_by_a_refused_demo(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, vials) = app.dosing_stock(&team, "UCD-7001", 8, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-701", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    // the demo refuses a database with records, and marks nothing
    let refused = celltrail::demo::load(&app.state).await.unwrap_err();
    assert!(refused.to_string().contains("empty database"), "{refused}");
    assert!(!demo_mark::is_demo(&app.state).await.unwrap());
    let marked = custody_event::Entity::find()
        .filter(custody_event::Column::Action.eq("demo.loaded"))
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(marked, 0);
    let subjects = Subjects {
        vial: id(&vials[7]).parse().unwrap(),
        lot: id(&lot).parse().unwrap(),
        patient: id(&patient).parse().unwrap(),
        dose: id(&dose).parse().unwrap(),
        token: team.quality.clone(),
        cookie: crate::web::sign_in(&app, "qa.officer").await,
    };
    check_marks(&app, &subjects, false).await;
}

/// The session cookie a sign-in answer sets.
fn session(response: reqwest::Response) -> String {
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// Every label, page and export says demo exactly when `demo`.
async fn check_marks(app: &TestApp, s: &Subjects, demo: bool) {
    let labels = [
        (
            format!("/api/v1/vials/{}/label", s.vial),
            celltrail::labels::LabelKind::Vial,
        ),
        (
            format!("/api/v1/lots/{}/label", s.lot),
            celltrail::labels::LabelKind::Lot,
        ),
        (
            format!("/api/v1/patients/{}/wristband", s.patient),
            celltrail::labels::LabelKind::Wristband,
        ),
        (
            format!("/api/v1/doses/{}/label", s.dose),
            celltrail::labels::LabelKind::Dose,
        ),
    ];
    for (base, kind) in &labels {
        let what = format!(
            "{base} on a {} database",
            if demo { "demo" } else { "real" }
        );
        // SVG: the band's text, white on a black strip
        let (status, _, svg) = app.get_bytes(&format!("{base}.svg"), Some(&s.token)).await;
        assert_eq!(status, 200, "{what}");
        let svg = String::from_utf8(svg).unwrap();
        assert_eq!(svg.contains(BAND), demo, "{what}: {svg}");
        assert_eq!(svg.contains(r##"fill="#fff" textLength"##), demo, "{what}");
        // ZPL: the band in ASCII, printed reversed over a filled box
        let (status, _, zpl) = app.get_bytes(&format!("{base}.zpl"), Some(&s.token)).await;
        assert_eq!(status, 200, "{what}");
        let zpl = String::from_utf8(zpl).unwrap();
        assert_eq!(zpl.contains(BAND_ZPL), demo, "{what}: {zpl}");
        assert_eq!(zpl.contains("DEMO"), demo, "{what}");
        let outside = crate::labels::zpl_outside_font_0(&zpl);
        assert!(outside.is_empty(), "{what}: {outside:?}");
        // PNG: the band's strip is ink; its QR still reads back unchanged
        let (status, _, png) = app.get_bytes(&format!("{base}.png"), Some(&s.token)).await;
        assert_eq!(status, 200, "{what}");
        let image = image::load_from_memory(&png).unwrap().to_luma8();
        let layout = app.state.labels.layout(*kind);
        assert_eq!(
            (image.width(), image.height()),
            (layout.width, layout.height)
        );
        let payloads = decode_png(&png);
        assert_eq!(payloads.len(), 1, "{what}: {payloads:?}");
        assert!(payloads[0].starts_with("CT1:"), "{what}: {payloads:?}");
        // the bottom fifth, right of the QR's area: black under a band
        // (white text leaves some light), mostly white without one
        let (x0, y0) = (layout.width / 2, layout.height - layout.height / 5);
        let strip: Vec<u8> = (y0..layout.height)
            .flat_map(|y| (x0..layout.width).map(move |x| (x, y)))
            .map(|(x, y)| image.get_pixel(x, y).0[0])
            .collect();
        let dark = strip.iter().filter(|p| **p < 128).count() as f64 / strip.len() as f64;
        if demo {
            assert!(dark > 0.6, "{what}: only {dark:.2} of the band is dark");
        } else {
            assert!(dark < 0.4, "{what}: {dark:.2} of the strip is dark");
        }
    }
    // the PDF sheet of the lot's vial labels: its title and every label
    let (status, _, pdf) = app
        .get_bytes(
            &format!("/api/v1/lots/{}/labels.pdf", s.lot),
            Some(&s.token),
        )
        .await;
    assert_eq!(status, 200);
    let titled = pdf.windows(27).any(|w| w == b"DEMO - NOT FOR CLINICAL USE");
    assert_eq!(titled, demo);
    // read as text too where poppler is (always in CI); the title's bytes
    // above are checked everywhere
    if cfg!(celltrail_poppler) {
        let text = pdf_text(&pdf);
        assert_eq!(text.contains(BAND), demo, "{text}");
    }

    // every page, the sign-in page and an error page among them
    let signed_out = browser().get(app.url("/")).send().await.unwrap();
    let html = signed_out.text().await.unwrap();
    assert!(html.contains("Sign in"), "{html}");
    assert_eq!(html.contains(BANNER), demo, "the sign-in page");
    assert_eq!(html.contains(BAND), demo, "the sign-in page");
    for path in [
        "/".to_owned(),
        "/scan".to_owned(),
        "/storage".to_owned(),
        "/patients".to_owned(),
        format!("/vials/{}", s.vial),
        format!("/lots/{}", s.lot),
        format!("/patients/{}", s.patient),
        format!("/doses/{}", s.dose),
        format!("/trace/lots/{}", s.lot),
        "/no-such-page".to_owned(),
    ] {
        let (status, html) = page(app, &path, &s.cookie).await;
        assert!(!status.is_server_error(), "{path}: {status}");
        assert_eq!(html.contains(BANNER), demo, "{path}: {status} {html}");
    }
    // a page without a session cookie still carries it (it is the database's)
    let response = browser()
        .get(app.url("/no-such-page"))
        .header(COOKIE, "celltrail_session=nothing")
        .header(reqwest::header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap().contains(BANNER), demo);

    // CSV: the demo column first, on the header and every row; still a
    // table of equal rows
    let (status, content_type, csv) = app
        .get_bytes(
            &format!("/api/v1/trace/lots/{}?format=csv", s.lot),
            Some(&s.token),
        )
        .await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let csv = String::from_utf8(csv).unwrap();
    let rows: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert!(rows.len() >= 2, "{csv}");
    assert_eq!(rows[0].starts_with("demo,lot_code,"), demo, "{csv}");
    assert!(demo || rows[0].starts_with("lot_code,"), "{csv}");
    for row in &rows[1..] {
        assert_eq!(row.starts_with(&format!("{CSV_MARK},")), demo, "{row}");
    }
    // JSON answers are for programs and stay as they were
    let json = app
        .get(&format!("/api/v1/trace/lots/{}", s.lot), Some(&s.token))
        .await
        .expect(200);
    assert!(json.get("demo").is_none());
}

//! Every label as a PDF page of its own size, and storage box labels: each
//! PDF route answers one page exactly the layout's size that reads back as
//! the record's payload; a box's label carries the box's id and path, and
//! only a box has one.

use celltrail::labels::layout::label_size_pt;
use celltrail::labels::{LabelKind, Labels};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::readback::{decode_all, decode_png, pdf_page, pdf_text};
use crate::story::id;

on_both_databases!(
    every_label_is_a_pdf_page_of_its_own_size,
    #[needs(poppler)]
    every_label_pdf_reads_back_as_its_payload_and_its_text,
    a_box_label_carries_the_boxs_id_and_path_and_nothing_else,
    only_a_box_has_a_label,
    the_command_line_prints_box_labels_and_any_label_as_pdf,
    the_pages_offer_each_label_as_pdf_and_a_box_its_label,
);

/// Every PDF label route of one story's records: the route, the layout
/// it prints, the payload its QR carries and a code printed on it.
struct PdfLabel {
    path: String,
    kind: LabelKind,
    payload: String,
    printed: String,
}

/// A lot of vials stored in a box, a donation, a patient and a dose.
async fn every_label(app: &TestApp) -> (crate::story::Team, Vec<PdfLabel>) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, vials) = app.dosing_stock(&team, "UCD-4510", 2, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-451", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let (_, donation) = app.eligible_donor(&team, "UCD-4511").await;
    let the_box = app.storage_box(&team, "45", 9, 9).await;
    let din = format!(
        "{}{}",
        donation["din"].as_str().unwrap(),
        donation["check_character"].as_str().unwrap()
    );
    let code = |record: &Value| record["code"].as_str().unwrap().to_owned();
    let box_code = id(&the_box).to_uppercase();
    let labels = vec![
        PdfLabel {
            path: format!("/api/v1/vials/{}/label.pdf", id(&vials[0])),
            kind: LabelKind::Vial,
            payload: format!("CT1:V:{}", code(&vials[0])),
            printed: code(&vials[0]),
        },
        PdfLabel {
            path: format!("/api/v1/lots/{}/label.pdf", id(&lot)),
            kind: LabelKind::Lot,
            payload: format!("CT1:L:{}", code(&lot)),
            printed: code(&lot),
        },
        PdfLabel {
            path: format!("/api/v1/donations/{}/label.pdf", id(&donation)),
            kind: LabelKind::Donation,
            printed: format!("{} {} {}", &din[..5], &din[5..7], &din[7..13]),
            payload: din,
        },
        PdfLabel {
            path: format!("/api/v1/doses/{}/label.pdf", id(&dose)),
            kind: LabelKind::Dose,
            payload: format!("CT1:D:{}", code(&dose)),
            printed: code(&dose),
        },
        PdfLabel {
            path: format!("/api/v1/patients/{}/wristband.pdf", id(&patient)),
            kind: LabelKind::Wristband,
            payload: "CT1:P:PV-451".into(),
            printed: "PV-451".into(),
        },
        PdfLabel {
            path: format!("/api/v1/storage/{}/label.pdf", id(&the_box)),
            kind: LabelKind::Box,
            payload: format!("CT1:B:{box_code}"),
            printed: "Tank 45 › Rack A › Box 1".into(),
        },
    ];
    (team, labels)
}

/// Every page's MediaBox of a PDF, as written.
fn media_boxes(pdf: &[u8]) -> Vec<Vec<f32>> {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/MediaBox [")
        .map(|(at, key)| {
            let rest = &text[at + key.len()..];
            rest[..rest.find(']').unwrap()]
                .split_whitespace()
                .map(|n| n.parse().unwrap())
                .collect()
        })
        .collect()
}

async fn every_label_is_a_pdf_page_of_its_own_size(app: TestApp) {
    let (team, labels) = every_label(&app).await;
    let layouts = Labels::builtin();
    let before = app.verify_ledger(&team).await;
    for label in &labels {
        let (status, content_type, pdf) = app.get_bytes(&label.path, Some(&team.quality)).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "application/pdf"),
            "{}",
            label.path
        );
        assert!(pdf.starts_with(b"%PDF-"), "{}", label.path);
        let (width, height) = label_size_pt(layouts.layout(label.kind));
        let boxes = media_boxes(&pdf);
        assert_eq!(boxes.len(), 1, "{}: one page", label.path);
        let [x, y, right, top] = boxes[0][..] else {
            panic!("{}: {boxes:?}", label.path);
        };
        assert_eq!((x, y), (0.0, 0.0), "{}", label.path);
        assert!(
            (right - width).abs() < 0.01 && (top - height).abs() < 0.01,
            "{}: {boxes:?}, not {width} × {height} pt",
            label.path
        );
        // no token, no label; an id that is no record's, not found
        let (status, _, _) = app.get_bytes(&label.path, None).await;
        assert_eq!(status, 401, "{}", label.path);
        let stranger = label.path.replacen(
            label.path.split('/').nth(4).unwrap(),
            &uuid::Uuid::new_v4().to_string(),
            1,
        );
        app.get(&stranger, Some(&team.lab))
            .await
            .expect_error(404, "not_found");
    }
    // the shipped vial and box labels are 2 × 1 in, the wristband 3 × 1 in
    assert_eq!(
        label_size_pt(layouts.layout(LabelKind::Vial)),
        (144.0, 72.0)
    );
    assert_eq!(label_size_pt(layouts.layout(LabelKind::Box)), (144.0, 72.0));
    assert_eq!(
        label_size_pt(layouts.layout(LabelKind::Wristband)),
        (216.0, 72.0)
    );
    // the lot's sheet of vial labels is still A4
    let lot_path = labels[1].path.replace("label.pdf", "labels.pdf");
    let (status, _, sheet) = app.get_bytes(&lot_path, Some(&team.lab)).await;
    assert_eq!(status, 200);
    assert_eq!(media_boxes(&sheet)[0], [0.0, 0.0, 595.276, 841.89]);
    // rendering records nothing
    assert_eq!(app.verify_ledger(&team).await["events"], before["events"]);
}

/// Each page rendered at 300 dpi by poppler decodes as the record's
/// payload; its text extracts (the embedded font's ToUnicode map).
async fn every_label_pdf_reads_back_as_its_payload_and_its_text(app: TestApp) {
    let (team, labels) = every_label(&app).await;
    for label in &labels {
        let (status, _, pdf) = app.get_bytes(&label.path, Some(&team.lab)).await;
        assert_eq!(status, 200, "{}", label.path);
        let page = pdf_page(&pdf, 1, 300);
        // the page is the label: its size in pixels is the layout's dots
        let layout = Labels::builtin().layout(label.kind).clone();
        assert_eq!(
            (page.width(), page.height()),
            (layout.width, layout.height),
            "{}",
            label.path
        );
        assert_eq!(
            decode_all(&page),
            std::slice::from_ref(&label.payload),
            "{}",
            label.path
        );
        // lines joined, no-break spaces as spaces
        let text = pdf_text(&pdf)
            .split(|c: char| c.is_whitespace())
            .filter(|word| !word.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains(&label.printed), "{}: {text}", label.path);
    }
}

async fn a_box_label_carries_the_boxs_id_and_path_and_nothing_else(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-SECRET-45", 1).await;
    let the_box = app.storage_box(&team, "46", 9, 9).await;
    app.store(&team, &id(&vials[0]), &id(&the_box), "A1")
        .await
        .expect(200);
    let payload = format!("CT1:B:{}", id(&the_box).to_uppercase());
    let base = format!("/api/v1/storage/{}/label", id(&the_box));

    let (status, content_type, png) = app
        .get_bytes(&format!("{base}.png"), Some(&team.quality))
        .await;
    assert_eq!((status, content_type.as_str()), (200, "image/png"));
    let image = image::load_from_memory(&png).unwrap();
    // 50.8 × 25.4 mm at 300 dpi
    assert_eq!((image.width(), image.height()), (600, 300));
    assert_eq!(decode_png(&png), std::slice::from_ref(&payload));
    // and the scan station reads it as this box
    let scanned = app
        .post(
            "/api/v1/scan",
            Some(&team.lab),
            json!({ "payload": payload }),
        )
        .await
        .expect(200);
    assert_eq!(
        (scanned["kind"].as_str(), scanned["id"].as_str()),
        (Some("box"), the_box["id"].as_str())
    );

    let (status, content_type, svg) = app.get_bytes(&format!("{base}.svg"), Some(&team.lab)).await;
    assert_eq!((status, content_type.as_str()), (200, "image/svg+xml"));
    // the path wraps after each ›, a short name kept whole
    let svg = String::from_utf8(svg).unwrap().replace('\u{a0}', " ");
    for line in [">Tank 46 ›</text>", ">Rack A ›</text>", ">Box 1</text>"] {
        assert!(svg.contains(line), "{line} in {svg}");
    }
    assert!(svg.contains("Grid 9 × 9"), "{svg}");
    // a Zebra prints the path's separators as >
    let (status, content_type, zpl) = app.get_bytes(&format!("{base}.zpl"), Some(&team.lab)).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/zpl"),
        "{content_type}"
    );
    let zpl = String::from_utf8(zpl).unwrap();
    assert!(zpl.contains(&format!("^FDQA,{payload}^FS")), "{zpl}");
    for line in ["Tank 46 >^FS", "Rack A >^FS", "Box 1^FS"] {
        assert!(zpl.contains(line), "{line} in {zpl}");
    }
    assert!(crate::labels::zpl_outside_font_0(&zpl).is_empty(), "{zpl}");
    // codes and the path only: nothing of the vial inside or its donor
    let vial_code = vials[0]["code"].as_str().unwrap();
    for text in [&svg, &zpl] {
        assert!(
            !text.contains("SECRET") && !text.contains(vial_code),
            "{text}"
        );
    }
}

async fn only_a_box_has_a_label(app: TestApp) {
    let team = app.team().await;
    let the_box = app.storage_box(&team, "47", 9, 9).await;
    let rack = app
        .get(
            &format!("/api/v1/storage/{}", the_box["parent_id"].as_str().unwrap()),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let tank_id = rack["parent_id"].as_str().unwrap().to_owned();
    for unit in [id(&rack), tank_id] {
        for format in ["png", "svg", "zpl", "pdf"] {
            let details = app
                .get(
                    &format!("/api/v1/storage/{unit}/label.{format}"),
                    Some(&team.lab),
                )
                .await
                .expect_error(422, "not_a_box");
            assert_eq!(details["storage_id"], unit.as_str());
        }
    }
    // a vial's id is no storage unit's
    let (_, vials) = app.quarantined_lot(&team, "UCD-4520", 1).await;
    app.get(
        &format!("/api/v1/storage/{}/label.pdf", id(&vials[0])),
        Some(&team.lab),
    )
    .await
    .expect_error(404, "not_found");
    app.get("/api/v1/storage/not-a-uuid/label.png", Some(&team.lab))
        .await
        .expect_error(400, "malformed_request");
    let (status, _, _) = app
        .get_bytes(&format!("/api/v1/storage/{}/label.png", id(&the_box)), None)
        .await;
    assert_eq!(status, 401);
}

async fn the_command_line_prints_box_labels_and_any_label_as_pdf(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let the_box = app.storage_box(&team, "48", 9, 9).await;
    app.weighed_patient(&clinic, "PV-458", 40).await;
    let (_, donation) = app.eligible_donor(&team, "UCD-4580").await;
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
    // a box by its id or its label's payload
    let payload = format!("CT1:B:{}", id(&the_box).to_uppercase());
    for name in [id(&the_box), payload.clone()] {
        let output = celltrail(&["--box", &name, "--format", "png"]);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(decode_png(&output.stdout), std::slice::from_ref(&payload));
    }
    let output = celltrail(&["--box", &id(&the_box), "--format", "pdf"]);
    assert!(output.status.success());
    assert_eq!(media_boxes(&output.stdout), [[0.0, 0.0, 144.0, 72.0]]);
    // a rack is no box
    let rack = the_box["parent_id"].as_str().unwrap();
    let output = celltrail(&["--box", rack, "--format", "png"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("no box has the id {rack}")),
        "{stderr}"
    );
    // a wristband as PDF: a page the wristband's size, no longer refused
    let output = celltrail(&["--patient", "pv-458", "--format", "pdf"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(media_boxes(&output.stdout), [[0.0, 0.0, 216.0, 72.0]]);
    // and a donation's DIN label
    let output = celltrail(&["--donation", &id(&donation), "--format", "pdf"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (width, height) = label_size_pt(Labels::builtin().layout(LabelKind::Donation));
    assert_eq!(media_boxes(&output.stdout), [[0.0, 0.0, width, height]]);
}

async fn the_pages_offer_each_label_as_pdf_and_a_box_its_label(app: TestApp) {
    let team = app.team().await;
    let (lot, vials) = app.quarantined_lot(&team, "UCD-4590", 1).await;
    let the_box = app.storage_box(&team, "49", 9, 9).await;
    let lab = crate::web::sign_in(&app, "lab.tech").await;
    let (status, html) = crate::web::page(&app, &format!("/storage/{}", id(&the_box)), &lab).await;
    assert_eq!(status, 200);
    let base = format!("/api/v1/storage/{}/label", id(&the_box));
    for format in ["png", "pdf", "zpl"] {
        let link = format!(r#"href="{base}.{format}""#);
        assert!(html.contains(&link), "{link} missing from {html}");
    }
    // each link answers the label it names
    let (status, content_type, _) = app.get_bytes(&format!("{base}.pdf"), Some(&team.lab)).await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    // a rack's page offers no label
    let rack = the_box["parent_id"].as_str().unwrap();
    let (status, html) = crate::web::page(&app, &format!("/storage/{rack}"), &lab).await;
    assert_eq!(status, 200);
    assert!(!html.contains("/label."), "{html}");
    // a vial's and a lot's pages offer their labels as PDF
    for (path, pdf) in [
        (
            format!("/vials/{}", id(&vials[0])),
            format!("/api/v1/vials/{}/label.pdf", id(&vials[0])),
        ),
        (
            format!("/lots/{}", id(&lot)),
            format!("/api/v1/lots/{}/label.pdf", id(&lot)),
        ),
    ] {
        let (status, html) = crate::web::page(&app, &path, &lab).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            html.contains(&format!(r#"href="{pdf}""#)),
            "{pdf} missing from {html}"
        );
    }
}

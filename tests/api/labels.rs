//! Labels over HTTP and the command line: every format reads back as the
//! record's scan payload, the sheet holds every vial, labels carry codes
//! only, and labels issued for printing are accounted for.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::readback::{decode_all, decode_png, decode_sheet, pdf_page, pdf_text, svg_raster};
use crate::story::{id, signed};

on_both_databases!(
    a_vial_label_png_reads_back_as_its_scan_payload,
    svg_and_zpl_labels_carry_the_same_payload,
    #[needs(rsvg_convert)]
    an_svg_label_rendered_by_librsvg_reads_back_as_its_scan_payload,
    #[needs(poppler)]
    the_lot_sheet_holds_every_vial_label_and_reads_back_at_200_dpi,
    the_lot_label_names_the_lot,
    labels_carry_codes_and_nothing_personal,
    issued_labels_are_counted_and_a_reprint_needs_a_reason,
    rendering_a_label_changes_nothing,
    the_command_line_prints_labels_offline,
    every_zpl_label_of_real_records_sends_only_what_a_zebra_prints,
);

async fn a_vial_label_png_reads_back_as_its_scan_payload(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-4000", 2).await;
    let vial = app
        .get(&format!("/api/v1/vials/{}", id(&vials[0])), Some(&team.lab))
        .await
        .expect(200);
    let payload = vial["scan_payload"].as_str().unwrap();
    assert_eq!(payload, format!("CT1:V:{}", vial["code"].as_str().unwrap()));
    let path = format!("/api/v1/vials/{}/label.png", id(&vial));
    let (status, content_type, png) = app.get_bytes(&path, Some(&team.quality)).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "image/png");
    let image = image::load_from_memory(&png).unwrap();
    // 2 × 1 inch at 300 dpi
    assert_eq!((image.width(), image.height()), (600, 300));
    assert_eq!(decode_png(&png), [payload]);
    // and the scan endpoint resolves what the label encodes to this vial
    let scanned = app
        .post(
            "/api/v1/scan",
            Some(&team.lab),
            json!({ "payload": payload }),
        )
        .await
        .expect(200);
    assert_eq!(scanned["id"], vial["id"]);
    // no token, no label
    let (status, _, body) = app.get_bytes(&path, None).await;
    assert_eq!(status, 401);
    let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], "unauthenticated");
    let (status, _, _) = app
        .get_bytes(
            "/api/v1/vials/00000000-0000-0000-0000-000000000000/label.png",
            Some(&team.lab),
        )
        .await;
    assert_eq!(status, 404);
}

async fn svg_and_zpl_labels_carry_the_same_payload(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-4010", 1).await;
    let vial = &vials[0];
    let code = vial["code"].as_str().unwrap();
    let payload = format!("CT1:V:{code}");
    let base = format!("/api/v1/vials/{}", id(vial));

    let (status, content_type, svg) = app
        .get_bytes(&format!("{base}/label.svg"), Some(&team.lab))
        .await;
    assert_eq!((status, content_type.as_str()), (200, "image/svg+xml"));
    let text = String::from_utf8(svg.clone()).unwrap();
    assert!(text.starts_with("<svg"), "{text}");
    // text as text, not as outlines
    assert!(text.contains(&format!(">{code}</text>")), "{text}");
    assert!(text.contains("investigational use"));

    let (status, _, zpl) = app
        .get_bytes(&format!("{base}/label.zpl"), Some(&team.lab))
        .await;
    assert_eq!(status, 200);
    let zpl = String::from_utf8(zpl).unwrap();
    assert!(zpl.starts_with("^XA"), "{zpl}");
    assert!(zpl.trim_end().ends_with("^XZ"), "{zpl}");
    // model 2 QR, error correction Q, automatic mode, exactly the payload
    assert!(
        zpl.contains(&format!("^BQN,2,7^FDQA,{payload}^FS")),
        "{zpl}"
    );
    assert!(zpl.contains(&format!("^FD{code}^FS")), "{zpl}");
}

async fn an_svg_label_rendered_by_librsvg_reads_back_as_its_scan_payload(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-4015", 1).await;
    let payload = format!("CT1:V:{}", vials[0]["code"].as_str().unwrap());
    let (status, _, svg) = app
        .get_bytes(
            &format!("/api/v1/vials/{}/label.svg", id(&vials[0])),
            Some(&team.lab),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(decode_all(&svg_raster(&svg, 300)), [payload]);
}

async fn the_lot_sheet_holds_every_vial_label_and_reads_back_at_200_dpi(app: TestApp) {
    let team = app.team().await;
    // 32 vials: a full page of 30 and a second page of 2
    let (lot, vials) = app.quarantined_lot(&team, "UCD-4020", 32).await;
    // a discarded vial gets no label on the sheet
    app.post(
        &format!("/api/v1/vials/{}/discard", id(&vials[31])),
        Some(&team.lab),
        signed(json!({ "reason": "cracked on freezing" })),
    )
    .await
    .expect(200);
    let (status, content_type, pdf) = app
        .get_bytes(
            &format!("/api/v1/lots/{}/labels.pdf", id(&lot)),
            Some(&team.lab),
        )
        .await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF-"));
    // each label, cut from the page at 200 dpi, reads as its vial, in order
    let expected = |range: std::ops::Range<usize>| {
        vials[range]
            .iter()
            .map(|v| vec![format!("CT1:V:{}", v["code"].as_str().unwrap())])
            .collect::<Vec<_>>()
    };
    assert_eq!(decode_sheet(&pdf_page(&pdf, 1, 200), 200), expected(0..30));
    assert_eq!(decode_sheet(&pdf_page(&pdf, 2, 200), 200), expected(30..31));
    let text = pdf_text(&pdf);
    assert!(text.contains(vials[0]["code"].as_str().unwrap()), "{text}");
    assert!(!text.contains(vials[31]["code"].as_str().unwrap()));
    assert!(text.contains("investigational use"));
}

async fn the_lot_label_names_the_lot(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.quarantined_lot(&team, "UCD-4030", 3).await;
    assert_eq!(
        lot["scan_payload"],
        format!("CT1:L:{}", lot["code"].as_str().unwrap())
    );
    let (status, _, png) = app
        .get_bytes(
            &format!("/api/v1/lots/{}/label.png", id(&lot)),
            Some(&team.lab),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(decode_png(&png), [lot["scan_payload"].as_str().unwrap()]);
    let (_, _, zpl) = app
        .get_bytes(
            &format!("/api/v1/lots/{}/label.zpl", id(&lot)),
            Some(&team.lab),
        )
        .await;
    let zpl = String::from_utf8(zpl).unwrap();
    assert!(zpl.contains("3 vials"), "{zpl}");
}

async fn labels_carry_codes_and_nothing_personal(app: TestApp) {
    let team = app.team().await;
    let (lot, vials) = app.quarantined_lot(&team, "UCD-SECRET-77", 1).await;
    let donor_code = "UCD-SECRET-77";
    for path in [
        format!("/api/v1/vials/{}/label.svg", id(&vials[0])),
        format!("/api/v1/vials/{}/label.zpl", id(&vials[0])),
        format!("/api/v1/lots/{}/label.svg", id(&lot)),
        format!("/api/v1/lots/{}/label.zpl", id(&lot)),
    ] {
        let (status, _, body) = app.get_bytes(&path, Some(&team.lab)).await;
        assert_eq!(status, 200);
        let text = String::from_utf8(body).unwrap();
        assert!(!text.contains(donor_code), "{path} names the donor");
        assert!(!text.contains("SECRET"), "{path}");
    }
    let vial = app
        .get(&format!("/api/v1/vials/{}", id(&vials[0])), Some(&team.lab))
        .await
        .expect(200);
    assert!(!vial["scan_payload"].as_str().unwrap().contains("SECRET"));
}

async fn issued_labels_are_counted_and_a_reprint_needs_a_reason(app: TestApp) {
    let team = app.team().await;
    let (lot, vials) = app.quarantined_lot(&team, "UCD-4040", 3).await;
    let vial_issues = format!("/api/v1/vials/{}/label-issues", id(&vials[0]));
    let lot_issues = format!("/api/v1/lots/{}/label-issues", id(&lot));

    // the lab prints the sheet once after freezing
    let issue = app
        .post(&lot_issues, Some(&team.lab), json!({ "count": 1 }))
        .await
        .expect(201);
    assert_eq!(issue["reprint"], false);
    assert_eq!(issue["vials"].as_array().unwrap().len(), 3);
    assert_eq!(issue["issued_by"], "lab.tech");

    // a second print of one vial's label is a reprint: it needs a reason
    let details = app
        .post(&vial_issues, Some(&team.lab), json!({ "count": 1 }))
        .await
        .expect_error(422, "reprint_reason_required");
    assert_eq!(details["field"], "reason");
    app.post(
        &vial_issues,
        Some(&team.lab),
        json!({ "count": 1, "reason": "   " }),
    )
    .await
    .expect_error(422, "reprint_reason_required");
    let reprint = app
        .post(
            &vial_issues,
            Some(&team.lab),
            json!({ "count": 2, "reason": "label smudged by frost" }),
        )
        .await
        .expect(201);
    assert_eq!(reprint["reprint"], true);
    assert_eq!(reprint["vials"][0]["labels_issued"], 3);
    let vial = app
        .get(&format!("/api/v1/vials/{}", id(&vials[0])), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(vial["labels_issued"], 3);

    // the ledger says who, when, how many and why
    let history = app
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
    assert_eq!(issued[1]["actor_username"], "lab.tech");
    assert_eq!(issued[1]["details"]["count"], 2);
    assert_eq!(issued[1]["details"]["reason"], "label smudged by frost");

    // refusals change nothing
    for (body, code) in [
        (json!({ "count": 0, "reason": "x" }), "invalid_field"),
        (json!({ "count": 11, "reason": "x" }), "invalid_field"),
        (json!({ "count": 1 }), "reprint_reason_required"),
    ] {
        app.post(&lot_issues, Some(&team.lab), body)
            .await
            .expect_error(422, code);
    }
    app.post(&lot_issues, Some(&team.lab), json!({ "count": "one" }))
        .await
        .expect_error(400, "malformed_request");
    app.post(
        &lot_issues,
        Some(&team.quality),
        json!({ "count": 1, "reason": "x" }),
    )
    .await
    .expect_error(403, "forbidden");
    let after = app
        .get(&format!("/api/v1/vials/{}", id(&vials[1])), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(after["labels_issued"], 1);
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn rendering_a_label_changes_nothing(app: TestApp) {
    let team = app.team().await;
    let (lot, vials) = app.quarantined_lot(&team, "UCD-4050", 2).await;
    let before = app.verify_ledger(&team).await;
    for (path, served_as) in [
        (
            format!("/api/v1/vials/{}/label.png", id(&vials[0])),
            "image/png",
        ),
        (
            format!("/api/v1/vials/{}/label.svg", id(&vials[0])),
            "image/svg+xml",
        ),
        (
            format!("/api/v1/vials/{}/label.zpl", id(&vials[0])),
            "application/zpl",
        ),
        (
            format!("/api/v1/lots/{}/labels.pdf", id(&lot)),
            "application/pdf",
        ),
    ] {
        let (status, content_type, body) = app.get_bytes(&path, Some(&team.lab)).await;
        assert_eq!(status, 200, "{path}");
        // the sheet's pixels are read back only where poppler is installed
        assert!(
            content_type.starts_with(served_as),
            "{path}: {content_type}"
        );
        assert!(!body.is_empty(), "{path}");
    }
    let after = app.verify_ledger(&team).await;
    assert_eq!(after["events"], before["events"]);
    let vial = app
        .get(&format!("/api/v1/vials/{}", id(&vials[0])), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(vial["labels_issued"], 0);
}

async fn the_command_line_prints_labels_offline(app: TestApp) {
    let team = app.team().await;
    let (lot, vials) = app.quarantined_lot(&team, "UCD-4060", 2).await;
    let dir = tempfile::tempdir().unwrap();
    let celltrail = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_celltrail"))
            .arg("label")
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let png = dir.path().join("vial.png");
    let code = vials[0]["code"].as_str().unwrap().to_lowercase();
    let output = celltrail(&[
        "--vial",
        &code,
        "--format",
        "png",
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        decode_png(&std::fs::read(&png).unwrap()),
        [format!("CT1:V:{}", vials[0]["code"].as_str().unwrap())]
    );
    let pdf = dir.path().join("sheet.pdf");
    let output = celltrail(&[
        "--lot",
        lot["code"].as_str().unwrap(),
        "--format",
        "pdf",
        "-o",
        pdf.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let output = celltrail(&[
        "--vial",
        "A999926999999-L01-V001",
        "--format",
        "zpl",
        "-o",
        "-",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no vial has the code A999926999999-L01-V001"),
        "{stderr}"
    );
    // a vial by its id or its label's payload: the same label
    let payload = format!("CT1:V:{}", vials[1]["code"].as_str().unwrap());
    for name in [id(&vials[1]), payload.clone()] {
        let output = celltrail(&["--vial", &name, "--format", "png", "-o", "-"]);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(decode_png(&output.stdout), std::slice::from_ref(&payload));
    }
    // a lot's code given for a vial: what it is, and where it goes
    let lot_code = lot["code"].as_str().unwrap();
    let output = celltrail(&["--vial", lot_code, "--format", "png", "-o", "-"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "--vial was given \"{lot_code}\", which is a lot's code: give it as --lot"
        )) && stderr.contains("--vial takes a vial's code"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // an id that is no vial's
    let stranger = uuid::Uuid::new_v4().to_string();
    let output = celltrail(&["--vial", &stranger, "--format", "png", "-o", "-"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("no vial has the id {stranger}")),
        "{stderr}"
    );
    // the lot's box label by its id
    let output = celltrail(&["--lot", &id(&lot), "--format", "png", "-o", "-"]);
    assert!(output.status.success());
    assert_eq!(decode_png(&output.stdout), [format!("CT1:L:{lot_code}")]);
    // a dose's bag label by its code, a wristband by the subject code
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-4061", 2, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-406", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let dose_code = dose["code"].as_str().unwrap().to_lowercase();
    for (flag, name, payload) in [
        (
            "--dose",
            dose_code.as_str(),
            format!("CT1:D:{}", dose["code"].as_str().unwrap()),
        ),
        ("--patient", "pv-406", "CT1:P:PV-406".to_owned()),
    ] {
        let output = celltrail(&[flag, name, "--format", "png", "-o", "-"]);
        assert!(
            output.status.success(),
            "{flag} {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(decode_png(&output.stdout), [payload]);
    }

    // a site's layout in Chinese: PNG prints it, ZPL refuses it by name
    // (a Zebra's resident font would print nothing in its place)
    let layouts = dir.path().join("layouts");
    std::fs::create_dir(&layouts).unwrap();
    let builtin =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/labels/vial.toml")).unwrap();
    let chinese = builtin.replace(
        "\"{cells_per_vial_millions} cells · {volume}\"",
        "\"{cells_per_vial_millions} 细胞 · {volume}\"",
    );
    assert_ne!(chinese, builtin);
    std::fs::write(layouts.join("vial.toml"), chinese).unwrap();
    let with_layouts = |format: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_celltrail"))
            .args(["label", "--vial", &code, "--format", format, "-o", "-"])
            .arg("--labels-dir")
            .arg(&layouts)
            .env("DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let output = with_layouts("png");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = with_layouts("zpl");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot print “细” (U+7EC6)"), "{stderr}");
    assert!(
        stderr.contains("print this label as PNG or PDF"),
        "{stderr}"
    );
}

/// Each problem in what a Zebra is sent: a character outside printable
/// ASCII, or a `^FH` escape (`_XX`) of a byte outside it. A Zebra's
/// resident font 0 is sure to print ASCII only (README, "Labels").
pub fn zpl_outside_font_0(zpl: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in zpl.lines() {
        if let Some(c) = line.chars().find(|c| !(' '..='~').contains(c)) {
            found.push(format!("{c:?} in {line}"));
        }
        for (at, _) in line.match_indices('_') {
            let hex = line.get(at + 1..at + 3).unwrap_or("");
            if let Ok(byte) = u8::from_str_radix(hex, 16)
                && !(0x20..0x7f).contains(&byte)
            {
                found.push(format!("_{hex} in {line}"));
            }
        }
    }
    found
}

/// Every label kind, made from real records with every field filled (the
/// dose thawed and verified, so its cells, concentration and times print):
/// the ZPL holds printable ASCII only, the symbols spelt out, not dropped.
async fn every_zpl_label_of_real_records_sends_only_what_a_zebra_prints(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, vials) = app.dosing_stock(&team, "UCD-4090", 8, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-409", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let labels = [
        format!("/api/v1/vials/{}/label.zpl", id(&vials[7])),
        format!("/api/v1/lots/{}/label.zpl", id(&lot)),
        format!("/api/v1/patients/{}/wristband.zpl", id(&patient)),
        format!("/api/v1/doses/{}/label.zpl", id(&dose)),
    ];
    let mut all = String::new();
    for path in &labels {
        let (status, content_type, zpl) = app.get_bytes(path, Some(&clinic.pharmacist)).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            content_type.starts_with("application/zpl"),
            "{path}: {content_type}"
        );
        let zpl = String::from_utf8(zpl).unwrap();
        let bad = zpl_outside_font_0(&zpl);
        assert!(bad.is_empty(), "{path}: {bad:?}");
        all.push_str(&zpl);
    }
    // what the other formats print as × 10⁶ and ·, spelt in ASCII (`^`
    // is a ZPL command character: sent as its escape `_5E`, printed as `^`)
    assert!(all.contains("25 x 10_5E6"), "{all}");
    assert!(all.contains("x 10_5E6 viable cells"), "{all}");
    assert!(all.contains(" | "), "{all}");
    assert!(!all.contains("_C3") && !all.contains("_E2"), "{all}");
    // the checker itself finds what it is for
    assert!(!zpl_outside_font_0("^FH_^FD25 _C3_97 10^FS").is_empty());
    assert!(!zpl_outside_font_0("^FD25 × 10^FS").is_empty());
    assert!(zpl_outside_font_0("^FH_^FDa_5Eb_5F^FS").is_empty());
}

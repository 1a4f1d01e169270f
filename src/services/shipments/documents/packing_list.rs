//! The packing list: the paper that travels with a shipment and that the
//! receiving site checks the shipper's contents against. A4 pages, each
//! with the shipment's QR (`CT1:H:<code>`, which the scan station
//! resolves) and code; from and to with facility codes; the shipper; the
//! status and its times in the sending site's time zone with the offset;
//! a line for every vial (vial code, DIN, lot, cells, volume, expiry and,
//! once scanned in or closed, received or missing with the reason); what
//! the receipt found that was not on the list; and the receiver's
//! signature lines.
//!
//! Codes only (21 CFR 1271.290(c)): no subject code, name or birth date.
//! The pages are drawn by the label PDF writer (`labels::pdf::pages`), so
//! the QR is vectors and the text is searchable.

use qrcode::{Color, EcLevel, QrCode};
use uuid::Uuid;

use crate::domain::din::Din;
use crate::domain::scan::{self, ScanKind, Scanned, payload};
use crate::domain::shipment::ShipmentStatus;
use crate::domain::units::{millilitres, millions};
use crate::domain::zone::SiteZone;
use crate::entities::lot;
use crate::error::{AppError, AppResult};
use crate::labels::compose::{Band, Composed, Frame, PlacedQr, TextRun};
use crate::labels::font::{Weight, face};
use crate::labels::{DEMO_BAND, RenderError, pdf};
use crate::services::auth::AuthenticatedUser;
use crate::services::shipments::{ShipmentRecord, get};
use crate::services::{demo_mark, store};
use crate::state::AppState;

/// A rendered packing list.
#[derive(Debug, Clone)]
pub struct PackingList {
    /// The shipment's code, for the file's name.
    pub code: String,
    pub pdf: Vec<u8>,
}

/// The shipment's packing list as PDF, for staff of either of its sites.
pub async fn packing_list(
    state: &AppState,
    user: &AuthenticatedUser,
    id: Uuid,
) -> AppResult<PackingList> {
    let record = get(state, id).await?;
    super::check_either_end(state, user, &record).await?;
    let sheet = sheet_of(state, &record).await?;
    let code = record.shipment.code.clone();
    let pdf = tokio::task::spawn_blocking(move || render(&sheet))
        .await
        .map_err(AppError::internal)??;
    Ok(PackingList { code, pdf })
}

/// What the list prints, as text: read from the records, then drawn.
#[derive(Debug, Clone)]
struct Sheet {
    code: String,
    payload: String,
    /// Label and value lines of the header.
    facts: Vec<(&'static str, String)>,
    rows: Vec<Row>,
    /// What the receipt found that was not on the list.
    notes: Vec<[String; 4]>,
    vial_count: usize,
    printed: String,
    demo: bool,
}

#[derive(Debug, Clone)]
struct Row {
    cells: [String; 7],
    /// Received or missing, with the reason; empty (a box to tick) before.
    receipt: String,
}

async fn sheet_of(state: &AppState, record: &ShipmentRecord) -> AppResult<Sheet> {
    let s = &record.shipment;
    // every time on the paper in one zone: the sending site's
    let zone = SiteZone::parse(&record.from_site.time_zone).unwrap_or(state.settings.timezone);
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| zone.minute(t)).unwrap_or_else(|| "—".into())
    };
    let lots =
        store::by_ids::<lot::Entity>(state.db.conn(), record.items.iter().map(|i| i.vial.lot_id))
            .await?;
    let sealed = s.sealed_at.is_some();
    let mut received = 0;
    let mut missing = 0;
    let rows: Vec<Row> = record
        .items
        .iter()
        .map(|item| {
            let v = &item.vial;
            let lot = lots.get(&v.lot_id);
            let line = item.line.as_ref();
            let receipt = match line {
                Some(l) if l.received_at.is_some() => {
                    received += 1;
                    format!("received {}", time(l.received_at))
                }
                Some(l) if l.missing_reason.is_some() => {
                    missing += 1;
                    format!("missing: {}", l.missing_reason.as_deref().unwrap_or(""))
                }
                _ if s.status == ShipmentStatus::Received => {
                    missing += 1;
                    "missing".into()
                }
                _ => String::new(),
            };
            Row {
                cells: [
                    String::new(),
                    v.code.to_string(),
                    din_display(&v.din),
                    lot.map(|l| l.code.clone()).unwrap_or_default(),
                    millions(v.cells_per_vial),
                    millilitres(v.volume_ul),
                    lot.map(|l| zone.day(l.expires_at)).unwrap_or_default(),
                ],
                receipt,
            }
        })
        .collect();
    let mut vials = format!("{} on the list", rows.len());
    if !sealed {
        vials = format!(
            "{} packed so far (the list is final at the seal)",
            rows.len()
        );
    }
    if received > 0 || missing > 0 || s.status == ShipmentStatus::Received {
        vials.push_str(&format!(" · {received} received · {missing} missing"));
    }
    let site = |site: &crate::entities::site::Model| {
        format!("{} · facility {}", site.name, site.facility_code)
    };
    let facts = vec![
        ("From", site(&record.from_site)),
        ("To", site(&record.to_site)),
        ("Shipper", record.container.code.clone()),
        ("Status", s.status.as_str().replace('_', " ")),
        ("Created", time(Some(s.created_at))),
        ("Sealed", time(s.sealed_at)),
        ("Picked up", time(s.picked_up_at)),
        ("Arrived", time(s.arrived_at)),
        ("Received", time(s.received_at)),
        ("Vials", vials),
        (
            "Times",
            format!("{} (the sending site's time zone)", zone.name()),
        ),
    ];
    let notes = record
        .discrepancies
        .iter()
        .map(|d| {
            [
                d.kind.as_str().to_owned(),
                printable_scan(&d.scanned),
                time(Some(d.noted_at)),
                d.reason.clone().unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    Ok(Sheet {
        code: s.code.clone(),
        payload: payload(ScanKind::Shipment, &s.code),
        facts,
        rows,
        notes,
        vial_count: record.items.len(),
        printed: zone.minute(state.clock.now()),
        demo: demo_mark::is_demo(state).await?,
    })
}

/// The DIN as people read it, with its check character.
fn din_display(din: &str) -> String {
    Din::parse(din)
        .map(|d| d.display())
        .unwrap_or_else(|_| din.to_owned())
}

/// What a scan at receipt read, unless it names a person: a wristband's
/// or a dose bag's payload carries a subject code, which this paper never
/// prints.
fn printable_scan(scanned: &str) -> String {
    match scan::parse(scanned) {
        Ok(Scanned::Payload {
            kind: ScanKind::Patient | ScanKind::Dose,
            ..
        }) => "(a patient's label: not printed)".into(),
        _ => scanned.chars().take(60).collect(),
    }
}

// Page geometry in points (the pages are composed at 72 dpi: a dot is a
// point), A4 portrait.
const WIDTH: u32 = 595;
const HEIGHT: u32 = 842;
const LEFT: f32 = 40.0;
const RIGHT: f32 = 555.0;
const BOTTOM: f32 = 790.0;
const MODULE: u32 = 3;
/// Column lefts of the vial table, and its right edge.
const COLUMNS: [(f32, &str); 8] = [
    (40.0, "#"),
    (56.0, "Vial code"),
    (170.0, "DIN"),
    (245.0, "Lot"),
    (324.0, "Cells/vial"),
    (366.0, "Volume"),
    (398.0, "Expiry"),
    (446.0, "Receipt"),
];
const TEXT: f32 = 8.0;
const LINE: f32 = 11.0;

/// One page being laid out.
struct PageDraft {
    texts: Vec<TextRun>,
    frames: Vec<Frame>,
}

impl PageDraft {
    fn new() -> Self {
        PageDraft {
            texts: Vec::new(),
            frames: Vec::new(),
        }
    }

    /// A line of text with its top at `top`, never wider than `max_width`
    /// (a longer one is drawn narrower, never cut).
    fn text(&mut self, text: &str, x: f32, top: f32, size: f32, bold: bool, max_width: f32) {
        if text.is_empty() {
            return;
        }
        let weight = if bold { Weight::Bold } else { Weight::Regular };
        let f = face(weight);
        self.texts.push(TextRun {
            text: text.to_owned(),
            x,
            baseline: top + f.ascent(size),
            size,
            weight,
            width: f.measure(size, text).min(max_width),
            max_width,
        });
    }

    /// A horizontal rule at `y`.
    fn rule(&mut self, x: f32, y: f32, width: f32, stroke: f32) {
        self.frames.push(Frame {
            x,
            y: y - stroke / 2.0,
            width,
            height: stroke,
            stroke,
        });
    }

    fn boxed(&mut self, x: f32, y: f32, side: f32) {
        self.frames.push(Frame {
            x,
            y,
            width: side,
            height: side,
            stroke: 0.6,
        });
    }
}

/// Greedy word wrap at `size` into lines no wider than `width`; a word
/// longer than the width stays whole on its line (drawn narrower).
fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let f = face(Weight::Regular);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if current.is_empty() || f.measure(size, &candidate) <= width {
            current = candidate;
        } else {
            lines.push(std::mem::replace(&mut current, word.to_owned()));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

fn qr(payload: &str) -> Result<PlacedQr, RenderError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::Q)
        .map_err(|e| RenderError::Qr(e.to_string()))?;
    let size = code.width() as u32;
    Ok(PlacedQr {
        x: RIGHT as u32 - size * MODULE,
        y: 40,
        module: MODULE,
        size,
        dark: code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect(),
        ec: 'Q',
    })
}

fn render(sheet: &Sheet) -> Result<Vec<u8>, RenderError> {
    let qr = qr(&sheet.payload)?;
    // text keeps the QR's quiet zone (4 modules) clear
    let beside_qr = qr.x as f32 - 4.0 * MODULE as f32 - LEFT;
    let below_qr = (qr.y + qr.size * qr.module + 4 * MODULE) as f32;
    let mut pages = vec![PageDraft::new()];

    // the first page's head
    let page = &mut pages[0];
    page.text("Packing list", LEFT, 40.0, 18.0, true, beside_qr);
    page.text(
        &format!("Shipment {}", sheet.code),
        LEFT,
        64.0,
        14.0,
        true,
        beside_qr,
    );
    let mut y = 92.0;
    for (label, value) in &sheet.facts {
        page.text(label, LEFT, y, 9.0, true, 68.0);
        page.text(value, LEFT + 72.0, y, 9.0, false, beside_qr - 72.0);
        y += 13.0;
    }
    let mut y = y.max(below_qr) + 10.0;

    let header = |page: &mut PageDraft, y: f32| -> f32 {
        for (i, (x, name)) in COLUMNS.iter().enumerate() {
            let right = COLUMNS.get(i + 1).map(|c| c.0).unwrap_or(RIGHT);
            page.text(name, *x, y, TEXT, true, right - x - 3.0);
        }
        page.rule(LEFT, y + LINE + 1.0, RIGHT - LEFT, 0.8);
        y + LINE + 4.0
    };
    y = header(&mut pages[0], y);
    let receipt_width = RIGHT - COLUMNS[7].0;
    for (n, row) in sheet.rows.iter().enumerate() {
        let receipt = wrap(&row.receipt, TEXT - 0.5, receipt_width);
        let lines = receipt.len().clamp(1, 4);
        let height = LINE + (lines - 1) as f32 * (LINE - 1.0) + 3.0;
        if y + height > BOTTOM {
            pages.push(PageDraft::new());
            let top = continuation(&mut pages, sheet, beside_qr, below_qr);
            y = header(pages.last_mut().expect("a page"), top);
        }
        let page = pages.last_mut().expect("a page");
        page.text(&(n + 1).to_string(), COLUMNS[0].0, y, TEXT, false, 16.0);
        for (i, cell) in row.cells.iter().enumerate().skip(1) {
            let right = COLUMNS[i + 1].0;
            page.text(
                cell,
                COLUMNS[i].0,
                y,
                TEXT,
                i == 1,
                right - COLUMNS[i].0 - 3.0,
            );
        }
        if receipt.is_empty() {
            // a box for the receiver's tick
            page.boxed(COLUMNS[7].0, y + 0.5, 7.0);
        }
        for (i, line) in receipt.iter().take(4).enumerate() {
            page.text(
                line,
                COLUMNS[7].0,
                y + i as f32 * (LINE - 1.0),
                TEXT - 0.5,
                false,
                receipt_width,
            );
        }
        page.rule(LEFT, y + height - 2.0, RIGHT - LEFT, 0.25);
        y += height;
    }
    if sheet.rows.is_empty() {
        pages.last_mut().expect("a page").text(
            "No vials packed yet.",
            LEFT,
            y,
            TEXT + 1.0,
            false,
            RIGHT - LEFT,
        );
        y += LINE + 4.0;
    }

    // what the receipt found that was not on the list
    if !sheet.notes.is_empty() {
        let needed = 40.0 + sheet.notes.len().min(3) as f32 * LINE;
        if y + needed > BOTTOM {
            pages.push(PageDraft::new());
            y = continuation(&mut pages, sheet, beside_qr, below_qr);
        }
        y += 10.0;
        let page = pages.last_mut().expect("a page");
        page.text("Not on the packing list", LEFT, y, 10.0, true, RIGHT - LEFT);
        y += 16.0;
        let columns = [
            (LEFT, "Kind"),
            (100.0, "Scanned"),
            (250.0, "Noted"),
            (370.0, "Reason"),
        ];
        for (i, (x, name)) in columns.iter().enumerate() {
            let right = columns.get(i + 1).map(|c| c.0).unwrap_or(RIGHT);
            page.text(name, *x, y, TEXT, true, right - x - 3.0);
        }
        y += LINE + 3.0;
        for note in &sheet.notes {
            let reason = wrap(&note[3], TEXT, RIGHT - 370.0);
            let height = LINE + (reason.len().clamp(1, 3) - 1) as f32 * (LINE - 1.0) + 2.0;
            if y + height > BOTTOM {
                pages.push(PageDraft::new());
                y = continuation(&mut pages, sheet, beside_qr, below_qr);
            }
            let page = pages.last_mut().expect("a page");
            for (i, (x, _)) in columns.iter().enumerate().take(3) {
                let right = columns[i + 1].0;
                page.text(&note[i], *x, y, TEXT, false, right - x - 3.0);
            }
            for (i, line) in reason.iter().take(3).enumerate() {
                page.text(
                    line,
                    370.0,
                    y + i as f32 * (LINE - 1.0),
                    TEXT,
                    false,
                    RIGHT - 370.0,
                );
            }
            y += height;
        }
    }

    // the receiver's signature
    const SIGNATURE: f32 = 118.0;
    if y + SIGNATURE > BOTTOM {
        pages.push(PageDraft::new());
        y = continuation(&mut pages, sheet, beside_qr, below_qr);
    }
    let page = pages.last_mut().expect("a page");
    y += 16.0;
    page.text("Received by", LEFT, y, 10.0, true, RIGHT - LEFT);
    y += 15.0;
    page.text(
        &format!(
            "I checked the shipper's contents against this list: ____ of {} vials received; each one missing or not on the list is noted with its reason.",
            sheet.vial_count
        ),
        LEFT,
        y,
        TEXT,
        false,
        RIGHT - LEFT,
    );
    y += 30.0;
    for (x, width, caption) in [
        (LEFT, 170.0, "Name (printed)"),
        (LEFT + 185.0, 170.0, "Signature"),
        (LEFT + 370.0, RIGHT - LEFT - 370.0, "Date and time"),
    ] {
        page.rule(x, y, width, 0.6);
        page.text(caption, x, y + 3.0, TEXT - 1.0, false, width);
    }

    // every page: its QR, its footer, the demo band
    let count = pages.len();
    let band = sheet.demo.then(demo_band);
    let title = if sheet.demo {
        format!("DEMO - NOT FOR CLINICAL USE - Packing list {}", sheet.code)
    } else {
        format!("Packing list {}", sheet.code)
    };
    let composed: Vec<Composed> = pages
        .into_iter()
        .enumerate()
        .map(|(i, mut page)| {
            page.rule(LEFT, BOTTOM + 14.0, RIGHT - LEFT, 0.4);
            page.text(
                &format!(
                    "{} · page {} of {count} · printed {} · codes only: no patient or donor data",
                    sheet.code,
                    i + 1,
                    sheet.printed
                ),
                LEFT,
                BOTTOM + 18.0,
                7.0,
                false,
                RIGHT - LEFT,
            );
            page.text(
                &sheet.payload,
                qr.x as f32,
                below_qr - 4.0 * MODULE as f32 + 3.0,
                6.5,
                false,
                RIGHT - qr.x as f32,
            );
            Composed {
                width: WIDTH,
                height: HEIGHT,
                dpi: 72,
                qr: qr.clone(),
                texts: page.texts,
                frames: page.frames,
                payload: sheet.payload.clone(),
                band: band.clone(),
            }
        })
        .collect();
    Ok(pdf::pages(&title, &composed))
}

/// A continuation page's head (the shipment's code beside its QR); where
/// its table or section starts.
fn continuation(pages: &mut [PageDraft], sheet: &Sheet, beside_qr: f32, below_qr: f32) -> f32 {
    let page = pages.last_mut().expect("a page");
    page.text(
        &format!("Packing list · shipment {} (continued)", sheet.code),
        LEFT,
        40.0,
        12.0,
        true,
        beside_qr,
    );
    below_qr + 10.0
}

/// The demo band across the page's top: black, its text in white.
fn demo_band() -> Band {
    let size = 10.0;
    let f = face(Weight::Bold);
    let width = f.measure(size, DEMO_BAND);
    let (y, height) = (12.0, 18.0);
    Band {
        x: LEFT,
        y,
        width: RIGHT - LEFT,
        height,
        text: TextRun {
            text: DEMO_BAND.to_owned(),
            x: LEFT + (RIGHT - LEFT - width) / 2.0,
            baseline: y + (height - f.ascent(size) - f.descent(size)) / 2.0 + f.ascent(size),
            size,
            weight: Weight::Bold,
            width,
            max_width: RIGHT - LEFT,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(vials: usize, demo: bool) -> Sheet {
        Sheet {
            code: "SH-2026-0012".into(),
            payload: "CT1:H:SH-2026-0012".into(),
            facts: vec![("From", "Cell lab · facility A9999".into())],
            rows: (1..=vials)
                .map(|n| Row {
                    cells: [
                        String::new(),
                        format!("A999926000123-L01-V{n:03}"),
                        "A9999 26 000123 K".into(),
                        "A999926000123-L01".into(),
                        "25 × 10⁶".into(),
                        "1.5 mL".into(),
                        "2027-11-25".into(),
                    ],
                    receipt: if n % 7 == 0 {
                        "missing: broken in the shipper, found in pieces at the bottom of the canister".into()
                    } else {
                        String::new()
                    },
                })
                .collect(),
            notes: vec![[
                "extra".into(),
                "ZZ-1".into(),
                "2026-11-27 10:00 +08:00".into(),
                "not ours".into(),
            ]],
            vial_count: vials,
            printed: "2026-11-27 10:00 +08:00".into(),
            demo,
        }
    }

    fn page_count(pdf: &[u8]) -> usize {
        String::from_utf8_lossy(pdf).matches("/MediaBox").count()
    }

    #[test]
    fn a_long_list_runs_over_pages_and_a_short_one_fits_one() {
        let one = render(&sheet(3, false)).unwrap();
        assert!(one.starts_with(b"%PDF-"));
        assert_eq!(page_count(&one), 1);
        let many = render(&sheet(150, false)).unwrap();
        assert!(page_count(&many) >= 3, "{}", page_count(&many));
        let demo = render(&sheet(3, true)).unwrap();
        let has = |pdf: &[u8], text: &[u8]| pdf.windows(text.len()).any(|w| w == text);
        assert!(has(
            &demo,
            b"DEMO - NOT FOR CLINICAL USE - Packing list SH-2026-0012"
        ));
        assert!(!has(&one, b"DEMO"));
    }

    #[test]
    fn text_wraps_at_spaces_within_its_width() {
        let lines = wrap("missing: broken in the shipper at the bottom", 7.5, 60.0);
        assert!(lines.len() > 1);
        assert_eq!(
            lines.join(" "),
            "missing: broken in the shipper at the bottom"
        );
        assert!(wrap("", 8.0, 50.0).is_empty());
    }

    #[test]
    fn a_patients_label_scanned_at_receipt_is_not_printed() {
        assert_eq!(
            printable_scan("CT1:P:PV-007"),
            "(a patient's label: not printed)"
        );
        assert_eq!(
            printable_scan("CT1:D:PV-007-D01"),
            "(a patient's label: not printed)"
        );
        assert_eq!(printable_scan("ZZ-1"), "ZZ-1");
    }
}

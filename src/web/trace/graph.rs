//! The lot's trace as a picture, recipients first: donor → donation → lot
//! → doses → patients, one row per recipient with that recipient's doses
//! as small marks (infusion number and vial count), then one row per group
//! of vials that went to nobody (available, quarantined, discarded,
//! recalled…), each a link to those vials. A lot of a thousand vials is a
//! few dozen rows, never a thousand boxes: it fits on one screen and stays
//! light (a unit test holds it under 100 KB and 900 px).

use std::collections::BTreeMap;

use maud::{Markup, PreEscaped, html};
use uuid::Uuid;

use crate::domain::lifecycle::{DoseStatus, VialStatus};
use crate::i18n::{arg, t, t_maybe, t_with};
use crate::services::trace::{DoseNode, LotTrace};

const ROW: i64 = 24;
const TOP: i64 = 40;
const WIDTH: i64 = 1000;
/// Left edges of the columns: donor, donation, lot, doses, patients.
const COLS: [i64; 5] = [5, 140, 305, 500, 872];
const CHIP: i64 = 58;
/// A recipient's doses per line of marks; the protocol gives six.
const CHIPS_PER_LINE: usize = 6;

/// One row of the picture: a recipient with their doses of this lot, or a
/// group of vials that went to nobody.
#[derive(Debug)]
pub enum Row<'a> {
    Recipient {
        patient_id: Uuid,
        subject_code: &'a str,
        doses: Vec<&'a DoseNode>,
    },
    Unused {
        status: VialStatus,
        count: usize,
    },
}

impl Row<'_> {
    fn lines(&self) -> i64 {
        match self {
            Row::Recipient { doses, .. } => doses.len().div_ceil(CHIPS_PER_LINE).max(1) as i64,
            Row::Unused { .. } => 1,
        }
    }
}

/// The rows, recipients by subject code then their doses by infusion
/// number, then the vials no dose holds, by status in the order of a
/// vial's life.
pub fn rows(lt: &LotTrace) -> Vec<Row<'_>> {
    let mut recipients: BTreeMap<&str, (Uuid, Vec<&DoseNode>)> = BTreeMap::new();
    for d in &lt.doses {
        recipients
            .entry(d.subject_code.as_str())
            .or_insert_with(|| (d.patient_id, Vec::new()))
            .1
            .push(d);
    }
    let mut rows: Vec<Row> = recipients
        .into_iter()
        .map(|(subject_code, (patient_id, mut doses))| {
            doses.sort_by_key(|d| (d.infusion_number, d.code.as_str()));
            Row::Recipient {
                patient_id,
                subject_code,
                doses,
            }
        })
        .collect();
    for status in VialStatus::ALL {
        let count = lt
            .vials
            .iter()
            .filter(|v| v.dose_id.is_none() && v.status == *status)
            .count();
        if count > 0 {
            rows.push(Row::Unused {
                status: *status,
                count,
            });
        }
    }
    rows
}

/// The colour class of a status: red for what must not be used, green for
/// what was given or passed, blue for usable stock, amber for in between.
fn tone(status: &str) -> &'static str {
    match status {
        "recalled" | "discarded" | "rejected" | "cancelled" | "ineligible" | "count_failed" => {
            "bad"
        }
        "infused" | "released" | "eligible" | "completed" => "ok",
        "available" => "avail",
        "patient" | "received" => "ink",
        _ => "warn",
    }
}

fn words(status: &str) -> String {
    t_maybe(&format!("status-{status}")).unwrap_or_else(|| status.replace('_', " "))
}

const SVG_STYLE: &str = "rect{fill:#fff;stroke-width:1.5px}line{stroke:#9aa5b1}\
.bad{stroke:#a4161a;fill:#a4161a}.ok{stroke:#146c2e;fill:#146c2e}.avail{stroke:#0b5cad;fill:#0b5cad}\
.ink{stroke:#102a43;fill:#102a43}.warn{stroke:#7a4d00;fill:#7a4d00}rect.bad,rect.ok,rect.avail,rect.ink,rect.warn{fill:#fff}\
text{stroke:none}rect.chip{fill-opacity:.1}";

/// A box with its words, a link where the record has a page.
fn node(x: i64, y: i64, width: i64, label: &str, status: &str, href: Option<String>) -> Markup {
    let class = tone(status);
    let crossed = matches!(status, "recalled" | "discarded");
    let body = html! {
        rect class=(class) x=(x) y=(y - 12) width=(width) height="18" {}
        text class=(class) x=(x + 4) y=(y + 1) { (label) @if crossed { " ✕" } }
    };
    match href {
        Some(href) => html! { a href=(href) { (body) } },
        None => html! { g { (body) } },
    }
}

/// A dose as a mark: `#3 ×2` (infusion 3, two vials), its code and words
/// in the tooltip, a link to its page.
fn chip(x: i64, y: i64, dose: &DoseNode) -> Markup {
    let status = dose.status.as_str();
    let class = tone(status);
    let title = t_with(
        "trace-dose-chip",
        &[
            ("code", arg(&dose.code)),
            ("number", arg(dose.infusion_number)),
            ("vials", arg(dose.vial_codes.len())),
            ("status", arg(words(status))),
        ],
    );
    let cancelled = dose.status == DoseStatus::Cancelled;
    html! {
        a href={ "/doses/" (dose.id) } {
            title { (title) }
            rect class={ "chip " (class) } x=(x) y=(y - 12) width=(CHIP - 4) height="18" {}
            text class=(class) x=(x + 4) y=(y + 1) {
                "#" (dose.infusion_number) " ×" (dose.vial_codes.len()) @if cancelled { " ✕" }
            }
        }
    }
}

pub fn graph(lt: &LotTrace) -> Markup {
    let rows = rows(lt);
    let mut y = TOP;
    let placed: Vec<(i64, &Row)> = rows
        .iter()
        .map(|row| {
            let at = y;
            y += row.lines() * ROW;
            (at, row)
        })
        .collect();
    let height = (y + 10).max(TOP + 3 * ROW);
    let mid = match (placed.first(), placed.last()) {
        (Some((first, _)), Some((last, _))) => (first + last) / 2,
        _ => TOP,
    };
    let lot_right = COLS[2] + 180;
    let heads = [
        "col-donor",
        "scan-kind-donation",
        "col-lot",
        "doses-title",
        "patients-title",
    ];
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (height) } width="100%"
            role="img" aria-label=(t_with("trace-aria", &[("code", arg(&lt.lot.code))])) {
            style { (PreEscaped(SVG_STYLE)) }
            @for (i, key) in heads.iter().enumerate() {
                text x=(COLS[i]) y="16" font-weight="bold" { (t(key)) }
            }
            line x1=(COLS[0] + 125) y1=(mid) x2=(COLS[1]) y2=(mid) {}
            line x1=(COLS[1] + 155) y1=(mid) x2=(COLS[2]) y2=(mid) {}
            (node(COLS[0], mid, 125, &lt.donor.code, lt.donor.eligibility.as_str(), None))
            (node(COLS[1], mid, 155, &lt.donation.din_display, "received", None))
            (node(COLS[2], mid, 180, &lt.lot.code, lt.lot.status.as_str(), Some(format!("/lots/{}", lt.lot.id))))
            @for (at, row) in &placed {
                line x1=(lot_right) y1=(mid) x2=(COLS[3]) y2=(*at) {}
                @match row {
                    Row::Recipient { patient_id, subject_code, doses } => {
                        @let last_x = COLS[3] + (doses.len().min(CHIPS_PER_LINE) as i64) * CHIP;
                        line x1=(last_x) y1=(*at) x2=(COLS[4]) y2=(*at) {}
                        @for (i, dose) in doses.iter().enumerate() {
                            (chip(COLS[3] + (i % CHIPS_PER_LINE) as i64 * CHIP, at + (i / CHIPS_PER_LINE) as i64 * ROW, dose))
                        }
                        (node(COLS[4], *at, 120, subject_code, "patient", Some(format!("/patients/{patient_id}"))))
                    }
                    Row::Unused { status, count } => {
                        (node(COLS[3], *at, 300, &t_with("trace-unused-vials", &[("count", arg(*count)), ("status", arg(words(status.as_str())))]), status.as_str(),
                            Some(format!("/vials?lot_id={}&status={}", lt.lot.id, status.as_str()))))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::donor::Eligibility;
    use crate::domain::lifecycle::LotStatus;
    use crate::services::trace::{DonationNode, DonorNode, LotNode, VialNode};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// A lot of `vials` vials, of which `patients` recipients each got six
    /// doses of two vials, and ten were discarded.
    fn big_lot(vials: usize, patients: usize) -> LotTrace {
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 2, 0, 0).unwrap();
        let lot_id = id(1);
        let mut vial_nodes: Vec<VialNode> = (0..vials)
            .map(|i| VialNode {
                id: id(1000 + i as u128),
                code: format!("V-2026-{i:06}"),
                lot_id,
                status: if i < 10 {
                    VialStatus::Discarded
                } else {
                    VialStatus::Available
                },
                location: Some("Tank 1 / Rack A / Box 3 / C4".into()),
                dose_id: None,
                dose_code: None,
                subject_code: None,
                coi: None,
                infusion_id: None,
            })
            .collect();
        let mut doses = Vec::new();
        let mut next = 10;
        for p in 0..patients {
            for n in 1..=6 {
                let dose_id = id(100_000 + (p * 10 + n) as u128);
                let mut codes = Vec::new();
                for _ in 0..2 {
                    let v = &mut vial_nodes[next];
                    v.status = VialStatus::Infused;
                    v.dose_id = Some(dose_id);
                    codes.push(v.code.clone());
                    next += 1;
                }
                doses.push(DoseNode {
                    id: dose_id,
                    code: format!("D-2026-{:05}", p * 10 + n),
                    status: DoseStatus::Infused,
                    lot_id,
                    patient_id: id(50_000 + p as u128),
                    subject_code: format!("PSO-{:03}", p + 1),
                    coi: Some(format!("CHA999926{:06}", p + 1)),
                    infusion_number: n as i32,
                    vial_codes: codes,
                    volume_ul: Some(20_000),
                    cells_to_administer: Some(70_000_000),
                    infusion: None,
                });
            }
        }
        LotTrace {
            lot: LotNode {
                id: lot_id,
                code: "LOT-2026-0001".into(),
                donation_id: id(2),
                product_code: "S1234".into(),
                status: LotStatus::Released,
                manufactured_at: at,
                expires_at: at,
                frozen_at: Some(at),
                cells_per_vial: Some(50_000_000),
                vial_count: Some(vials as i32),
            },
            donation: DonationNode {
                id: id(2),
                donor_id: id(3),
                din: "A999926000123".into(),
                din_display: "A9999 26 000123 K".into(),
                collected_at: at,
                received_at: at,
            },
            donor: DonorNode {
                id: id(3),
                code: "UCD-0001".into(),
                eligibility: Eligibility::Eligible,
                eligibility_decided_at: Some(at),
                consent_at: at,
            },
            qc: Vec::new(),
            vials: vial_nodes,
            shipments: Vec::new(),
            consent_withdrawal: None,
            doses,
            recipients: Vec::new(),
            adverse_events: Vec::new(),
        }
    }

    fn height(svg: &str) -> i64 {
        let view = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
        let view = view.split('"').next().unwrap();
        view.split(' ').nth(1).unwrap().parse().unwrap()
    }

    #[test]
    fn a_thousand_vial_lot_given_to_thirty_patients_is_one_screen_and_light() {
        let lt = big_lot(1000, 30);
        let svg = graph(&lt).into_string();
        assert!(svg.len() < 100_000, "{} bytes", svg.len());
        assert!(height(&svg) <= 900, "{} px high", height(&svg));
        // every recipient and every dose is there, each a link
        assert_eq!(svg.matches("href=\"/patients/").count(), 30);
        assert_eq!(svg.matches("href=\"/doses/").count(), 180);
        assert!(svg.contains("PSO-001") && svg.contains("PSO-030"));
        // the rest of the lot as counts: 1000 − 10 discarded − 360 infused
        assert!(svg.contains("630"), "available count");
        assert!(svg.contains("&amp;status=available"));
        assert!(svg.contains("&amp;status=discarded"));
        assert!(!svg.contains("V-2026-000500"), "no box per vial");
    }

    #[test]
    fn recipients_come_first_then_the_vials_nobody_received() {
        let lt = big_lot(40, 2);
        let rows = rows(&lt);
        assert!(matches!(
            rows[0],
            Row::Recipient {
                subject_code: "PSO-001",
                ..
            }
        ));
        assert!(matches!(
            rows[1],
            Row::Recipient {
                subject_code: "PSO-002",
                ..
            }
        ));
        assert!(matches!(
            rows[2],
            Row::Unused {
                status: VialStatus::Available,
                count: 6
            }
        ));
        assert!(matches!(
            rows[3],
            Row::Unused {
                status: VialStatus::Discarded,
                count: 10
            }
        ));
        assert_eq!(rows.len(), 4);
        if let Row::Recipient { doses, .. } = &rows[0] {
            let numbers: Vec<i32> = doses.iter().map(|d| d.infusion_number).collect();
            assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
        }
    }

    #[test]
    fn a_lot_nobody_received_is_still_drawn() {
        let lt = big_lot(12, 0);
        let svg = graph(&lt).into_string();
        assert!(svg.contains("LOT-2026-0001"));
        assert!(!svg.contains("/patients/"));
        assert!(height(&svg) >= TOP + 2 * ROW);
    }
}

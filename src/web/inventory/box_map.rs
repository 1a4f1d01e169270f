//! A box drawn as its grid (SVG, server-rendered): every position coloured
//! by what the vial in it may be used for, with a mark and a legend so
//! colour is never the only signal, each full position a link to its vial,
//! and the next free position (where a vial goes when none is chosen)
//! outlined.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use uuid::Uuid;

use crate::domain::lifecycle::VialStatus;
use crate::domain::storage::{Position, next_free};
use crate::entities::vial;
use crate::i18n::{arg, t, t_with};

/// What a position shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shade {
    Available,
    Reserved,
    Quarantine,
    Recalled,
    /// Held by a temperature excursion until quality decides.
    OnHold,
    /// Its lot's expiry has passed: never to be used, still to be cleared.
    Expired,
    /// Any other status (a thawed vial not yet taken out, say).
    Other,
    Empty,
}

impl Shade {
    /// The shade of a vial of `status` whose lot expires at `expires_at`,
    /// judged at `now` (the server's time). A recalled vial shows recalled
    /// whatever its expiry.
    pub fn of(status: VialStatus, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Shade {
        let expired = expires_at.is_some_and(|at| at <= now);
        match status {
            VialStatus::Recalled => Shade::Recalled,
            // held whatever else: nothing may be done with it until quality decides
            VialStatus::OnHold => Shade::OnHold,
            _ if expired => Shade::Expired,
            VialStatus::Available => Shade::Available,
            VialStatus::Reserved => Shade::Reserved,
            VialStatus::Quarantine => Shade::Quarantine,
            _ => Shade::Other,
        }
    }

    /// (fill, outline, mark, words)
    fn look(self) -> (&'static str, &'static str, &'static str, String) {
        let (fill, outline, mark, key) = match self {
            Shade::Available => ("#d6f0dc", "#146c2e", "✓", "shade-available"),
            Shade::Reserved => ("#fff1d6", "#7a4d00", "R", "shade-reserved"),
            Shade::Quarantine => ("#fff8b8", "#7a6a00", "Q", "shade-quarantine"),
            Shade::Recalled => ("#fbe4e4", "#a4161a", "✕", "shade-recalled"),
            Shade::OnHold => ("#f3d9fa", "#862e9c", "H", "shade-on-hold"),
            Shade::Expired => ("#dfe3e8", "#3e4650", "EXP", "shade-expired"),
            Shade::Other => ("#e8eefc", "#3b5bdb", "·", "shade-other"),
            Shade::Empty => ("#ffffff", "#b8c0c8", "", "shade-empty"),
        };
        (fill, outline, mark, t(key))
    }
}

const CELL: u32 = 44;
const GAP: u32 = 4;
const MARGIN: u32 = 26;
const LEGEND_ROW: u32 = 24;

/// The box map of a `rows` × `cols` box holding `vials`; `expiry` is each
/// lot's expiry by lot id.
pub fn box_map(
    rows: u8,
    cols: u8,
    vials: &[vial::Model],
    expiry: &HashMap<Uuid, DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Markup {
    let at: HashMap<String, &vial::Model> = vials
        .iter()
        .filter_map(|v| v.position.clone().map(|p| (p, v)))
        .collect();
    let next = next_free(rows, cols, |p| at.contains_key(&p.to_string()));
    let shade_of = |v: &vial::Model| Shade::of(v.status, expiry.get(&v.lot_id).copied(), now);
    let mut counts: HashMap<Shade, usize> = HashMap::new();
    for v in vials {
        *counts.entry(shade_of(v)).or_default() += 1;
    }
    let step = CELL + GAP;
    let grid_w = MARGIN + u32::from(cols) * step;
    let grid_h = MARGIN + u32::from(rows) * step;
    let legend: Vec<Shade> = [
        Shade::Available,
        Shade::Reserved,
        Shade::Quarantine,
        Shade::Recalled,
        Shade::OnHold,
        Shade::Expired,
        Shade::Other,
        Shade::Empty,
    ]
    .into_iter()
    .filter(|s| matches!(s, Shade::Available | Shade::Empty) || counts.contains_key(s))
    .collect();
    let empty = usize::from(rows) * usize::from(cols) - at.len();
    let legend_top = grid_h + 12;
    let height = legend_top + (legend.len() as u32 + 1) * LEGEND_ROW;
    let width = grid_w.max(340);
    let counted = [
        ("rows", arg(rows)),
        ("cols", arg(cols)),
        ("vials", arg(at.len())),
        ("empty", arg(empty)),
    ];
    let title = match next {
        Some(p) => {
            let mut args = counted.to_vec();
            args.push(("position", arg(p)));
            t_with("box-title-next", &args)
        }
        None => t_with("box-title", &counted),
    };
    html! {
        svg class="boxmap" xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(title)
            width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } {
            title { (title) }
            @for c in 1..=cols {
                text x=(MARGIN + (u32::from(c) - 1) * step + CELL / 2) y="16" text-anchor="middle" { (c) }
            }
            @for r in 0..rows {
                @let y = MARGIN + u32::from(r) * step;
                text x="10" y=(y + CELL / 2 + 4) text-anchor="middle" { (char::from(b'A' + r)) }
                @for c in 1..=cols {
                    @let position = Position { row: r, col: c };
                    @let name = position.to_string();
                    @let x = MARGIN + (u32::from(c) - 1) * step;
                    @match at.get(&name) {
                        Some(v) => {
                            @let shade = shade_of(v);
                            @let (fill, outline, mark, words) = shade.look();
                            a href={ "/vials/" (v.id) } {
                                rect x=(x) y=(y) width=(CELL) height=(CELL) rx="4" fill=(fill) stroke=(outline) stroke-width="1.5" data-position=(name) data-shade=(words) {
                                    title { (name) " · " (v.code) " · " (words) }
                                }
                                text x=(x + CELL / 2) y=(y + 16) text-anchor="middle" font-size="10" fill=(outline) { (name) }
                                text x=(x + CELL / 2) y=(y + 34) text-anchor="middle" font-size="14" font-weight="700" fill=(outline) { (mark) }
                            }
                        }
                        None => {
                            @let is_next = next == Some(position);
                            rect x=(x) y=(y) width=(CELL) height=(CELL) rx="4" fill="#ffffff"
                                stroke=(if is_next { "#0b5cad" } else { "#b8c0c8" })
                                stroke-width=(if is_next { "3" } else { "1" })
                                stroke-dasharray=[(!is_next).then_some("3 3")]
                                id=[is_next.then_some("next-free")] data-position=(name) {
                                title { (name) " · " (t("box-empty")) @if is_next { " · " (t("box-next-free")) } }
                            }
                            text x=(x + CELL / 2) y=(y + 16) text-anchor="middle" font-size="10" fill="#5b6470" { (name) }
                            @if is_next {
                                text x=(x + CELL / 2) y=(y + 34) text-anchor="middle" font-size="10" font-weight="700" fill="#0b5cad" { (t("box-next")) }
                            }
                        }
                    }
                }
            }
            @for (i, shade) in legend.iter().enumerate() {
                @let (fill, outline, mark, words) = shade.look();
                @let y = legend_top + i as u32 * LEGEND_ROW;
                @let n = if *shade == Shade::Empty { empty } else { counts.get(shade).copied().unwrap_or(0) };
                rect x="0" y=(y) width="18" height="18" rx="3" fill=(fill) stroke=(outline) {}
                text x="9" y=(y + 13) text-anchor="middle" font-size="10" font-weight="700" fill=(outline) { (mark) }
                text x="26" y=(y + 13) class="legend" { (words) " (" (n) ")" }
            }
            @if let Some(p) = next {
                @let y = legend_top + legend.len() as u32 * LEGEND_ROW;
                rect x="0" y=(y) width="18" height="18" rx="3" fill="#ffffff" stroke="#0b5cad" stroke-width="3" {}
                text x="26" y=(y + 13) class="legend" { (t_with("box-next-free-at", &[("position", arg(p))])) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::codes::VialCode;
    use crate::domain::quantity::{Cells, Microlitres};

    fn vial(position: &str, status: VialStatus, lot_id: Uuid) -> vial::Model {
        vial::Model {
            id: Uuid::now_v7(),
            lot_id,
            code: VialCode::from_stored(format!("A999926000001-L01-V{position}")),
            din: "A999926000001".into(),
            status,
            cells_per_vial: Cells::parse(25_000_000).unwrap(),
            volume_ul: Microlitres::parse(1_500).unwrap(),
            frozen_at: Utc::now(),
            box_id: Some(Uuid::now_v7()),
            position: Some(position.into()),
            labels_issued: 1,
            created_at: Utc::now(),
            previous_box_id: None,
            previous_position: None,
            site_id: crate::domain::site::DEFAULT_SITE_ID,
            shipment_id: None,
            held_from: None,
        }
    }

    /// Every element opened is closed, in order: well-formed for a browser
    /// and for the tests that read it.
    fn well_formed(svg: &str) -> bool {
        let mut open: Vec<String> = Vec::new();
        for tag in svg.split('<').skip(1) {
            let tag = tag.split('>').next().unwrap_or("");
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if tag.starts_with('/') {
                if open.pop().as_deref() != Some(name.as_str()) {
                    return false;
                }
            } else if !tag.ends_with('/') {
                open.push(name);
            }
        }
        open.is_empty()
    }

    #[test]
    fn each_position_says_what_its_vial_may_be_used_for() {
        let now = Utc::now();
        let (good, old) = (Uuid::now_v7(), Uuid::now_v7());
        let expiry = HashMap::from([
            (good, now + Duration::days(90)),
            (old, now - Duration::hours(1)),
        ]);
        let vials = vec![
            vial("A1", VialStatus::Available, good),
            vial("A2", VialStatus::Recalled, old),
            vial("B1", VialStatus::Reserved, good),
            vial("B2", VialStatus::Available, old),
            vial("B3", VialStatus::Quarantine, good),
        ];
        let svg = box_map(3, 3, &vials, &expiry, now).into_string();
        assert!(well_formed(&svg), "{svg}");
        for (position, words, mark) in [
            ("A1", "available", "✓"),
            ("A2", "recalled: do not use", "✕"),
            ("B1", "reserved for a dose", "R"),
            ("B2", "expired: do not use", "EXP"),
            ("B3", "quarantine: not released", "Q"),
        ] {
            assert!(
                svg.contains(&format!(
                    "data-position=\"{position}\" data-shade=\"{words}\""
                )),
                "{position}: {svg}"
            );
            assert!(svg.contains(&format!(">{mark}</text>")), "{mark}");
        }
        // the next free position: A3, outlined and said in words
        assert!(
            svg.contains("id=\"next-free\" data-position=\"A3\""),
            "{svg}"
        );
        assert!(svg.contains("next free position: A3"));
        assert!(svg.contains("Box of 3 × 3: 5 vials, 4 empty, next free A3"));
        // the legend counts each shade
        assert!(svg.contains("available (1)"));
        assert!(svg.contains("expired: do not use (1)"));
        assert!(svg.contains("empty (4)"));
        // every full position links to its vial
        assert_eq!(svg.matches("<a href=\"/vials/").count(), 5);
    }

    #[test]
    fn a_full_box_has_no_next_free_position() {
        let now = Utc::now();
        let lot = Uuid::now_v7();
        let vials: Vec<_> = ["A1", "A2", "B1", "B2"]
            .iter()
            .map(|p| vial(p, VialStatus::Available, lot))
            .collect();
        let svg = box_map(2, 2, &vials, &HashMap::new(), now).into_string();
        assert!(well_formed(&svg));
        assert!(!svg.contains("next-free"));
        assert!(svg.contains("4 vials, 0 empty"));
    }

    #[test]
    fn recalled_wins_over_expired_and_expiry_is_the_servers_now() {
        let now = Utc::now();
        let past = Some(now - Duration::seconds(1));
        assert_eq!(Shade::of(VialStatus::Recalled, past, now), Shade::Recalled);
        // a held vial shows held, expired or not
        assert_eq!(Shade::of(VialStatus::OnHold, past, now), Shade::OnHold);
        assert_eq!(Shade::of(VialStatus::OnHold, None, now), Shade::OnHold);
        assert_eq!(Shade::of(VialStatus::Available, past, now), Shade::Expired);
        assert_eq!(
            Shade::of(VialStatus::Available, Some(now), now),
            Shade::Expired
        );
        assert_eq!(
            Shade::of(VialStatus::Available, Some(now + Duration::seconds(1)), now),
            Shade::Available
        );
        assert_eq!(Shade::of(VialStatus::Thawed, None, now), Shade::Other);
    }
}

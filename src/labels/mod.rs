//! Labels: layouts read from the `labels/` folder, composed into positioned
//! QR modules and text, and rendered as PNG (raster, at the layout's dpi),
//! SVG (vector, text as text), ZPL II (Zebra printers) and PDF (one label
//! on a page its size, or a sheet of vial labels on office paper).
//!
//! A label carries codes only (a storage box's label: its path of unit
//! names and its grid). Its QR encodes the record's scan payload
//! (`domain::scan`), which `POST /api/v1/scan` resolves; a donation's DIN
//! label, whose record has no payload kind, encodes the DIN with its check
//! character, which the scan station reads the same way. Rendering is pure:
//! data in, bytes out; loading the data is `services::labels`.

pub mod compose;
pub mod font;
pub mod layout;
pub mod pdf;
pub mod png;
pub mod svg;
pub mod zpl;

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::labels::compose::{Composed, compose};
use crate::labels::layout::{Layout, LayoutError, SheetLayout};

/// The investigational-use statement of 21 CFR 312.6(a), printed on every
/// product label.
pub const CAUTION: &str =
    "Caution: New Drug—Limited by Federal (or United States) law to investigational use";

/// The band across every label made from a demo database, so a demo label
/// can never be taken for a real product's.
pub const DEMO_BAND: &str = "DEMO — NOT FOR CLINICAL USE";
/// The band in ZPL: ASCII only, as a Zebra printer's resident font may lack
/// the em dash.
pub const DEMO_BAND_ASCII: &str = "DEMO - NOT FOR CLINICAL USE";

/// What a label is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    Vial,
    Lot,
    Wristband,
    Dose,
    /// A donation's DIN label (the cord's bag, tubes and paperwork).
    Donation,
    /// A storage box's side label: where the box belongs and its grid.
    Box,
    /// A shipping container's (dry shipper's) side label: its code.
    Shipper,
}

impl LabelKind {
    pub const ALL: [LabelKind; 7] = [
        LabelKind::Vial,
        LabelKind::Lot,
        LabelKind::Wristband,
        LabelKind::Dose,
        LabelKind::Donation,
        LabelKind::Box,
        LabelKind::Shipper,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LabelKind::Vial => "vial",
            LabelKind::Lot => "lot",
            LabelKind::Wristband => "wristband",
            LabelKind::Dose => "dose",
            LabelKind::Donation => "donation",
            LabelKind::Box => "box",
            LabelKind::Shipper => "shipper",
        }
    }
}

/// The fields a label of this kind may print.
pub fn fields_of(kind: LabelKind) -> &'static [&'static str] {
    match kind {
        LabelKind::Vial => &[
            "vial_code",
            "din",
            "din_display",
            "din_check",
            "product_code",
            "lot_code",
            "cells_per_vial",
            "cells_per_vial_millions",
            "volume",
            "frozen_date",
            "expiry_date",
            "caution",
            "scan_payload",
        ],
        LabelKind::Lot => &[
            "lot_code",
            "din",
            "din_display",
            "din_check",
            "product_code",
            "passage",
            "vial_count",
            "cells_per_vial_millions",
            "volume",
            "manufactured_date",
            "frozen_date",
            "expiry_date",
            "caution",
            "scan_payload",
        ],
        // The wristband is worn by the patient: it prints the subject code
        // and, as the second identifier people read at the bedside, the
        // birth date. Its QR carries the subject code only.
        // It prints the Chain of Identity identifier too (never in the QR).
        LabelKind::Wristband => &[
            "subject_code",
            "birth_date",
            "trial_id",
            "coi",
            "coi_display",
            "coi_check",
            "scan_payload",
        ],
        LabelKind::Dose => &[
            "subject_code",
            "dose_code",
            "infusion_number",
            "infusions_total",
            "target_cells_millions",
            "min_cells_millions",
            "max_cells_millions",
            "cells_to_administer_millions",
            "volume",
            "lot_code",
            "product_code",
            "din",
            "din_display",
            "din_check",
            "coi",
            "coi_display",
            "coi_check",
            "vial_codes",
            "thawed_at",
            "use_by",
            "birth_date",
            "viability",
            "concentration",
            "trial_id",
            "caution",
            "scan_payload",
        ],
        // The DIN and its dates: codes only, as every label (no donor or
        // mother's name, birth date or record number).
        LabelKind::Donation => &[
            "din",
            "din_display",
            "din_check",
            "collected_date",
            "received_date",
            "caution",
            "scan_payload",
        ],
        // Where the box belongs (its path of unit names) and its grid;
        // the QR carries the box's id. Nothing about what is inside.
        LabelKind::Box => &["box_name", "box_path", "grid", "scan_payload"],
        // The container's code as written on it, and the site it belongs
        // to; nothing about the shipment or the vials inside.
        LabelKind::Shipper => &["container_code", "site_name", "scan_payload"],
    }
}

/// The content of one label: its QR payload and its named fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelData {
    pub kind: LabelKind,
    pub payload: String,
    pub fields: HashMap<&'static str, String>,
    /// Made from a demo database: the label carries the [`DEMO_BAND`].
    pub demo: bool,
}

impl LabelData {
    pub fn new(kind: LabelKind, payload: String) -> Self {
        let mut fields = HashMap::new();
        fields.insert("caution", CAUTION.to_owned());
        fields.insert("scan_payload", payload.clone());
        LabelData {
            kind,
            payload,
            fields,
            demo: false,
        }
    }

    pub fn set(&mut self, field: &'static str, value: impl Into<String>) {
        debug_assert!(fields_of(self.kind).contains(&field), "{field}");
        self.fields.insert(field, value.into());
    }
}

/// A label file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Png,
    Svg,
    Zpl,
    Pdf,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Svg => "image/svg+xml",
            Format::Zpl => "application/zpl; charset=utf-8",
            Format::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
            Format::Zpl => "zpl",
            Format::Pdf => "pdf",
        }
    }
}

/// A label that cannot be rendered with this layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the payload does not fit in a QR symbol: {0}")]
    Qr(String),
    #[error(
        "the {kind} layout leaves room for a {room}-module QR symbol; this payload needs {needed}"
    )]
    QrTooLarge {
        kind: &'static str,
        room: u32,
        needed: u32,
    },
    #[error("a PDF sheet holds only {0} labels")]
    NotASheetLabel(&'static str),
    /// ZPL only: the printer's resident font is sure to print ASCII only
    /// (`zpl::printable`).
    #[error(
        "a Zebra printer's resident font cannot print “{character}” (U+{:04X}) in “{text}”; print this label as PNG or PDF instead",
        u32::from(*character)
    )]
    Unprintable { character: char, text: String },
}

/// The layouts in use, loaded and checked once at start.
#[derive(Debug, Clone)]
pub struct Labels {
    pub vial: Layout,
    pub lot: Layout,
    pub wristband: Layout,
    pub dose: Layout,
    pub donation: Layout,
    pub storage_box: Layout,
    pub shipper: Layout,
    pub sheet: SheetLayout,
    /// Where each layout came from, for the start-up log.
    pub sources: Vec<String>,
}

impl Labels {
    /// Reads the layouts from `dir` where it has them, else the built-in
    /// defaults, and checks each.
    pub fn load(dir: Option<&Path>) -> Result<Labels, LayoutError> {
        let mut sources = Vec::new();
        let mut read = |file: &str| -> Result<(String, String), LayoutError> {
            let (text, source) = layout::read(dir, file)?;
            sources.push(source.clone());
            Ok((text, source))
        };
        let mut layout = |file: &str| -> Result<Layout, LayoutError> {
            let (text, source) = read(file)?;
            Layout::parse(&source, &text)
        };
        let vial = layout("vial.toml")?;
        let lot = layout("lot.toml")?;
        let wristband = layout("wristband.toml")?;
        let dose = layout("dose.toml")?;
        let donation = layout("donation.toml")?;
        let storage_box = layout("box.toml")?;
        let shipper = layout("shipper.toml")?;
        let (text, source) = read("sheet.toml")?;
        let sheet = SheetLayout::parse(&source, &text, &vial)?;
        for (layout, file) in [
            (&vial, "vial.toml"),
            (&lot, "lot.toml"),
            (&wristband, "wristband.toml"),
            (&dose, "dose.toml"),
            (&donation, "donation.toml"),
            (&storage_box, "box.toml"),
            (&shipper, "shipper.toml"),
        ] {
            if layout.kind.as_str() != file.trim_end_matches(".toml") {
                return Err(LayoutError {
                    file: file.into(),
                    problem: format!("describes a {} label", layout.kind.as_str()),
                });
            }
        }
        let labels = Labels {
            vial,
            lot,
            wristband,
            dose,
            donation,
            storage_box,
            shipper,
            sheet,
            sources,
        };
        labels.check_samples()?;
        Ok(labels)
    }

    /// Composes a sample of each label kind (codes at their longest), so a
    /// layout edited into one that cannot hold its QR or text is refused at
    /// start, not found on the first print.
    fn check_samples(&self) -> Result<(), LayoutError> {
        for (kind, demo) in LabelKind::ALL
            .iter()
            .flat_map(|k| [(*k, false), (*k, true)])
        {
            let mut data = sample(kind);
            data.demo = demo;
            let composed = self.compose(&data).map_err(|e| LayoutError {
                file: format!("{}.toml", kind.as_str()),
                problem: e.to_string(),
            })?;
            // A layout's own text the Zebra font cannot print leaves PNG,
            // SVG and PDF working: said at start, refused on each ZPL print.
            if let (false, Err(problem)) = (demo, zpl::render(&composed)) {
                tracing::warn!(
                    layout = %format!("{}.toml", kind.as_str()),
                    "ZPL labels of this kind will be refused: {problem}"
                );
            }
        }
        Ok(())
    }

    /// The built-in layouts.
    pub fn builtin() -> Labels {
        Labels::load(None).expect("the built-in layouts are valid")
    }

    pub fn layout(&self, kind: LabelKind) -> &Layout {
        match kind {
            LabelKind::Vial => &self.vial,
            LabelKind::Lot => &self.lot,
            LabelKind::Wristband => &self.wristband,
            LabelKind::Dose => &self.dose,
            LabelKind::Donation => &self.donation,
            LabelKind::Box => &self.storage_box,
            LabelKind::Shipper => &self.shipper,
        }
    }

    /// Composes one label with its kind's layout.
    pub fn compose(&self, data: &LabelData) -> Result<Composed, RenderError> {
        compose(self.layout(data.kind), data)
    }

    /// One label as PNG, SVG, ZPL or PDF (a page the label's size).
    pub fn render(&self, data: &LabelData, format: Format) -> Result<Vec<u8>, RenderError> {
        let composed = self.compose(data)?;
        Ok(match format {
            Format::Png => png::render(&composed),
            Format::Svg => svg::render(&composed).into_bytes(),
            Format::Zpl => zpl::render(&composed)?.into_bytes(),
            Format::Pdf => pdf::label(&composed),
        })
    }

    /// A PDF sheet of labels of the sheet's kind, in the order given.
    pub fn sheet(&self, labels: &[LabelData]) -> Result<Vec<u8>, RenderError> {
        let composed = labels
            .iter()
            .map(|data| {
                if data.kind != self.sheet.label {
                    return Err(RenderError::NotASheetLabel(self.sheet.label.as_str()));
                }
                self.compose(data)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pdf::sheet(&self.sheet, &composed))
    }
}

/// A label of this kind with realistic data, codes at their longest: for
/// checking layouts and for previews.
pub fn sample(kind: LabelKind) -> LabelData {
    let (payload, fields): (&str, &[(&str, &str)]) = match kind {
        LabelKind::Vial => (
            "CT1:V:A999926000123-L01-V007",
            &[
                ("vial_code", "A999926000123-L01-V007"),
                ("lot_code", "A999926000123-L01"),
                ("cells_per_vial", "25\u{2009}000\u{2009}000"),
                ("frozen_date", "2026-11-25"),
            ],
        ),
        LabelKind::Lot => (
            "CT1:L:A999926000123-L01",
            &[
                ("lot_code", "A999926000123-L01"),
                ("passage", "3"),
                ("vial_count", "96"),
                ("manufactured_date", "2026-11-20"),
                ("frozen_date", "2026-11-25"),
            ],
        ),
        // subject codes at their longest: 20 characters
        LabelKind::Wristband => (
            "CT1:P:PV-0000000000000007",
            &[
                ("subject_code", "PV-0000000000000007"),
                ("birth_date", "1980-02-29"),
                ("trial_id", "NCT02491658"),
                ("coi", "CHA999926000001"),
                ("coi_display", "CH A9999 26 000001"),
                ("coi_check", "*"),
            ],
        ),
        LabelKind::Dose => (
            "CT1:D:PV-0000000000000007-D99",
            &[
                ("subject_code", "PV-0000000000000007"),
                ("dose_code", "PV-0000000000000007-D99"),
                ("infusion_number", "6"),
                ("infusions_total", "6"),
                ("target_cells_millions", "250 × 10⁶"),
                ("min_cells_millions", "225 × 10⁶"),
                ("max_cells_millions", "275 × 10⁶"),
                ("cells_to_administer_millions", "250.4 × 10⁶"),
                ("volume", "15.6 mL"),
                ("lot_code", "A999926000123-L01"),
                ("coi", "CHA999926000001"),
                ("coi_display", "CH A9999 26 000001"),
                ("coi_check", "*"),
                (
                    "vial_codes",
                    "A999926000123-L01-V001, -V002, -V003, -V004, -V005, -V006, -V007, -V008, -V009, -V010, -V011, -V012, -V013",
                ),
                ("thawed_at", "2026-11-25 14:05 +08:00"),
                ("use_by", "2026-11-25 17:05 +08:00"),
                ("birth_date", "1980-02-29"),
                ("viability", "88.5–92.0 %"),
                ("concentration", "16.05 × 10⁶/mL"),
                ("trial_id", "NCT02491658"),
            ],
        ),
        // the DIN with its check character: the payload is the code itself
        LabelKind::Donation => (
            "A999926000123K",
            &[
                ("collected_date", "2026-11-20"),
                ("received_date", "2026-11-20"),
            ],
        ),
        // a box's id; unit names are up to 100 characters, a path of
        // three of them wraps and shrinks
        LabelKind::Box => (
            "CT1:B:0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B",
            &[
                ("box_name", "Box 12"),
                (
                    "box_path",
                    "Liquid nitrogen tank 1 (cord blood MSC)\u{a0}› Rack A (upper shelf)\u{a0}› Box\u{a0}12",
                ),
                ("grid", "9 × 9"),
            ],
        ),
        // a container's code at its longest: 32 characters
        LabelKind::Shipper => (
            "CT1:S:DS-00000000000000000000000000007",
            &[
                ("container_code", "DS-00000000000000000000000000007"),
                (
                    "site_name",
                    "Beijing Cell Therapy Manufacturing Centre (GMP)",
                ),
            ],
        ),
    };
    let mut data = LabelData::new(kind, payload.to_owned());
    for (field, value) in [
        ("din", "A999926000123"),
        ("din_display", "A9999 26 000123"),
        ("din_check", "K"),
        ("product_code", "S1395"),
        ("cells_per_vial_millions", "25 × 10⁶"),
        ("volume", "1.5 mL"),
        ("expiry_date", "2027-11-25"),
    ]
    .iter()
    .chain(fields)
    {
        let known = fields_of(kind).iter().find(|f| *f == field);
        if let Some(known) = known {
            data.set(known, *value);
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_layouts_load() {
        let labels = Labels::builtin();
        assert_eq!(labels.sources.len(), 8);
        assert!(labels.sources[0].contains("built in"));
    }

    #[test]
    fn a_layout_folder_overrides_the_built_in_file() {
        let dir = tempfile::tempdir().unwrap();
        let custom = layout::DEFAULTS[0].1.replace(
            "value = \"Frozen {frozen_date}\"",
            "value = \"Gefroren {frozen_date}\"",
        );
        std::fs::write(dir.path().join("vial.toml"), custom).unwrap();
        let labels = Labels::load(Some(dir.path())).unwrap();
        assert!(
            labels
                .vial
                .text
                .iter()
                .any(|t| t.value.starts_with("Gefroren"))
        );
        assert!(labels.sources[0].ends_with("vial.toml"));
        assert!(labels.sources[1].contains("built in"));
        std::fs::write(dir.path().join("lot.toml"), "kind = \"lot\"").unwrap();
        let error = Labels::load(Some(dir.path())).unwrap_err();
        assert!(error.file.ends_with("lot.toml"), "{error}");
    }
}

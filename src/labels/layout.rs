//! Label layouts as data: TOML files in the `labels/` folder describe each
//! label's size, resolution, QR placement and text lines (from named
//! fields), and the printable sheet. A lab adapts a layout by editing the
//! file and restarting; the binary carries the same files as defaults, so it
//! also runs where the folder is not.

use std::path::Path;

use serde::Deserialize;

use crate::labels::{LabelKind, fields_of};

/// One label: size, QR and text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// What the label is for; decides which fields its text may use.
    pub kind: LabelKind,
    #[serde(default)]
    pub description: String,
    /// Size in printer dots.
    pub width: u32,
    pub height: u32,
    /// Dots per inch of the printer (and of the PNG).
    pub dpi: u32,
    pub qr: QrBox,
    #[serde(default)]
    pub text: Vec<TextBox>,
}

/// Where the QR symbol goes. `x`, `y` is the top-left corner of its quiet
/// zone; the symbol starts `quiet_zone` modules further in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrBox {
    pub x: u32,
    pub y: u32,
    /// Dots per module.
    pub module: u32,
    /// White modules around the symbol (ISO/IEC 18004 asks for 4).
    #[serde(default = "default_quiet_zone")]
    pub quiet_zone: u32,
    /// Error correction: `M`, `Q` or `H` (never `L` on a cryogenic label).
    #[serde(default)]
    pub ec: ErrorCorrection,
}

fn default_quiet_zone() -> u32 {
    4
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum ErrorCorrection {
    M,
    #[default]
    Q,
    H,
}

/// A line (or a few wrapped lines) of text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextBox {
    /// Literal text with `{field}` placeholders, e.g. `"Exp {expiry_date}"`.
    pub value: String,
    /// Top-left corner of the first line, in dots.
    pub x: u32,
    pub y: u32,
    /// Font size (the em) in dots.
    pub size: u32,
    #[serde(default)]
    pub bold: bool,
    /// The text shrinks (and, with `max_lines` > 1, wraps) to stay within
    /// this width; by default the rest of the label.
    pub max_width: Option<u32>,
    #[serde(default = "one")]
    pub max_lines: u32,
    /// Draws a box around the text, as ISBT 128 does for the check character.
    #[serde(default)]
    pub frame: bool,
}

fn one() -> u32 {
    1
}

/// Paper for label sheets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Paper {
    A4,
    Letter,
}

impl Paper {
    /// Width and height in PDF points (1/72 in).
    pub fn size_pt(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.276, 841.89),
            Paper::Letter => (612.0, 792.0),
        }
    }
}

/// A sheet of labels for an office printer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetLayout {
    pub paper: Paper,
    /// The label layout printed on the sheet.
    pub label: LabelKind,
    pub columns: u32,
    pub rows: u32,
    /// Corner of the first label from the page's top-left, in millimetres.
    pub left_mm: f32,
    pub top_mm: f32,
    /// From one label's corner to the next one's.
    pub pitch_x_mm: f32,
    pub pitch_y_mm: f32,
    /// Thin grey outlines to cut along.
    #[serde(default)]
    pub outline: bool,
}

pub const MM_TO_PT: f32 = 72.0 / 25.4;

/// A layout file that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("label layout {file}: {problem}")]
pub struct LayoutError {
    pub file: String,
    pub problem: String,
}

impl Layout {
    pub fn parse(file: &str, toml_text: &str) -> Result<Self, LayoutError> {
        let layout: Layout = toml::from_str(toml_text).map_err(|e| LayoutError {
            file: file.to_owned(),
            problem: e.to_string(),
        })?;
        layout.check().map_err(|problem| LayoutError {
            file: file.to_owned(),
            problem,
        })?;
        Ok(layout)
    }

    fn check(&self) -> Result<(), String> {
        if !(100..=1200).contains(&self.dpi) {
            return Err(format!("dpi {} is not 100 to 1200", self.dpi));
        }
        if !(50..=6000).contains(&self.width) || !(50..=6000).contains(&self.height) {
            return Err("width and height are 50 to 6000 dots".into());
        }
        let qr = &self.qr;
        if !(1..=40).contains(&qr.module) {
            return Err("qr.module is 1 to 40 dots".into());
        }
        if !(2..=10).contains(&qr.quiet_zone) {
            return Err("qr.quiet_zone is 2 to 10 modules (4 is the standard)".into());
        }
        let known = fields_of(self.kind);
        for (n, text) in self.text.iter().enumerate() {
            let which = format!("text {} ({:?})", n + 1, text.value);
            if !(6..=400).contains(&text.size) {
                return Err(format!("{which}: size is 6 to 400 dots"));
            }
            if text.x >= self.width || text.y + text.size > self.height {
                return Err(format!("{which}: starts outside the label"));
            }
            if let Some(max) = text.max_width
                && (max == 0 || text.x + max > self.width)
            {
                return Err(format!("{which}: max_width runs off the label"));
            }
            if !(1..=6).contains(&text.max_lines) {
                return Err(format!("{which}: max_lines is 1 to 6"));
            }
            for field in placeholders(&text.value)? {
                if !known.contains(&field) {
                    return Err(format!(
                        "{which}: unknown field {{{field}}}; a {} label knows {}",
                        self.kind.as_str(),
                        known.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }

    /// The dots per module and quiet zone, and the largest symbol (in
    /// modules) that still fits inside the label where the layout puts it.
    pub fn max_symbol_modules(&self) -> u32 {
        let room_x = self.width.saturating_sub(self.qr.x) / self.qr.module;
        let room_y = self.height.saturating_sub(self.qr.y) / self.qr.module;
        room_x.min(room_y).saturating_sub(2 * self.qr.quiet_zone)
    }
}

/// The `{field}` names in a template; `{{` and `}}` are literal braces.
pub fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        let after = &rest[open + 1..];
        if rest[open..].starts_with("{{") || rest[open..].starts_with("}}") {
            rest = &after[1..];
            continue;
        }
        if rest.as_bytes()[open] == b'}' {
            return Err(format!("unmatched }} in {template:?}"));
        }
        let close = after
            .find('}')
            .ok_or_else(|| format!("unclosed {{ in {template:?}"))?;
        names.push(&after[..close]);
        rest = &after[close + 1..];
    }
    Ok(names)
}

/// Fills a template's placeholders from `lookup`.
pub fn fill(template: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if rest[open..].starts_with("{{") || rest[open..].starts_with("}}") {
            out.push(rest.as_bytes()[open] as char);
            rest = &after[1..];
            continue;
        }
        match after.find('}') {
            Some(close) if rest.as_bytes()[open] == b'{' => {
                out.push_str(&lookup(&after[..close]).unwrap_or_default());
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

impl SheetLayout {
    pub fn parse(file: &str, toml_text: &str, label: &Layout) -> Result<Self, LayoutError> {
        let error = |problem: String| LayoutError {
            file: file.to_owned(),
            problem,
        };
        let sheet: SheetLayout = toml::from_str(toml_text).map_err(|e| error(e.to_string()))?;
        if sheet.label != label.kind {
            return Err(error(format!(
                "a sheet of {} labels is described, but only {} sheets are printed",
                sheet.label.as_str(),
                label.kind.as_str()
            )));
        }
        if !(1..=20).contains(&sheet.columns) || !(1..=40).contains(&sheet.rows) {
            return Err(error("1 to 20 columns and 1 to 40 rows".into()));
        }
        let (page_w, page_h) = sheet.paper.size_pt();
        let (label_w, label_h) = label_size_pt(label);
        let numbers = [
            sheet.left_mm,
            sheet.top_mm,
            sheet.pitch_x_mm,
            sheet.pitch_y_mm,
        ];
        if numbers.iter().any(|n| !n.is_finite() || *n < 0.0) {
            return Err(error("margins and pitches are millimetres ≥ 0".into()));
        }
        if sheet.pitch_x_mm * MM_TO_PT < label_w || sheet.pitch_y_mm * MM_TO_PT < label_h {
            return Err(error(format!(
                "the pitch is smaller than the label ({:.1} × {:.1} mm)",
                label_w / MM_TO_PT,
                label_h / MM_TO_PT
            )));
        }
        let right = sheet.left_mm * MM_TO_PT
            + (sheet.columns - 1) as f32 * sheet.pitch_x_mm * MM_TO_PT
            + label_w;
        let bottom = sheet.top_mm * MM_TO_PT
            + (sheet.rows - 1) as f32 * sheet.pitch_y_mm * MM_TO_PT
            + label_h;
        if right > page_w + 0.5 || bottom > page_h + 0.5 {
            return Err(error(format!(
                "{} × {} labels do not fit on {:?} paper",
                sheet.columns, sheet.rows, sheet.paper
            )));
        }
        Ok(sheet)
    }

    pub fn per_page(&self) -> usize {
        (self.columns * self.rows) as usize
    }
}

/// A label's printed size in PDF points.
pub fn label_size_pt(layout: &Layout) -> (f32, f32) {
    let scale = 72.0 / layout.dpi as f32;
    (layout.width as f32 * scale, layout.height as f32 * scale)
}

/// The default layouts, as shipped in `labels/`.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("vial.toml", include_str!("../../labels/vial.toml")),
    ("lot.toml", include_str!("../../labels/lot.toml")),
    (
        "wristband.toml",
        include_str!("../../labels/wristband.toml"),
    ),
    ("dose.toml", include_str!("../../labels/dose.toml")),
    ("sheet.toml", include_str!("../../labels/sheet.toml")),
    ("donation.toml", include_str!("../../labels/donation.toml")),
    ("box.toml", include_str!("../../labels/box.toml")),
    ("shipper.toml", include_str!("../../labels/shipper.toml")),
];

/// A layout file's text: from `dir` when it holds the file, else the
/// default compiled in. Says which.
pub fn read(dir: Option<&Path>, file: &str) -> Result<(String, String), LayoutError> {
    if let Some(dir) = dir {
        let path = dir.join(file);
        match std::fs::read_to_string(&path) {
            Ok(text) => return Ok((text, path.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(LayoutError {
                    file: path.display().to_string(),
                    problem: e.to_string(),
                });
            }
        }
    }
    let text = DEFAULTS
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, text)| (*text).to_owned())
        .ok_or_else(|| LayoutError {
            file: file.to_owned(),
            problem: "no such layout".into(),
        })?;
    Ok((text, format!("{file} (built in)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_and_filled() {
        assert_eq!(
            placeholders("Exp {expiry_date} {{literal}}").unwrap(),
            ["expiry_date"]
        );
        assert!(placeholders("{open").is_err());
        assert!(placeholders("close}").is_err());
        let filled = fill("Lot {lot_code} · {{x}} {missing}", |name| {
            (name == "lot_code").then(|| "A999926000123-L01".to_owned())
        });
        assert_eq!(filled, "Lot A999926000123-L01 · {x} ");
    }

    #[test]
    fn the_shipped_layouts_are_valid() {
        let vial = Layout::parse("vial.toml", DEFAULTS[0].1).unwrap();
        assert_eq!(vial.kind, LabelKind::Vial);
        let lot = Layout::parse("lot.toml", DEFAULTS[1].1).unwrap();
        assert_eq!(lot.kind, LabelKind::Lot);
        let sheet = SheetLayout::parse("sheet.toml", DEFAULTS[4].1, &vial).unwrap();
        assert!(sheet.per_page() >= 20);
        // a vial payload (28 alphanumeric characters) is a version 2 symbol
        // of 25 modules at M or Q; the layout must leave room for it
        assert!(vial.max_symbol_modules() >= 25);
        // a box payload (CT1:B: and a UUID, 42 characters) is version 3,
        // 29 modules, at Q
        let storage_box = Layout::parse("box.toml", DEFAULTS[6].1).unwrap();
        assert_eq!(DEFAULTS[6].0, "box.toml");
        assert_eq!(storage_box.kind, LabelKind::Box);
        assert!(storage_box.max_symbol_modules() >= 29);
    }

    #[test]
    fn broken_layouts_say_what_is_wrong() {
        let base = DEFAULTS[0].1;
        let unknown = base.replace("{vial_code}", "{patient_name}");
        let error = Layout::parse("vial.toml", &unknown).unwrap_err();
        assert!(
            error.problem.contains("unknown field {patient_name}"),
            "{error}"
        );
        let low = base.replace("ec = \"Q\"", "ec = \"L\"");
        assert!(Layout::parse("vial.toml", &low).is_err());
        let typo = format!("{base}\ncolour = \"red\"\n");
        assert!(Layout::parse("vial.toml", &typo).is_err());
    }

    #[test]
    fn a_sheet_that_does_not_fit_is_refused() {
        let vial = Layout::parse("vial.toml", DEFAULTS[0].1).unwrap();
        let crowded = DEFAULTS[4]
            .1
            .lines()
            .map(|l| {
                if l.starts_with("rows") {
                    "rows = 40"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let error = SheetLayout::parse("sheet.toml", &crowded, &vial).unwrap_err();
        assert!(error.problem.contains("do not fit"), "{error}");
    }
}

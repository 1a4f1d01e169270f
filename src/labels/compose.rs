//! A layout plus a label's data becomes what every format draws: the QR
//! symbol's modules at a position, and text runs already fitted (shrunk or
//! wrapped to their width) with the label font's own metrics.

use qrcode::{Color, EcLevel, QrCode};

use crate::labels::font::{Weight, face};
use crate::labels::layout::{ErrorCorrection, Layout, TextBox, fill};
use crate::labels::{DEMO_BAND, LabelData, RenderError};

/// Text never shrinks below this share of its layout size; a line still too
/// long is then wrapped or, as a last resort, drawn narrower than asked.
const MIN_SHRINK: f32 = 0.6;

/// One label, positioned, in printer dots.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    pub width: u32,
    pub height: u32,
    pub dpi: u32,
    pub qr: PlacedQr,
    pub texts: Vec<TextRun>,
    pub frames: Vec<Frame>,
    /// The payload the QR encodes.
    pub payload: String,
    /// On a label made from a demo database: the band that says so.
    pub band: Option<Band>,
}

/// The demo band: a black strip with its text in white, drawn over the
/// label's bottom edge beside the QR. Text lines it would cover (usually
/// the caution statement) are left out, so none hides under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    /// [`DEMO_BAND`], fitted and centred in the strip.
    pub text: TextRun,
}

/// The band takes this share of the label's height: on the shipped
/// layouts, the strip the caution statement fills.
const BAND_SHARE: u32 = 5;

/// The QR symbol: `size` × `size` modules, row by row, `true` for dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedQr {
    /// Top-left corner of the symbol itself (inside the quiet zone).
    pub x: u32,
    pub y: u32,
    pub module: u32,
    pub size: u32,
    pub dark: Vec<bool>,
    /// The error-correction letter (`M`, `Q`, `H`).
    pub ec: char,
}

impl PlacedQr {
    pub fn is_dark(&self, col: u32, row: u32) -> bool {
        self.dark[(row * self.size + col) as usize]
    }

    /// Horizontal runs of dark modules: `(row, first col, length)`. Drawing
    /// runs instead of single modules keeps vector output small.
    pub fn dark_runs(&self) -> Vec<(u32, u32, u32)> {
        let mut runs = Vec::new();
        for row in 0..self.size {
            let mut col = 0;
            while col < self.size {
                if self.is_dark(col, row) {
                    let start = col;
                    while col < self.size && self.is_dark(col, row) {
                        col += 1;
                    }
                    runs.push((row, start, col - start));
                } else {
                    col += 1;
                }
            }
        }
        runs
    }
}

/// A line of text: `x` and `baseline` in dots, `size` the em in dots.
#[derive(Debug, Clone, PartialEq)]
pub struct TextRun {
    pub text: String,
    pub x: f32,
    pub baseline: f32,
    pub size: f32,
    pub weight: Weight,
    /// Its measured width, and the width it must not pass.
    pub width: f32,
    pub max_width: f32,
}

/// A rectangle outline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    pub stroke: f32,
}

pub fn compose(layout: &Layout, data: &LabelData) -> Result<Composed, RenderError> {
    let qr = place_qr(layout, &data.payload)?;
    let mut texts = Vec::new();
    let mut frames = Vec::new();
    for text_box in &layout.text {
        let value = fill(&text_box.value, |name| data.fields.get(name).cloned());
        let runs = fit(layout, text_box, &value);
        if text_box.frame
            && let (Some(first), Some(last)) = (runs.first(), runs.last())
        {
            let f = face(first.weight);
            let pad = first.size * 0.18;
            let top = first.baseline - f.ascent(first.size);
            let bottom = last.baseline + f.descent(last.size) * 0.5;
            let width = runs.iter().map(|r| r.width).fold(0.0, f32::max);
            frames.push(Frame {
                x: first.x - pad,
                y: top - pad * 0.5,
                width: width + 2.0 * pad,
                height: bottom - top + pad,
                stroke: (first.size / 12.0).max(1.0),
            });
        }
        texts.extend(runs);
    }
    let band = data.demo.then(|| demo_band(layout, &qr));
    if let Some(band) = &band {
        texts.retain(|run| !band.covers_run(run));
        frames.retain(|frame| !band.covers(frame.x, frame.y, frame.width, frame.height));
    }
    Ok(Composed {
        width: layout.width,
        height: layout.height,
        dpi: layout.dpi,
        qr,
        texts,
        frames,
        payload: data.payload.clone(),
        band,
    })
}

impl Band {
    /// Whether the rectangle overlaps the band.
    fn covers(&self, x: f32, y: f32, width: f32, height: f32) -> bool {
        x < self.x + self.width
            && x + width > self.x
            && y < self.y + self.height
            && y + height > self.y
    }

    fn covers_run(&self, run: &TextRun) -> bool {
        let f = face(run.weight);
        let top = run.baseline - f.ascent(run.size);
        let bottom = run.baseline + f.descent(run.size);
        self.covers(run.x, top, run.width, bottom - top)
    }
}

/// The strip along the label's bottom edge, a fifth of its height, from
/// the right of the QR's quiet zone where the QR reaches down into it (a
/// band must never cover the symbol or its quiet zone: the QR still scans).
fn demo_band(layout: &Layout, qr: &PlacedQr) -> Band {
    let height = (layout.height / BAND_SHARE).max(12);
    let y = layout.height - height;
    let quiet = layout.qr.quiet_zone * qr.module;
    let qr_bottom = qr.y + qr.size * qr.module + quiet;
    let qr_right = qr.x + qr.size * qr.module + quiet;
    let x = if qr_bottom > y {
        qr_right.min(layout.width - 1)
    } else {
        0
    };
    let width = layout.width - x;
    let pad = height / 8;
    let text_box = TextBox {
        value: DEMO_BAND.to_owned(),
        x: x + pad,
        y: 0,
        size: (height * 3 / 5).max(6),
        bold: true,
        max_width: Some(width.saturating_sub(2 * pad).max(1)),
        max_lines: 1,
        frame: false,
    };
    let mut text = fit(layout, &text_box, DEMO_BAND)
        .pop()
        .expect("one line fitted");
    let f = face(text.weight);
    let line = f.ascent(text.size) + f.descent(text.size);
    text.baseline = y as f32 + (height as f32 - line) / 2.0 + f.ascent(text.size);
    text.x = x as f32 + (width as f32 - text.width) / 2.0;
    Band {
        x: x as f32,
        y: y as f32,
        width: width as f32,
        height: height as f32,
        text,
    }
}

fn place_qr(layout: &Layout, payload: &str) -> Result<PlacedQr, RenderError> {
    let (level, letter) = match layout.qr.ec {
        ErrorCorrection::M => (EcLevel::M, 'M'),
        ErrorCorrection::Q => (EcLevel::Q, 'Q'),
        ErrorCorrection::H => (EcLevel::H, 'H'),
    };
    let code = QrCode::with_error_correction_level(payload.as_bytes(), level)
        .map_err(|e| RenderError::Qr(e.to_string()))?;
    let size = code.width() as u32;
    let room = layout.max_symbol_modules();
    if size > room {
        return Err(RenderError::QrTooLarge {
            kind: layout.kind.as_str(),
            room,
            needed: size,
        });
    }
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    let inset = layout.qr.quiet_zone * layout.qr.module;
    Ok(PlacedQr {
        x: layout.qr.x + inset,
        y: layout.qr.y + inset,
        module: layout.qr.module,
        size,
        dark,
        ec: letter,
    })
}

/// Fits text into its box: at its size if it fits; else shrunk (down to
/// `MIN_SHRINK`); else wrapped at spaces over `max_lines`; else the last
/// line is drawn at the width allowed (the renderers compress it), so
/// nothing is ever cut off.
fn fit(layout: &Layout, text_box: &TextBox, value: &str) -> Vec<TextRun> {
    let weight = if text_box.bold {
        Weight::Bold
    } else {
        Weight::Regular
    };
    let f = face(weight);
    let max_width = text_box
        .max_width
        .unwrap_or(layout.width - text_box.x)
        .min(layout.width - text_box.x) as f32;
    let base = text_box.size as f32;
    let size;
    let lines = if text_box.max_lines <= 1 {
        // Widths scale linearly with the size: solve for it directly.
        let natural = f.measure(1.0, value);
        size = if natural * base <= max_width {
            base
        } else {
            (max_width / natural * 0.9999).max(base * MIN_SHRINK)
        };
        vec![value.to_owned()]
    } else {
        let mut trial = base;
        loop {
            let lines = wrap(value, text_box.max_lines as usize, |s| {
                f.measure(trial, s) <= max_width
            });
            let fits = lines.iter().all(|l| f.measure(trial, l) <= max_width);
            if fits || trial <= base * MIN_SHRINK {
                size = trial;
                break lines;
            }
            trial = (trial - 0.5).max(base * MIN_SHRINK);
        }
    };
    let line_height = size * 1.15;
    let top = text_box.y as f32;
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| TextRun {
            width: f.measure(size, &line).min(max_width),
            baseline: top + f.ascent(size) + i as f32 * line_height,
            x: text_box.x as f32,
            size,
            weight,
            max_width,
            text: line,
        })
        .collect()
}

/// Greedy word wrap into at most `max_lines` lines; what does not fit in
/// the last line stays on it.
fn wrap(text: &str, max_lines: usize, fits: impl Fn(&str) -> bool) -> Vec<String> {
    if max_lines <= 1 || fits(text) {
        return vec![text.to_owned()];
    }
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if fits(&candidate) || current.is_empty() || lines.len() + 1 == max_lines {
            current = candidate;
        } else {
            lines.push(std::mem::replace(&mut current, word.to_owned()));
        }
    }
    lines.push(current);
    lines
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::labels::{CAUTION, LabelKind, Labels};

    pub(crate) fn sample_vial() -> LabelData {
        crate::labels::sample(LabelKind::Vial)
    }

    #[test]
    fn every_line_stays_inside_the_label() {
        let labels = Labels::builtin();
        let composed = labels.compose(&sample_vial()).unwrap();
        assert_eq!(composed.qr.size, 25);
        let qr_right = composed.qr.x + composed.qr.size * composed.qr.module;
        for run in &composed.texts {
            assert!(run.width <= run.max_width + 0.01, "{run:?}");
            assert!(run.x + run.width <= composed.width as f32, "{run:?}");
            assert!(run.baseline < composed.height as f32, "{run:?}");
            // text beside the QR never overlaps it
            if run.baseline < (composed.qr.y + composed.qr.size * composed.qr.module) as f32 {
                assert!(run.x >= qr_right as f32, "{run:?}");
            }
        }
        // the caution statement is all there, over two lines
        let caution: Vec<_> = composed
            .texts
            .iter()
            .filter(|r| CAUTION.contains(r.text.as_str()))
            .collect();
        assert_eq!(caution.len(), 2);
        let joined = format!("{} {}", caution[0].text, caution[1].text);
        assert_eq!(joined, CAUTION);
        assert_eq!(composed.frames.len(), 1);
    }

    #[test]
    fn long_text_shrinks_then_wraps_and_is_never_cut() {
        let lines = wrap("aa bb cc dd", 2, |s| s.len() <= 5);
        assert_eq!(lines, ["aa bb", "cc dd"]);
        let lines = wrap("aa bb cc dd ee", 2, |s| s.len() <= 5);
        assert_eq!(lines, ["aa bb", "cc dd ee"]);
        let lines = wrap("unbreakable", 3, |s| s.len() <= 5);
        assert_eq!(lines, ["unbreakable"]);
    }

    #[test]
    fn a_demo_label_carries_the_band_clear_of_the_qr_on_every_kind() {
        let labels = Labels::builtin();
        for kind in LabelKind::ALL {
            let mut data = crate::labels::sample(kind);
            let real = labels.compose(&data).unwrap();
            assert!(real.band.is_none(), "{kind:?}");
            data.demo = true;
            let demo = labels.compose(&data).unwrap();
            let band = demo.band.as_ref().expect("a demo label has the band");
            assert_eq!(band.text.text, DEMO_BAND);
            // the band lies inside the label, its text inside the band
            assert!(band.x >= 0.0 && band.x + band.width <= demo.width as f32);
            assert!(band.y + band.height <= demo.height as f32);
            assert!(band.text.x >= band.x && band.text.x + band.text.width <= band.x + band.width);
            assert!(band.text.baseline < band.y + band.height && band.text.baseline > band.y);
            // never over the QR or its quiet zone: the payload is unchanged
            let quiet = labels.layout(kind).qr.quiet_zone * demo.qr.module;
            let qr_right = (demo.qr.x + demo.qr.size * demo.qr.module + quiet) as f32;
            let qr_bottom = (demo.qr.y + demo.qr.size * demo.qr.module + quiet) as f32;
            assert!(
                band.x >= qr_right || band.y >= qr_bottom,
                "{kind:?}: {band:?}"
            );
            assert_eq!(demo.qr, real.qr);
            assert_eq!(demo.payload, real.payload);
            // no text line hides under it
            for run in &demo.texts {
                assert!(!band.covers_run(run), "{kind:?}: {run:?}");
            }
            // (the wristband and the box label keep every line clear of it)
            assert!(
                demo.texts.len() < real.texts.len()
                    || matches!(kind, LabelKind::Wristband | LabelKind::Box)
            );
        }
    }

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let labels = Labels::builtin();
        let qr = labels.compose(&sample_vial()).unwrap().qr;
        let dark = qr.dark.iter().filter(|d| **d).count() as u32;
        let in_runs: u32 = qr.dark_runs().iter().map(|(_, _, n)| n).sum();
        assert_eq!(dark, in_runs);
    }
}

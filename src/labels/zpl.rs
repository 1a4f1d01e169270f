//! ZPL II for Zebra label printers: one `^XA … ^XZ` format with the QR
//! (`^BQN`, model 2) and the text fields in the printer's resident scalable
//! font 0 (`^A0`, CG Triumvirate Bold Condensed).
//!
//! Font 0 is only sure to print ASCII: which other glyphs it has depends on
//! the printer's firmware and fonts, and a missing glyph prints as nothing,
//! so "25 × 10⁶ cells" could come out as "25 10 cells". Every text is
//! therefore written in printable ASCII: the symbols labels use have an
//! ASCII spelling ([`printable`]: `25 x 10^6`, `uL`, `-`, `|`, `<=`), and a
//! character without one (a site's layout text in Chinese, say) refuses the
//! ZPL label with the character named, never prints it wrong; PNG, SVG and
//! PDF print every character. Field data is hex-escaped (`^FH`), so no text
//! can break out of its field; `^CI28` (UTF-8) is declared, which for ASCII
//! is ASCII.

use std::borrow::Cow;
use std::fmt::Write;

use crate::labels::compose::{Composed, TextRun};
use crate::labels::font::face;
use crate::labels::{DEMO_BAND_ASCII, RenderError};

/// `^BQ` magnifies 1 to 10 dots a module.
const MAX_MAGNIFICATION: u32 = 10;
/// The printer font's average character width as a share of its height,
/// used to narrow a line that the label font fits into its width.
const FONT0_WIDTH_RATIO: f32 = 0.58;

pub fn render(label: &Composed) -> Result<String, RenderError> {
    let mut zpl = String::with_capacity(1024);
    let _ = write!(
        zpl,
        "^XA\n^CI28\n^PW{}\n^LL{}\n^LH0,0\n",
        label.width, label.height
    );
    let qr = &label.qr;
    let _ = writeln!(
        zpl,
        "^FO{},{}^BQN,2,{}^FD{}A,{}^FS",
        qr.x,
        qr.y,
        qr.module.clamp(1, MAX_MAGNIFICATION),
        qr.ec,
        field_data(&label.payload)
    );
    for run in &label.texts {
        let value = printable(&run.text).map_err(|character| RenderError::Unprintable {
            character,
            text: run.text.clone(),
        })?;
        text(&mut zpl, run, &value, "");
    }
    for frame in &label.frames {
        let _ = writeln!(
            zpl,
            "^FO{},{}^GB{},{},{}^FS",
            frame.x.max(0.0).round(),
            frame.y.max(0.0).round(),
            frame.width.round(),
            frame.height.round(),
            frame.stroke.round().max(1.0)
        );
    }
    if let Some(band) = &label.band {
        // A box whose border is as thick as the box is a filled one; the
        // text over it is printed reversed (`^FR`), white on black, in
        // ASCII (the resident font may lack the em dash).
        let height = band.height.round().max(1.0);
        let _ = writeln!(
            zpl,
            "^FO{},{}^GB{},{},{}^FS",
            band.x.round(),
            band.y.round(),
            band.width.round(),
            height,
            height
        );
        text(&mut zpl, &band.text, DEMO_BAND_ASCII, "^FR");
    }
    zpl.push_str("^PQ1\n^XZ\n");
    Ok(zpl)
}

/// `text` in printable ASCII, the only characters font 0 is sure to have:
/// each symbol labels use is spelt out (`×` as `x`, a superscript as `^`
/// and its digits, `µ` as `u`, dashes as `-`, `·` as `|`, `≤` as `<=`).
/// Any other character is the `Err`, for the caller to refuse the label.
pub fn printable(text: &str) -> Result<Cow<'_, str>, char> {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut superscript = false;
    for c in text.chars() {
        let raised = match c {
            '⁰' => Some('0'),
            '¹' => Some('1'),
            '²' => Some('2'),
            '³' => Some('3'),
            '⁴'..='⁹' => char::from_u32(u32::from(c) - 0x2074 + u32::from('4')),
            '⁻' => Some('-'),
            _ => None,
        };
        if let Some(digit) = raised {
            if !superscript {
                out.push('^');
            }
            out.push(digit);
            superscript = true;
            continue;
        }
        superscript = false;
        let spelt = match c {
            ' '..='~' => {
                out.push(c);
                continue;
            }
            '×' => "x",
            '·' | '•' | '∙' => "|",
            '—' | '–' | '−' | '‐' | '‑' | '‒' => "-",
            'µ' | 'μ' => "u",
            '°' => "deg",
            '≤' => "<=",
            '≥' => ">=",
            '±' => "+/-",
            '→' | '›' | '»' => ">",
            '←' | '‹' | '«' => "<",
            '‘' | '’' | '′' => "'",
            '“' | '”' | '″' => "\"",
            '…' => "...",
            '\u{a0}' | '\u{2007}' | '\u{2009}' | '\u{202f}' => " ",
            other => return Err(other),
        };
        out.push_str(spelt);
    }
    Ok(Cow::Owned(out))
}

/// One text field; `reverse` is `^FR` to print it white on black.
fn text(zpl: &mut String, run: &TextRun, value: &str, reverse: &str) {
    let f = face(run.weight);
    let top = (run.baseline - f.ascent(run.size)).max(0.0);
    let height = run.size.round().max(1.0);
    let estimate = value.chars().count() as f32 * FONT0_WIDTH_RATIO * height;
    let width = if estimate > run.max_width && estimate > 0.0 {
        (height * run.max_width / estimate).floor().max(1.0)
    } else {
        height
    };
    let _ = writeln!(
        zpl,
        "^FO{},{}^A0N,{},{}{reverse}^FH_^FD{}^FS",
        run.x.round(),
        top.round(),
        height,
        width,
        escape(value)
    );
}

/// The QR's data: payloads are QR-alphanumeric (`domain::scan`), which
/// holds no ZPL command character; anything else is dropped, never sent.
fn field_data(payload: &str) -> String {
    payload
        .chars()
        .filter(|c| !matches!(c, '^' | '~') && !c.is_control())
        .collect()
}

/// Escapes for `^FH_`: the command characters `^` and `~`, the escape `_`
/// itself and (never sent: [`printable`] comes first) any non-ASCII byte
/// become `_XX`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_ascii() && !matches!(c, '^' | '~' | '_') && !c.is_ascii_control() {
            out.push(c);
        } else if !c.is_control() {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "_{byte:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_text_cannot_break_out() {
        assert_eq!(escape("a^XZ~JR_b"), "a_5EXZ_7EJR_5Fb");
        assert_eq!(escape("25 × 10⁶"), "25 _C3_97 10_E2_81_B6");
        assert_eq!(field_data("CT1:V:X^XZ"), "CT1:V:XXZ");
    }

    #[test]
    fn the_demo_band_is_a_filled_box_with_reversed_ascii_text() {
        let labels = crate::labels::Labels::builtin();
        let mut data = crate::labels::sample(crate::labels::LabelKind::Vial);
        assert!(
            !render(&labels.compose(&data).unwrap())
                .unwrap()
                .contains("DEMO")
        );
        data.demo = true;
        let composed = labels.compose(&data).unwrap();
        let zpl = render(&composed).unwrap();
        let band = composed.band.unwrap();
        let height = band.height.round();
        assert!(zpl.contains(&format!(
            "^FO{},{}^GB{},{height},{height}^FS",
            band.x.round(),
            band.y.round(),
            band.width.round()
        )));
        let line = zpl
            .lines()
            .find(|l| l.contains("^FR"))
            .expect("the band's text");
        assert!(
            line.ends_with("^FR^FH_^FDDEMO - NOT FOR CLINICAL USE^FS"),
            "{line}"
        );
        assert!(line.is_ascii());
        // printed after the box, so it reverses out of it
        assert!(zpl.find("^FR").unwrap() > zpl.find(&format!("{height},{height}^FS")).unwrap());
    }

    #[test]
    fn the_symbols_labels_use_are_spelt_in_ascii() {
        assert_eq!(printable("Lot A9-L01").unwrap(), "Lot A9-L01");
        assert!(matches!(printable("Lot A9-L01").unwrap(), Cow::Borrowed(_)));
        assert_eq!(
            printable("Give 2.5 mL · 250.4 × 10⁶ viable cells").unwrap(),
            "Give 2.5 mL | 250.4 x 10^6 viable cells"
        );
        assert_eq!(printable("16.05 × 10⁶/mL").unwrap(), "16.05 x 10^6/mL");
        assert_eq!(
            printable("10¹² · 10⁻³ · 2²").unwrap(),
            "10^12 | 10^-3 | 2^2"
        );
        assert_eq!(
            printable("500 µL — ≤ −150 °C").unwrap(),
            "500 uL - <= -150 degC"
        );
        assert_eq!(printable("New Drug—Limited").unwrap(), "New Drug-Limited");
        assert_eq!(printable("患者").unwrap_err(), '患');
        assert_eq!(printable("é").unwrap_err(), 'é');
        assert_eq!(printable("tab\there").unwrap_err(), '\t');
    }

    /// What a Zebra is sent, with every `^FH` escape read back: printable
    /// ASCII and line ends only.
    pub(crate) fn unprintable_in(zpl: &str) -> Vec<String> {
        let mut found = Vec::new();
        for (n, line) in zpl.lines().enumerate() {
            if let Some(c) = line.chars().find(|c| !(' '..='~').contains(c)) {
                found.push(format!("line {}: {c:?} in {line}", n + 1));
            }
            let mut rest = line;
            while let Some(at) = rest.find('_') {
                let hex = rest.get(at + 1..at + 3).unwrap_or("");
                if let Ok(byte) = u8::from_str_radix(hex, 16)
                    && !(0x20..0x7f).contains(&byte)
                {
                    found.push(format!("line {}: byte _{hex} in {line}", n + 1));
                }
                rest = &rest[at + 1..];
            }
        }
        found
    }

    #[test]
    fn every_zpl_label_sends_only_what_font_0_prints() {
        let labels = crate::labels::Labels::builtin();
        for kind in crate::labels::LabelKind::ALL {
            for demo in [false, true] {
                let mut data = crate::labels::sample(kind);
                data.demo = demo;
                let zpl = render(&labels.compose(&data).unwrap()).unwrap();
                let bad = unprintable_in(&zpl);
                assert!(bad.is_empty(), "{kind:?} demo={demo}: {bad:?}");
                // the samples are full of × 10⁶, µL and ·: spelt, not lost
                if kind == crate::labels::LabelKind::Dose {
                    // `^` is a ZPL command: sent escaped, printed as `^`
                    assert!(zpl.contains("x 10_5E6"), "{zpl}");
                    assert!(zpl.contains(" | "), "{zpl}");
                }
            }
        }
        assert!(!unprintable_in("^FH_^FD25 _C3_97 10^FS").is_empty());
        assert!(!unprintable_in("^FD25 × 10^FS").is_empty());
        assert!(unprintable_in("^FH_^FDa_5Eb_5F^FS").is_empty());
    }

    #[test]
    fn a_character_font_0_lacks_refuses_the_label_and_names_it() {
        let labels = crate::labels::Labels::builtin();
        let mut data = crate::labels::sample(crate::labels::LabelKind::Wristband);
        data.fields.insert("trial_id", "银屑病 UC-MSC".to_owned());
        let composed = labels.compose(&data).unwrap();
        let refused = render(&composed).unwrap_err();
        assert_eq!(
            refused,
            RenderError::Unprintable {
                character: '银',
                text: composed
                    .texts
                    .iter()
                    .find(|t| t.text.contains('银'))
                    .unwrap()
                    .text
                    .clone()
            }
        );
        assert!(refused.to_string().contains("PNG"), "{refused}");
        // over HTTP: a 422 naming the character, never a 500
        let error = crate::error::AppError::from(refused.clone());
        assert_eq!(error.status(), axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.code(), "label_unprintable");
        assert_eq!(error.details()["character"], "银");
        assert_eq!(error.to_string(), refused.to_string());
        // the other formats print it
        assert!(crate::labels::svg::render(&composed).contains('银'));
    }
}

//! ZPL II for Zebra label printers: one `^XA … ^XZ` format with the QR
//! (`^BQN`, model 2) and the text fields in the printer's scalable font.
//! Field data is hex-escaped (`^FH`), so no text can break out of its field,
//! and sent as UTF-8 (`^CI28`).

use std::fmt::Write;

use crate::labels::DEMO_BAND_ASCII;
use crate::labels::compose::{Composed, TextRun};
use crate::labels::font::face;

/// `^BQ` magnifies 1 to 10 dots a module.
const MAX_MAGNIFICATION: u32 = 10;
/// The printer font's average character width as a share of its height,
/// used to narrow a line that the label font fits into its width.
const FONT0_WIDTH_RATIO: f32 = 0.58;

pub fn render(label: &Composed) -> String {
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
        text(&mut zpl, run, &run.text, "");
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
    zpl
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
/// itself and every non-ASCII byte become `_XX`.
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
        assert!(!render(&labels.compose(&data).unwrap()).contains("DEMO"));
        data.demo = true;
        let composed = labels.compose(&data).unwrap();
        let zpl = render(&composed);
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
}

//! SVG: the label as vectors, sized in inches, with its text as text (so it
//! is searchable and scales cleanly). Each line carries its measured width
//! (`textLength`), so a viewer without the label font still keeps every line
//! inside the label.

use std::fmt::Write;

use crate::labels::compose::{Composed, TextRun};
use crate::labels::font::{CSS_FAMILY, face};

pub fn render(label: &Composed) -> String {
    let inches = |dots: u32| dots as f32 / label.dpi as f32;
    let mut svg = String::with_capacity(8 * 1024);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{:.3}in" height="{:.3}in" viewBox="0 0 {} {}">"#,
        inches(label.width),
        inches(label.height),
        label.width,
        label.height
    );
    let _ = write!(
        svg,
        r##"<title>{}</title><rect width="{}" height="{}" fill="#fff"/>"##,
        escape(&label.payload),
        label.width,
        label.height
    );
    let qr = &label.qr;
    svg.push_str(r##"<path fill="#000" shape-rendering="crispEdges" d=""##);
    for (row, col, len) in qr.dark_runs() {
        let _ = write!(
            svg,
            "M{} {}h{}v{}h-{}z",
            qr.x + col * qr.module,
            qr.y + row * qr.module,
            len * qr.module,
            qr.module,
            len * qr.module
        );
    }
    svg.push_str(r#""/>"#);
    for run in &label.texts {
        text(&mut svg, run, "#000");
    }
    for frame in &label.frames {
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#000" stroke-width="{:.1}"/>"##,
            frame.x + frame.stroke / 2.0,
            frame.y + frame.stroke / 2.0,
            frame.width - frame.stroke,
            frame.height - frame.stroke,
            frame.stroke
        );
    }
    if let Some(band) = &label.band {
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#000"/>"##,
            band.x, band.y, band.width, band.height
        );
        text(&mut svg, &band.text, "#fff");
    }
    svg.push_str("</svg>\n");
    svg
}

fn text(svg: &mut String, run: &TextRun, fill: &str) {
    let f = face(run.weight);
    let _ = write!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" font-family="{}" font-size="{:.1}" font-weight="{}" fill="{}" textLength="{:.1}" lengthAdjust="spacingAndGlyphs" xml:space="preserve">{}</text>"##,
        run.x,
        run.baseline,
        CSS_FAMILY,
        run.size,
        f.css_weight,
        fill,
        run.width,
        escape(&run.text)
    );
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\"\u{7}"), "a&lt;b &amp; &quot;c&quot;");
    }
}

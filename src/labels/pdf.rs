//! PDF sheets of labels for an office printer: labels in the grid of the
//! sheet layout, the QR as vector rectangles (sharp at any resolution) and
//! the text in the embedded label font, so the sheet looks like the PNG and
//! its text can be searched and copied (a ToUnicode map goes with the font).

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::labels::compose::{Composed, TextRun};
use crate::labels::font::{Face, Weight, face};
use crate::labels::layout::{MM_TO_PT, SheetLayout};

const FONT_NAMES: [&[u8]; 2] = [b"F1", b"F2"];
const WEIGHTS: [Weight; 2] = [Weight::Regular, Weight::Bold];

/// A sheet (one or more pages) of `labels`, in order, row by row.
pub fn sheet(layout: &SheetLayout, labels: &[Composed]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut new_ref = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog = new_ref();
    let pages = new_ref();
    let info = new_ref();
    let fonts: Vec<FontRefs> = WEIGHTS
        .iter()
        .map(|_| FontRefs::new(&mut new_ref))
        .collect();
    let page_count = labels.len().div_ceil(layout.per_page()).max(1);
    let page_refs: Vec<(Ref, Ref)> = (0..page_count).map(|_| (new_ref(), new_ref())).collect();

    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(page_count as i32);
    // The title a viewer shows in its title bar, in ASCII so it reads
    // the same in every viewer.
    let title = if labels.iter().any(|l| l.band.is_some()) {
        "DEMO - NOT FOR CLINICAL USE - Vial labels"
    } else {
        "Vial labels"
    };
    pdf.document_info(info)
        .producer(TextStr("celltrail"))
        .title(TextStr(title));

    let (page_w, page_h) = layout.paper.size_pt();
    let mut used: [BTreeMap<u16, char>; 2] = [BTreeMap::new(), BTreeMap::new()];
    for (index, (page_ref, content_ref)) in page_refs.iter().enumerate() {
        let mut content = Content::new();
        let on_page = labels
            .iter()
            .skip(index * layout.per_page())
            .take(layout.per_page());
        for (slot, label) in on_page.enumerate() {
            let col = slot as u32 % layout.columns;
            let row = slot as u32 / layout.columns;
            let left = (layout.left_mm + col as f32 * layout.pitch_x_mm) * MM_TO_PT;
            let top = (layout.top_mm + row as f32 * layout.pitch_y_mm) * MM_TO_PT;
            draw_label(
                &mut content,
                label,
                left,
                page_h - top,
                layout.outline,
                &mut used,
            );
        }
        let mut page = pdf.page(*page_ref);
        page.media_box(Rect::new(0.0, 0.0, page_w, page_h))
            .parent(pages)
            .contents(*content_ref);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (name, refs) in FONT_NAMES.iter().zip(&fonts) {
            font_dict.pair(Name(name), refs.type0);
        }
        font_dict.finish();
        resources.finish();
        page.finish();
        let compressed = deflate(&content.finish());
        pdf.stream(*content_ref, &compressed)
            .filter(Filter::FlateDecode);
    }
    for ((weight, refs), glyphs) in WEIGHTS.iter().zip(&fonts).zip(&used) {
        write_font(&mut pdf, face(*weight), refs, glyphs);
    }
    pdf.finish()
}

/// One label with its top-left corner at (`left`, `top`) in page points.
fn draw_label(
    content: &mut Content,
    label: &Composed,
    left: f32,
    top: f32,
    outline: bool,
    used: &mut [BTreeMap<u16, char>; 2],
) {
    let scale = 72.0 / label.dpi as f32;
    content.save_state();
    // From here on, units are the label's dots and y grows downwards.
    content.transform([scale, 0.0, 0.0, -scale, left, top]);
    if outline {
        content
            .set_stroke_gray(0.7)
            .set_line_width(0.4 / scale)
            .rect(0.0, 0.0, label.width as f32, label.height as f32)
            .stroke();
    }
    content.set_fill_gray(0.0).set_stroke_gray(0.0);
    let qr = &label.qr;
    for (row, col, len) in qr.dark_runs() {
        content.rect(
            (qr.x + col * qr.module) as f32,
            (qr.y + row * qr.module) as f32,
            (len * qr.module) as f32,
            qr.module as f32,
        );
    }
    content.fill_nonzero();
    for run in &label.texts {
        draw_text(content, run, used);
    }
    for frame in &label.frames {
        let half = frame.stroke / 2.0;
        content
            .set_line_width(frame.stroke)
            .rect(
                frame.x + half,
                frame.y + half,
                frame.width - frame.stroke,
                frame.height - frame.stroke,
            )
            .stroke();
    }
    if let Some(band) = &label.band {
        content
            .set_fill_gray(0.0)
            .rect(band.x, band.y, band.width, band.height)
            .fill_nonzero();
        content.set_fill_gray(1.0);
        draw_text(content, &band.text, used);
        content.set_fill_gray(0.0);
    }
    content.restore_state();
}

fn draw_text(content: &mut Content, run: &TextRun, used: &mut [BTreeMap<u16, char>; 2]) {
    let which = WEIGHTS
        .iter()
        .position(|w| *w == run.weight)
        .unwrap_or_default();
    let f = face(run.weight);
    let mut glyphs = Vec::with_capacity(run.text.len() * 2);
    for c in run.text.chars() {
        let id = f.glyph(c);
        used[which].entry(id.0).or_insert(c);
        glyphs.extend_from_slice(&id.0.to_be_bytes());
    }
    let natural = f.measure(run.size, &run.text);
    let squeeze = if natural > run.max_width && natural > 0.0 {
        100.0 * run.max_width / natural
    } else {
        100.0
    };
    content
        .begin_text()
        .set_font(Name(FONT_NAMES[which]), run.size)
        .set_horizontal_scaling(squeeze)
        // flips the glyphs upright again inside the y-down label space
        .set_text_matrix([1.0, 0.0, 0.0, -1.0, run.x, run.baseline])
        .show(Str(&glyphs))
        .end_text();
}

struct FontRefs {
    type0: Ref,
    cid: Ref,
    descriptor: Ref,
    file: Ref,
    to_unicode: Ref,
}

impl FontRefs {
    fn new(new_ref: &mut impl FnMut() -> Ref) -> Self {
        FontRefs {
            type0: new_ref(),
            cid: new_ref(),
            descriptor: new_ref(),
            file: new_ref(),
            to_unicode: new_ref(),
        }
    }
}

/// The font as a composite (Type 0) font over the embedded TrueType file,
/// addressed by glyph id (Identity-H), with a map back to Unicode.
fn write_font(pdf: &mut Pdf, f: &Face, refs: &FontRefs, used: &BTreeMap<u16, char>) {
    let name = Name(f.postscript_name.as_bytes());
    let info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(refs.type0)
        .base_font(name)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(refs.cid)
        .to_unicode(refs.to_unicode);
    let mut cid = pdf.cid_font(refs.cid);
    cid.subtype(CidFontType::Type2)
        .base_font(name)
        .system_info(info)
        .font_descriptor(refs.descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    cid.widths().consecutive(0, f.advances_per_mille());
    cid.finish();
    let per_mille = 1000.0 / f.units_per_em();
    let ascent = f.ascent(1000.0);
    let descent = -f.descent(1000.0);
    pdf.font_descriptor(refs.descriptor)
        .name(name)
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            -1020.0 * per_mille,
            -462.0 * per_mille,
            3526.0 * per_mille,
            1901.0 * per_mille,
        ))
        .italic_angle(0.0)
        .ascent(ascent)
        .descent(descent)
        .cap_height(729.0)
        .stem_v(if f.css_weight == "bold" { 140.0 } else { 80.0 })
        .font_file2(refs.file);
    let mut cmap = UnicodeCmap::new(Name(b"Custom"), info);
    for (glyph, c) in used {
        cmap.pair(*glyph, *c);
    }
    pdf.cmap(refs.to_unicode, &cmap.finish());
    let compressed = deflate(f.bytes);
    pdf.stream(refs.file, &compressed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), f.bytes.len() as i32);
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

#[cfg(test)]
mod tests {
    use crate::labels::{LabelKind, Labels, sample};

    #[test]
    fn a_demo_sheet_is_titled_and_draws_the_band() {
        let labels = Labels::builtin();
        let mut data = sample(LabelKind::Vial);
        let real = labels.sheet(std::slice::from_ref(&data)).unwrap();
        data.demo = true;
        let demo = labels.sheet(&[data]).unwrap();
        let has = |pdf: &[u8], text: &[u8]| pdf.windows(text.len()).any(|w| w == text);
        assert!(has(&demo, b"DEMO - NOT FOR CLINICAL USE - Vial labels"));
        assert!(!has(&real, b"DEMO"));
        // the band's white text: the content stream sets a white fill
        let content = |pdf: &[u8]| {
            let start = pdf
                .windows(6)
                .position(|w| w == b"stream")
                .expect("a content stream")
                + 7;
            miniz_oxide::inflate::decompress_to_vec_zlib(&pdf[start..]).unwrap_or_default()
        };
        let white = |pdf: &[u8]| has(&content(pdf), b"1 g");
        assert!(white(&demo));
        assert!(!white(&real));
    }
}

//! Labels as PDF: a sheet of labels for an office printer (the grid of the
//! sheet layout on A4 or Letter) and any one label on a page of its own
//! size, for a label printer's PDF driver. Both draw the same way: the QR
//! as vector rectangles (sharp at any resolution) and the text in the
//! embedded label font, so the PDF looks like the PNG and its text can be
//! searched and copied (a ToUnicode map goes with the font).

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::labels::compose::{Composed, TextRun};
use crate::labels::font::{Face, Weight, face};
use crate::labels::layout::{MM_TO_PT, SheetLayout};

const FONT_NAMES: [&[u8]; 2] = [b"F1", b"F2"];
const WEIGHTS: [Weight; 2] = [Weight::Regular, Weight::Bold];

/// One page: its size in points and each label on it with its top-left
/// corner in page points (y up from the bottom, as PDF has it).
struct Page<'a> {
    width: f32,
    height: f32,
    labels: Vec<(&'a Composed, f32, f32)>,
}

/// A sheet (one or more pages) of `labels`, in order, row by row.
pub fn sheet(layout: &SheetLayout, labels: &[Composed]) -> Vec<u8> {
    let (page_w, page_h) = layout.paper.size_pt();
    let per_page = layout.per_page();
    let mut pages: Vec<Page> = labels
        .chunks(per_page)
        .map(|on_page| Page {
            width: page_w,
            height: page_h,
            labels: on_page
                .iter()
                .enumerate()
                .map(|(slot, label)| {
                    let col = slot as u32 % layout.columns;
                    let row = slot as u32 / layout.columns;
                    let left = (layout.left_mm + col as f32 * layout.pitch_x_mm) * MM_TO_PT;
                    let top = (layout.top_mm + row as f32 * layout.pitch_y_mm) * MM_TO_PT;
                    (label, left, page_h - top)
                })
                .collect(),
        })
        .collect();
    if pages.is_empty() {
        pages.push(Page {
            width: page_w,
            height: page_h,
            labels: Vec::new(),
        });
    }
    // The title a viewer shows in its title bar, in ASCII so it reads
    // the same in every viewer.
    let title = if labels.iter().any(|l| l.band.is_some()) {
        "DEMO - NOT FOR CLINICAL USE - Vial labels"
    } else {
        "Vial labels"
    };
    document(title, &pages, layout.outline)
}

/// One label on a page exactly its size (from its dots and dpi), drawn at
/// the page's corner without an outline: what a label printer's PDF
/// driver prints one label from.
pub fn label(label: &Composed) -> Vec<u8> {
    let (width, height) = size_pt(label);
    let page = Page {
        width,
        height,
        labels: vec![(label, 0.0, height)],
    };
    // Payloads are ASCII codes (a scan payload or a DIN).
    let title = match &label.band {
        Some(_) => format!("DEMO - NOT FOR CLINICAL USE - Label {}", label.payload),
        None => format!("Label {}", label.payload),
    };
    document(&title, &[page], false)
}

/// A document of whole pages (a shipment's packing list), each composed
/// as a label is (QR, text runs, frames) in its own size, and drawn the
/// same way: the QR as vectors, the text searchable.
pub fn pages(title: &str, composed: &[Composed]) -> Vec<u8> {
    let pages: Vec<Page> = composed
        .iter()
        .map(|page| {
            let (width, height) = size_pt(page);
            Page {
                width,
                height,
                labels: vec![(page, 0.0, height)],
            }
        })
        .collect();
    document(title, &pages, false)
}

/// A composed label's printed size in PDF points.
pub fn size_pt(label: &Composed) -> (f32, f32) {
    let scale = 72.0 / label.dpi as f32;
    (label.width as f32 * scale, label.height as f32 * scale)
}

/// The PDF of `pages`, the fonts embedded once for all of them.
fn document(title: &str, pages: &[Page], outline: bool) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut new_ref = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog = new_ref();
    let pages_ref = new_ref();
    let info = new_ref();
    let fonts: Vec<FontRefs> = WEIGHTS
        .iter()
        .map(|_| FontRefs::new(&mut new_ref))
        .collect();
    let page_refs: Vec<(Ref, Ref)> = pages.iter().map(|_| (new_ref(), new_ref())).collect();

    pdf.catalog(catalog).pages(pages_ref);
    pdf.pages(pages_ref)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(pages.len() as i32);
    pdf.document_info(info)
        .producer(TextStr("celltrail"))
        .title(TextStr(title));

    let mut used: [BTreeMap<u16, char>; 2] = [BTreeMap::new(), BTreeMap::new()];
    for (page, (page_ref, content_ref)) in pages.iter().zip(&page_refs) {
        let mut content = Content::new();
        for (label, left, top) in &page.labels {
            draw_label(&mut content, label, *left, *top, outline, &mut used);
        }
        let mut writer = pdf.page(*page_ref);
        writer
            .media_box(Rect::new(0.0, 0.0, page.width, page.height))
            .parent(pages_ref)
            .contents(*content_ref);
        let mut resources = writer.resources();
        let mut font_dict = resources.fonts();
        for (name, refs) in FONT_NAMES.iter().zip(&fonts) {
            font_dict.pair(Name(name), refs.type0);
        }
        font_dict.finish();
        resources.finish();
        writer.finish();
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
    use crate::labels::font::face;
    use crate::labels::layout::label_size_pt;
    use crate::labels::{Format, LabelKind, Labels, sample};

    #[test]
    fn a_demo_sheet_or_label_is_titled_and_draws_the_band() {
        let labels = Labels::builtin();
        let mut data = sample(LabelKind::Vial);
        let real = labels.sheet(std::slice::from_ref(&data)).unwrap();
        let real_label = labels.render(&data, Format::Pdf).unwrap();
        data.demo = true;
        let demo_label = labels.render(&data, Format::Pdf).unwrap();
        let demo = labels.sheet(&[data]).unwrap();
        assert!(has(&demo, b"DEMO - NOT FOR CLINICAL USE - Vial labels"));
        assert!(!has(&real, b"DEMO"));
        assert!(has(
            &demo_label,
            b"DEMO - NOT FOR CLINICAL USE - Label CT1:V:A999926000123-L01-V007"
        ));
        assert!(has(&real_label, b"(Label CT1:V:A999926000123-L01-V007)"));
        assert!(!has(&real_label, b"DEMO"));
        // the band's white text: the content stream sets a white fill
        let white = |pdf: &[u8]| has(&content(pdf), b"1 g");
        assert!(white(&demo) && white(&demo_label));
        assert!(!white(&real) && !white(&real_label));
    }

    /// Whether `pdf` holds `text`.
    fn has(pdf: &[u8], text: &[u8]) -> bool {
        pdf.windows(text.len()).any(|w| w == text)
    }

    /// The first content stream (pages come before fonts), inflated.
    fn content(pdf: &[u8]) -> Vec<u8> {
        let start = pdf
            .windows(6)
            .position(|w| w == b"stream")
            .expect("a content stream")
            + 7;
        miniz_oxide::inflate::decompress_to_vec_zlib(&pdf[start..]).unwrap_or_default()
    }

    /// Every page's MediaBox, as written.
    fn media_boxes(pdf: &[u8]) -> Vec<Vec<f32>> {
        let text = String::from_utf8_lossy(pdf);
        text.match_indices("/MediaBox [")
            .map(|(at, key)| {
                let rest = &text[at + key.len()..];
                let end = rest.find(']').expect("the box closes");
                rest[..end]
                    .split_whitespace()
                    .map(|n| n.parse().expect("a number"))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn each_label_is_one_page_of_its_own_size() {
        let labels = Labels::builtin();
        for kind in LabelKind::ALL {
            let pdf = labels.render(&sample(kind), Format::Pdf).unwrap();
            assert!(pdf.starts_with(b"%PDF-"), "{kind:?}");
            let (width, height) = label_size_pt(labels.layout(kind));
            let boxes = media_boxes(&pdf);
            assert_eq!(boxes.len(), 1, "{kind:?}: one page");
            let [x, y, right, top] = boxes[0][..] else {
                panic!("{kind:?}: {boxes:?}");
            };
            assert_eq!((x, y), (0.0, 0.0), "{kind:?}");
            assert!(
                (right - width).abs() < 0.01 && (top - height).abs() < 0.01,
                "{kind:?}: {boxes:?}, not {width} × {height}"
            );
            // not the sheet's paper, and no cutting outline (grey stroke)
            assert!(width < 595.0 && height < 595.0, "{kind:?}");
            assert!(!has(&content(&pdf), b"0.7 G"), "{kind:?}");
        }
        // the shipped sizes, in points: a vial label is 2 × 1 in, a
        // wristband 3 × 1 in, a box 50.8 × 25.4 mm (2 × 1 in)
        for (kind, size) in [
            (LabelKind::Vial, (144.0, 72.0)),
            (LabelKind::Wristband, (216.0, 72.0)),
            (LabelKind::Box, (144.0, 72.0)),
        ] {
            assert_eq!(label_size_pt(labels.layout(kind)), size, "{kind:?}");
        }
        // the sheet keeps its paper and its outlines
        let sheet = labels.sheet(&[sample(LabelKind::Vial)]).unwrap();
        assert_eq!(media_boxes(&sheet)[0], [0.0, 0.0, 595.276, 841.89]);
        assert!(has(&content(&sheet), b"0.7 G"));
    }

    #[test]
    fn a_label_is_drawn_at_the_page_corner_in_its_dots() {
        let labels = Labels::builtin();
        let pdf = labels
            .render(&sample(LabelKind::Vial), Format::Pdf)
            .unwrap();
        // 300 dpi: a dot is 0.24 pt; y flipped down from the page's top
        assert!(has(&content(&pdf), b"0.24 0 0 -0.24 0 72 cm"));
    }

    #[test]
    fn a_labels_text_maps_back_to_unicode() {
        let labels = Labels::builtin();
        for kind in LabelKind::ALL {
            let data = sample(kind);
            let composed = labels.compose(&data).unwrap();
            let pdf = labels.render(&data, Format::Pdf).unwrap();
            assert!(!composed.texts.is_empty(), "{kind:?}");
            // each glyph drawn maps back to its character (the ToUnicode
            // map), so the label's text can be searched and copied
            for run in &composed.texts {
                let f = face(run.weight);
                for c in run.text.chars().filter(|c| !c.is_whitespace()) {
                    let mut utf16 = [0; 2];
                    let units: String = c
                        .encode_utf16(&mut utf16)
                        .iter()
                        .map(|u| format!("{u:04X}"))
                        .collect();
                    let pair = format!("<{:04X}> <{units}>", f.glyph(c).0);
                    assert!(
                        has(&pdf, pair.as_bytes()),
                        "{kind:?}: {c:?} of {:?}",
                        run.text
                    );
                }
            }
        }
    }

    /// Where poppler is installed, its text extraction reads the label's
    /// codes back (the ToUnicode map as a viewer uses it).
    #[test]
    fn pdftotext_reads_a_labels_codes_where_installed() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let labels = Labels::builtin();
        let pdf = labels
            .render(&sample(LabelKind::Vial), Format::Pdf)
            .unwrap();
        let Ok(mut child) = Command::new("pdftotext")
            .args(["-", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        else {
            return;
        };
        child.stdin.take().unwrap().write_all(&pdf).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.contains("A999926000123-L01-V007"), "{text}");
        assert!(text.contains("investigational use"), "{text}");
    }
}

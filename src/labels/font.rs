//! The one label font, compiled in: DejaVu Sans Condensed, regular and bold
//! (see `fonts/README.md`). Every format measures text with the same
//! metrics, so a line that fits on the PNG fits in the PDF and the SVG.

use std::sync::LazyLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont};

/// A weight of the label font.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weight {
    Regular,
    Bold,
}

/// One embedded font file, with the lookups labels repeat thousands of
/// times (character to glyph, glyph advance) precomputed.
#[derive(Debug)]
pub struct Face {
    pub font: FontRef<'static>,
    pub bytes: &'static [u8],
    /// Glyphs of U+0000 to U+00FF.
    latin1: [GlyphId; 256],
    /// Each glyph's advance in font units.
    advances: Vec<f32>,
    units_per_em: f32,
    /// The PostScript name, for PDF.
    pub postscript_name: &'static str,
    /// The CSS family and weight, for SVG.
    pub css_weight: &'static str,
}

static REGULAR: LazyLock<Face> = LazyLock::new(|| {
    Face::new(
        include_bytes!("fonts/DejaVuSansCondensed.ttf"),
        "DejaVuSansCondensed",
        "normal",
    )
});

static BOLD: LazyLock<Face> = LazyLock::new(|| {
    Face::new(
        include_bytes!("fonts/DejaVuSansCondensed-Bold.ttf"),
        "DejaVuSansCondensed-Bold",
        "bold",
    )
});

/// The CSS font family SVG labels ask for, with look-alike fallbacks.
pub const CSS_FAMILY: &str = "'DejaVu Sans Condensed', 'Arial Narrow', sans-serif";

pub fn face(weight: Weight) -> &'static Face {
    match weight {
        Weight::Regular => &REGULAR,
        Weight::Bold => &BOLD,
    }
}

impl Face {
    fn new(bytes: &'static [u8], postscript_name: &'static str, css_weight: &'static str) -> Face {
        let font = FontRef::try_from_slice(bytes).expect("the embedded font parses");
        let question = font.glyph_id('?');
        let lookup = |c: char| match font.glyph_id(c) {
            GlyphId(0) => question,
            id => id,
        };
        let latin1 = std::array::from_fn(|i| lookup(char::from(i as u8)));
        let advances = (0..font.glyph_count())
            .map(|g| font.h_advance_unscaled(GlyphId(u16::try_from(g).unwrap_or(u16::MAX))))
            .collect();
        let units_per_em = font.units_per_em().unwrap_or(1000.0);
        Face {
            latin1,
            advances,
            units_per_em,
            font,
            bytes,
            postscript_name,
            css_weight,
        }
    }

    /// The glyph for a character; characters the font lacks print as `?`
    /// rather than as an empty box nobody can read.
    pub fn glyph(&self, c: char) -> GlyphId {
        if let Some(id) = self.latin1.get(c as usize) {
            return *id;
        }
        match self.font.glyph_id(c) {
            GlyphId(0) => self.latin1[usize::from(b'?')],
            id => id,
        }
    }

    /// A glyph's advance at `size` (the em, in dots).
    pub fn advance(&self, glyph: GlyphId, size: f32) -> f32 {
        self.advances
            .get(usize::from(glyph.0))
            .copied()
            .unwrap_or(0.0)
            * size
            / self.units_per_em
    }

    /// The ab_glyph scale for an em of `size` dots (ab_glyph scales by the
    /// line height, ascent to descent, not by the em that PDF and SVG use).
    pub fn scale(&self, size: f32) -> PxScale {
        PxScale::from(size * self.font.height_unscaled() / self.units_per_em)
    }

    /// Width of `text` at `size` (the em, in dots).
    pub fn measure(&self, size: f32, text: &str) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| {
                self.advances
                    .get(usize::from(self.glyph(c).0))
                    .copied()
                    .unwrap_or(0.0)
            })
            .sum();
        units * size / self.units_per_em
    }

    /// Distance from the top of a line to its baseline at `size`.
    pub fn ascent(&self, size: f32) -> f32 {
        self.font.as_scaled(self.scale(size)).ascent()
    }

    /// Distance from the baseline to the bottom of a line at `size`
    /// (positive).
    pub fn descent(&self, size: f32) -> f32 {
        -self.font.as_scaled(self.scale(size)).descent()
    }

    /// The advance of every glyph in thousandths of the em, as PDF wants.
    pub fn advances_per_mille(&self) -> Vec<f32> {
        self.advances
            .iter()
            .map(|a| (a * 1000.0 / self.units_per_em).round())
            .collect()
    }

    /// Units per em of the font file.
    pub fn units_per_em(&self) -> f32 {
        self.units_per_em
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_font_has_what_labels_print() {
        for weight in [Weight::Regular, Weight::Bold] {
            let face = face(weight);
            for c in "A999926000123-L01-V001 × 10⁶ — µL › ≤ ≥ é".chars() {
                assert_ne!(face.font.glyph_id(c), GlyphId(0), "{c:?} in {weight:?}");
            }
            // a character it lacks prints as '?'
            assert_eq!(face.glyph('漢'), face.glyph('?'));
        }
    }

    #[test]
    fn sizes_are_ems_as_in_pdf_and_svg() {
        // the width text is laid out with is the width PDF draws it at
        let advances = face(Weight::Regular).advances_per_mille();
        let m = face(Weight::Regular).glyph('M').0 as usize;
        assert!((face(Weight::Regular).measure(1000.0, "M") - advances[m]).abs() < 1.0);
    }

    #[test]
    fn bold_is_wider_and_measures_scale_with_size() {
        let text = "A999926000123-L01-V001";
        let regular = face(Weight::Regular).measure(30.0, text);
        assert!(face(Weight::Bold).measure(30.0, text) > regular);
        let double = face(Weight::Regular).measure(60.0, text);
        assert!((double - 2.0 * regular).abs() < 0.01);
    }
}

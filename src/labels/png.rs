//! PNG: the label rasterised at its layout's resolution, 8-bit grey, black
//! on white, text anti-aliased with the embedded font.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use ab_glyph::{Font, GlyphId, PxScale, point};
use image::GrayImage;

use crate::labels::compose::{Composed, Frame, TextRun};
use crate::labels::font::{Weight, face};

pub fn render(label: &Composed) -> Vec<u8> {
    encode(&raster(label), label.dpi)
}

/// The label as pixels.
pub fn raster(label: &Composed) -> GrayImage {
    let white = vec![255u8; label.width as usize * label.height as usize];
    let mut image = GrayImage::from_raw(label.width, label.height, white)
        .expect("the buffer is exactly width × height");
    let qr = &label.qr;
    for (row, col, len) in qr.dark_runs() {
        fill(
            &mut image,
            qr.x + col * qr.module,
            qr.y + row * qr.module,
            len * qr.module,
            qr.module,
        );
    }
    for run in &label.texts {
        draw_text(&mut image, run, Ink::Black);
    }
    for frame in &label.frames {
        draw_frame(&mut image, frame);
    }
    if let Some(band) = &label.band {
        fill(
            &mut image,
            band.x.round() as u32,
            band.y.round() as u32,
            band.width.round() as u32,
            band.height.round() as u32,
        );
        draw_text(&mut image, &band.text, Ink::White);
    }
    image
}

/// Black text on the white label, or white text on the black demo band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ink {
    Black,
    White,
}

/// PNG, 8-bit grey, through the `png` encoder the `image` crate uses, at
/// its fast compression with the `Sub` filter (a label is mostly flat
/// white: higher levels cost many times the time for little), and with the
/// resolution recorded (pHYs), so a printing program prints the label at its
/// real size.
pub fn encode(image: &GrayImage, dpi: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(40 * 1024);
    let mut encoder = ::png::Encoder::new(&mut out, image.width(), image.height());
    encoder.set_color(::png::ColorType::Grayscale);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder.set_compression(::png::Compression::Fast);
    encoder.set_filter(::png::Filter::Sub);
    // dots per inch → dots per metre, rounded
    let per_metre = (dpi * 10_000 + 127) / 254;
    encoder.set_pixel_dims(Some(::png::PixelDimensions {
        xppu: per_metre,
        yppu: per_metre,
        unit: ::png::Unit::Meter,
    }));
    let written = encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(image.as_raw()));
    written.expect("encoding a grey image into memory cannot fail");
    out
}

fn fill(image: &mut GrayImage, x: u32, y: u32, width: u32, height: u32) {
    let stride = image.width() as usize;
    let x_end = (x + width).min(image.width()) as usize;
    let y_end = (y + height).min(image.height()) as usize;
    let x = (x as usize).min(x_end);
    let pixels: &mut [u8] = image;
    for row in (y as usize)..y_end {
        pixels[row * stride + x..row * stride + x_end].fill(0);
    }
}

/// Glyph positions are kept to a quarter dot: finer is invisible, and it
/// lets a rasterised glyph be reused wherever it recurs.
const SUBPIXEL: f32 = 4.0;
/// Rasterised glyphs kept per thread; labels use a few dozen.
const GLYPH_CACHE_LIMIT: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct GlyphKey {
    weight: Weight,
    glyph: u16,
    scale_x: u32,
    scale_y: u32,
    offset_x: u8,
    offset_y: u8,
}

/// A glyph's coverage, placed relative to the whole-dot pen position.
#[derive(Debug)]
struct GlyphBitmap {
    left: i32,
    top: i32,
    width: usize,
    coverage: Vec<u8>,
}

thread_local! {
    static GLYPHS: RefCell<HashMap<GlyphKey, Option<Rc<GlyphBitmap>>>> =
        RefCell::new(HashMap::new());
}

fn glyph_bitmap(key: GlyphKey) -> Option<Rc<GlyphBitmap>> {
    GLYPHS.with(|cache| {
        if let Some(found) = cache.borrow().get(&key) {
            return found.clone();
        }
        let f = face(key.weight);
        let scale = PxScale {
            x: f32::from_bits(key.scale_x),
            y: f32::from_bits(key.scale_y),
        };
        let position = point(
            f32::from(key.offset_x) / SUBPIXEL,
            f32::from(key.offset_y) / SUBPIXEL,
        );
        let glyph = GlyphId(key.glyph).with_scale_and_position(scale, position);
        let bitmap = f.font.outline_glyph(glyph).map(|outlined| {
            let bounds = outlined.px_bounds();
            let width = bounds.width() as usize;
            let height = bounds.height() as usize;
            let mut coverage = vec![0u8; width * height];
            outlined.draw(|x, y, c| {
                if let Some(cell) = coverage.get_mut(y as usize * width + x as usize) {
                    *cell = (c.clamp(0.0, 1.0) * 255.0).round() as u8;
                }
            });
            Rc::new(GlyphBitmap {
                left: bounds.min.x as i32,
                top: bounds.min.y as i32,
                width,
                coverage,
            })
        });
        let mut cache = cache.borrow_mut();
        if cache.len() >= GLYPH_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, bitmap.clone());
        bitmap
    })
}

fn draw_text(image: &mut GrayImage, run: &TextRun, colour: Ink) {
    let f = face(run.weight);
    let em = f.scale(run.size);
    let natural = f.measure(run.size, &run.text);
    // A line that could not be fitted otherwise is compressed sideways.
    let squeeze = if natural > run.max_width && natural > 0.0 {
        run.max_width / natural
    } else {
        1.0
    };
    let (scale_x, scale_y) = ((em.x * squeeze).to_bits(), em.y.to_bits());
    let split = |at: f32| {
        let quarters = (at * SUBPIXEL).round();
        let whole = (quarters / SUBPIXEL).floor();
        (whole as i32, (quarters - whole * SUBPIXEL) as u8)
    };
    let (pen_y, offset_y) = split(run.baseline);
    let (width, height) = (image.width() as i32, image.height() as i32);
    let stride = width as usize;
    let pixels: &mut [u8] = image;
    let mut x = run.x;
    for c in run.text.chars() {
        let id = f.glyph(c);
        let (pen_x, offset_x) = split(x);
        x += f.advance(id, run.size) * squeeze;
        let key = GlyphKey {
            weight: run.weight,
            glyph: id.0,
            scale_x,
            scale_y,
            offset_x,
            offset_y,
        };
        let Some(bitmap) = glyph_bitmap(key) else {
            continue;
        };
        for (row, line) in bitmap.coverage.chunks(bitmap.width.max(1)).enumerate() {
            let py = pen_y + bitmap.top + row as i32;
            if py < 0 || py >= height {
                continue;
            }
            for (col, ink) in line.iter().enumerate() {
                let px = pen_x + bitmap.left + col as i32;
                if *ink == 0 || px < 0 || px >= width {
                    continue;
                }
                let pixel = &mut pixels[py as usize * stride + px as usize];
                *pixel = match colour {
                    Ink::Black => (*pixel).min(255 - ink),
                    Ink::White => (*pixel).max(*ink),
                };
            }
        }
    }
}

fn draw_frame(image: &mut GrayImage, frame: &Frame) {
    let stroke = frame.stroke.round().max(1.0) as u32;
    let x = frame.x.max(0.0).round() as u32;
    let y = frame.y.max(0.0).round() as u32;
    let width = frame.width.round() as u32;
    let height = frame.height.round() as u32;
    fill(image, x, y, width, stroke);
    fill(image, x, (y + height).saturating_sub(stroke), width, stroke);
    fill(image, x, y, stroke, height);
    fill(image, (x + width).saturating_sub(stroke), y, stroke, height);
}

//! PNG: the label rasterised at its layout's resolution, 8-bit grey, black
//! on white, text anti-aliased with the embedded font.

use ab_glyph::{Font, PxScale, ScaleFont, point};
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, GrayImage, ImageEncoder, Luma};

use crate::labels::compose::{Composed, Frame, TextRun};
use crate::labels::font::face;

pub fn render(label: &Composed) -> Vec<u8> {
    encode(&raster(label))
}

/// The label as pixels.
pub fn raster(label: &Composed) -> GrayImage {
    let mut image = GrayImage::from_pixel(label.width, label.height, Luma([255]));
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
        draw_text(&mut image, run);
    }
    for frame in &label.frames {
        draw_frame(&mut image, frame);
    }
    image
}

/// PNG at the `image` crate's default compression: a label is mostly flat
/// white, and higher levels cost several times the time for little.
pub fn encode(image: &GrayImage) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 * 1024);
    PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::L8,
        )
        .expect("encoding a grey image into memory cannot fail");
    out
}

fn fill(image: &mut GrayImage, x: u32, y: u32, width: u32, height: u32) {
    let x_end = (x + width).min(image.width());
    let y_end = (y + height).min(image.height());
    for py in y..y_end {
        for px in x..x_end {
            image.put_pixel(px, py, Luma([0]));
        }
    }
}

fn draw_text(image: &mut GrayImage, run: &TextRun) {
    let f = face(run.weight);
    let em = f.scale(run.size);
    let scaled = f.font.as_scaled(em);
    let natural = f.measure(run.size, &run.text);
    // A line that could not be fitted otherwise is compressed sideways.
    let squeeze = if natural > run.max_width && natural > 0.0 {
        run.max_width / natural
    } else {
        1.0
    };
    let scale = PxScale {
        x: em.x * squeeze,
        y: em.y,
    };
    let mut x = run.x;
    for c in run.text.chars() {
        let id = f.glyph(c);
        let glyph = id.with_scale_and_position(scale, point(x, run.baseline));
        x += scaled.h_advance(id) * squeeze;
        let Some(outlined) = f.font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        let (left, top) = (bounds.min.x as i32, bounds.min.y as i32);
        outlined.draw(|gx, gy, coverage| {
            let (px, py) = (left + gx as i32, top + gy as i32);
            if px < 0 || py < 0 || px >= image.width() as i32 || py >= image.height() as i32 {
                return;
            }
            let ink = (coverage.clamp(0.0, 1.0) * 255.0).round() as u8;
            let pixel = image.get_pixel_mut(px as u32, py as u32);
            pixel.0[0] = pixel.0[0].min(255 - ink);
        });
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

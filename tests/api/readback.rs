//! Reading labels back the way a scanner would: QR symbols decoded from
//! pixels by an independent decoder (`rqrr`), PDF pages and SVG rendered to
//! pixels by independent renderers (poppler's `pdftoppm`, librsvg's
//! `rsvg-convert`). The tests that need them are declared with
//! `#[needs(poppler)]` / `#[needs(rsvg_convert)]` and reported as ignored where
//! the tools were not on `PATH` when the tests were built; under `CI` they
//! always run (the CI script installs the tools), so a missing tool fails.

use std::io::Write;
use std::process::{Command, Stdio};

/// Every QR payload found in an image.
pub fn decode_all(image: &image::GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        image.width() as usize,
        image.height() as usize,
        |x, y| image.get_pixel(x as u32, y as u32).0[0],
    );
    let mut found: Vec<String> = prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, content)| content))
        .collect();
    found.sort();
    found
}

/// The payloads of a sheet page, label by label in print order (row by
/// row), each label cut out of the page by the sheet layout's grid and
/// decoded on its own, as a scanner sees one label at a time.
pub fn decode_sheet(page: &image::GrayImage, dpi: u32) -> Vec<Vec<String>> {
    let labels = celltrail::labels::Labels::builtin();
    let sheet = &labels.sheet;
    let layout = labels.layout(sheet.label);
    let px = |mm: f32| (mm * dpi as f32 / 25.4).round() as u32;
    let width = layout.width * dpi / layout.dpi;
    let height = layout.height * dpi / layout.dpi;
    let mut found = Vec::new();
    for row in 0..sheet.rows {
        for col in 0..sheet.columns {
            let x = px(sheet.left_mm + col as f32 * sheet.pitch_x_mm);
            let y = px(sheet.top_mm + row as f32 * sheet.pitch_y_mm);
            let cell = image::imageops::crop_imm(page, x, y, width, height).to_image();
            let payloads = decode_all(&cell);
            let blank = cell.pixels().all(|p| p.0[0] > 200);
            if !blank {
                found.push(payloads);
            }
        }
    }
    found
}

pub fn decode_png(bytes: &[u8]) -> Vec<String> {
    let image = image::load_from_memory(bytes)
        .expect("a readable PNG")
        .to_luma8();
    decode_all(&image)
}

/// A tool the test was built to use, started; a tool gone since the build
/// (or missing under CI) fails the test, saying which.
fn start(command: &mut Command) -> std::process::Child {
    command.spawn().unwrap_or_else(|error| {
        panic!(
            "{} does not run ({error}): install poppler-utils and librsvg2-bin \
             (CI installs them)",
            command.get_program().display()
        )
    })
}

fn run(mut command: Command, input: &[u8]) -> Vec<u8> {
    let mut child = start(
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input)
        .expect("the tool reads its input");
    let output = child.wait_with_output().expect("the tool finishes");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Page `page` (1-based) of a PDF at `dpi`, as grey pixels.
pub fn pdf_page(pdf: &[u8], page: u32, dpi: u32) -> image::GrayImage {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, pdf).unwrap();
    let prefix = dir.path().join("page");
    let status = start(
        Command::new("pdftoppm")
            .args(["-r", &dpi.to_string(), "-gray", "-png", "-singlefile"])
            .args(["-f", &page.to_string(), "-l", &page.to_string()])
            .arg(&input)
            .arg(&prefix),
    )
    .wait()
    .expect("pdftoppm finishes");
    assert!(status.success());
    let png = std::fs::read(dir.path().join("page.png")).expect("pdftoppm wrote the page");
    image::load_from_memory(&png).unwrap().to_luma8()
}

/// The text of a PDF, as `pdftotext` extracts it.
pub fn pdf_text(pdf: &[u8]) -> String {
    let mut command = Command::new("pdftotext");
    command.args(["-", "-"]);
    String::from_utf8(run(command, pdf)).unwrap()
}

/// An SVG rendered at `dpi`.
pub fn svg_raster(svg: &[u8], dpi: u32) -> image::GrayImage {
    let mut command = Command::new("rsvg-convert");
    command.args([
        "-d",
        &dpi.to_string(),
        "-p",
        &dpi.to_string(),
        "-b",
        "white",
    ]);
    let png = run(command, svg);
    image::load_from_memory(&png).unwrap().to_luma8()
}

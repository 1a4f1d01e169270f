//! The codes people read and scanners encode. Every lot and vial code starts
//! with its donation's DIN, so a vial in hand names its donation; codes use
//! only capital letters, digits and `-`, which QR alphanumeric mode encodes
//! compactly.

/// An ISBT 128-style product code as the lab uses it: 5 to 8 capital
/// letters and digits, starting with a letter (e.g. `S1395`).
pub fn parse_product_code(raw: &str) -> Option<String> {
    let code = raw.trim().to_ascii_uppercase();
    let ok = (5..=8).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    ok.then_some(code)
}

/// Most lots one donation can give (`-L01` … `-L99`).
pub const MAX_LOTS_PER_DONATION: u32 = 99;
/// Most vials one lot can hold (`-V001` … `-V999`).
pub const MAX_VIALS_PER_LOT: u32 = 999;

/// The `n`th lot of a donation: `A999926000123-L01`.
pub fn lot_code(din: &str, n: u32) -> String {
    format!("{din}-L{n:02}")
}

/// The `n`th vial of a lot: `A999926000123-L01-V001`.
pub fn vial_code(lot_code: &str, n: u32) -> String {
    format!("{lot_code}-V{n:03}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_the_din() {
        let lot = lot_code("A999926000123", 1);
        assert_eq!(lot, "A999926000123-L01");
        assert_eq!(vial_code(&lot, 7), "A999926000123-L01-V007");
        assert_eq!(vial_code(&lot, 999), "A999926000123-L01-V999");
    }

    #[test]
    fn product_codes_are_checked() {
        assert_eq!(parse_product_code("s1395"), Some("S1395".into()));
        for bad in ["", "S13", "1S395", "S13-95", "S1395ABCD"] {
            assert_eq!(parse_product_code(bad), None, "{bad:?}");
        }
    }
}

//! Quantities as people read them: cells in millions, volumes in mL, every
//! digit exact. The stored values are integers (cells, µL); these only print,
//! from the quantities (`Cells`, `Microlitres`) or plain integers alike.

/// `25000000` → `25 × 10⁶`; `12500000` → `12.5 × 10⁶`; exact, never rounded.
pub fn millions(cells: impl Into<i64>) -> String {
    let cells: i64 = cells.into();
    let whole = cells / 1_000_000;
    let fraction = (cells % 1_000_000).abs();
    if fraction == 0 {
        format!("{whole} × 10⁶")
    } else {
        let digits = format!("{fraction:06}");
        format!("{whole}.{} × 10⁶", digits.trim_end_matches('0'))
    }
}

/// `25000000` → `25 000 000`: every digit, grouped by thin spaces.
pub fn grouped(n: impl Into<i64>) -> String {
    let n: i64 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() * 2);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// `1500` µL → `1.5 mL`; `250` → `0.25 mL`; exact.
pub fn millilitres(volume_ul: impl Into<i64>) -> String {
    let volume_ul: i64 = volume_ul.into();
    let whole = volume_ul / 1000;
    let fraction = (volume_ul % 1000).abs();
    if fraction == 0 {
        format!("{whole} mL")
    } else {
        let digits = format!("{fraction:03}");
        format!("{whole}.{} mL", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_print_exactly() {
        assert_eq!(millions(25_000_000), "25 × 10⁶");
        assert_eq!(millions(12_500_000), "12.5 × 10⁶");
        assert_eq!(millions(1_234_567), "1.234567 × 10⁶");
        assert_eq!(millions(999_999), "0.999999 × 10⁶");
        assert_eq!(grouped(25_000_000), "25\u{2009}000\u{2009}000");
        assert_eq!(grouped(999), "999");
        assert_eq!(millilitres(1500), "1.5 mL");
        assert_eq!(millilitres(250), "0.25 mL");
        assert_eq!(millilitres(1), "0.001 mL");
        assert_eq!(millilitres(2000), "2 mL");
    }
}

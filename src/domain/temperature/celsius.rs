//! A temperature as a whole number of hundredths of a degree Celsius, read
//! from text without floating point.
//!
//! Loggers print more or fewer decimals than we keep (HOBOware prints three,
//! `-196.125`) and some print °F. The exact value of the text is a rational
//! number; we keep its **ceiling** in hundredths of a degree (rounding toward
//! warm). That one rule is exact for every decision the cold chain makes:
//! limits are whole hundredths `L`, and for any real `x`, `x > L` exactly when
//! `ceil(x) > L` (if `x > L` then `ceil(x) ≥ x > L`; if `x ≤ L` then `L` is a
//! hundredth at or above `x`, so `ceil(x) ≤ L`). Rounding up never hides an
//! excursion and never invents one; only a reported peak may read up to
//! 0.01 °C warmer than the logger's own figure, never colder. The parse
//! tells whether it rounded, so an upload can say so.

use std::fmt;

/// Hundredths of a degree Celsius: `-15000` is −150.00 °C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct CentiCelsius(i32);

/// The unit a column or a value is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Celsius,
    Fahrenheit,
}

/// Which decimal marks a layout uses. Comma-separated files cannot use a
/// decimal comma (`1,5` would be two fields, and a quoted `"1,500"` reads as
/// one and a half or fifteen hundred): only semicolon- or tab-separated
/// layouts accept it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalMark {
    /// `-150.25` only.
    Point,
    /// `-150,25` or `-150.25`.
    PointOrComma,
}

/// A value read from text, and whether its ceiling differs from its exact
/// value (more than two decimals, or a °F value with no exact hundredth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedTemperature {
    pub value: CentiCelsius,
    pub rounded_up: bool,
}

/// Why a text is not a temperature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemperatureError {
    #[error("“{0}” is not a number")]
    NotANumber(String),
    #[error("“{0}” uses a decimal comma, which this layout does not")]
    DecimalComma(String),
    #[error("“{0}” has more digits than a logger prints")]
    TooManyDigits(String),
    #[error("“{0}” is below absolute zero (−273.15 °C)")]
    BelowAbsoluteZero(String),
    #[error("“{text}” is above {max} °C, which no cold-chain logger reads")]
    TooHot { text: String, max: i32 },
}

/// Digits a value may have either side of its decimal mark: a thermocouple
/// reads at most four integer digits, loggers print at most three decimals;
/// the margin keeps odd exports readable and the arithmetic far inside i128.
const MAX_INTEGER_DIGITS: usize = 6;
const MAX_FRACTION_DIGITS: usize = 9;

impl CentiCelsius {
    /// Absolute zero, −273.15 °C: nothing reads colder.
    pub const ABSOLUTE_ZERO: CentiCelsius = CentiCelsius(-27_315);
    /// +1000 °C: the top of a type K thermocouple's useful range, far above
    /// anything a freezer or a shipper reads; a larger value is a broken file.
    pub const HOTTEST: CentiCelsius = CentiCelsius(100_000);

    /// From hundredths, within absolute zero to +1000 °C.
    pub fn new(centi: i32) -> Option<CentiCelsius> {
        (Self::ABSOLUTE_ZERO.0..=Self::HOTTEST.0)
            .contains(&centi)
            .then_some(CentiCelsius(centi))
    }

    /// A whole number of degrees Celsius (`-150` → −150.00 °C).
    pub const fn degrees(degrees: i16) -> CentiCelsius {
        CentiCelsius(degrees as i32 * 100)
    }

    pub const fn get(self) -> i32 {
        self.0
    }

    /// Reads `-196.5`, `+4`, `−150.2` (Unicode minus), and `−150,2` where
    /// the layout allows a decimal comma; in °C or °F. See the module notes
    /// for rounding.
    pub fn parse(
        text: &str,
        unit: Unit,
        mark: DecimalMark,
    ) -> Result<ParsedTemperature, TemperatureError> {
        let trimmed = text.trim();
        let not_a_number = || TemperatureError::NotANumber(trimmed.to_owned());
        let (negative, unsigned) = if let Some(rest) = trimmed.strip_prefix('-') {
            (true, rest)
        } else if let Some(rest) = trimmed.strip_prefix('\u{2212}') {
            (true, rest)
        } else if let Some(rest) = trimmed.strip_prefix('+') {
            (false, rest)
        } else {
            (false, trimmed)
        };
        let (whole, fraction) = match unsigned.find(['.', ',']) {
            Some(at) => {
                if unsigned[at..].starts_with(',') && mark == DecimalMark::Point {
                    return Err(TemperatureError::DecimalComma(trimmed.to_owned()));
                }
                (&unsigned[..at], &unsigned[at + 1..])
            }
            None => (unsigned, ""),
        };
        let has_mark = whole.len() != unsigned.len();
        if whole.is_empty()
            || (has_mark && fraction.is_empty())
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(not_a_number());
        }
        if whole.len() > MAX_INTEGER_DIGITS || fraction.len() > MAX_FRACTION_DIGITS {
            return Err(TemperatureError::TooManyDigits(trimmed.to_owned()));
        }
        // value = sign × digits / 10^scale, exactly
        let scale = 10_i128.pow(fraction.len() as u32);
        let digits: i128 = format!("{whole}{fraction}")
            .parse()
            .map_err(|_| not_a_number())?;
        let signed = if negative { -digits } else { digits };
        // hundredths of °C = numerator / denominator, exactly
        let (numerator, denominator) = match unit {
            Unit::Celsius => (signed * 100, scale),
            // (F − 32) × 5/9 °C = (signed − 32·scale) × 500 / (9·scale) hundredths
            Unit::Fahrenheit => ((signed - 32 * scale) * 500, 9 * scale),
        };
        let floor = numerator.div_euclid(denominator);
        let rounded_up = numerator.rem_euclid(denominator) != 0;
        let ceiling = floor + i128::from(rounded_up);
        // below absolute zero if the exact value is: the floor tells, since
        // −273.15 is itself a whole hundredth
        if floor < i128::from(Self::ABSOLUTE_ZERO.0) {
            return Err(TemperatureError::BelowAbsoluteZero(trimmed.to_owned()));
        }
        if ceiling > i128::from(Self::HOTTEST.0) {
            return Err(TemperatureError::TooHot {
                text: trimmed.to_owned(),
                max: Self::HOTTEST.0 / 100,
            });
        }
        let value = i32::try_from(ceiling).map_err(|_| not_a_number())?;
        Ok(ParsedTemperature {
            value: CentiCelsius(value),
            rounded_up,
        })
    }
}

/// `-150.00` (degrees Celsius, two decimals, ASCII minus).
impl fmt::Display for CentiCelsius {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", magnitude / 100, magnitude % 100)
    }
}

impl From<CentiCelsius> for i32 {
    fn from(value: CentiCelsius) -> i32 {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(text: &str) -> Result<ParsedTemperature, TemperatureError> {
        CentiCelsius::parse(text, Unit::Celsius, DecimalMark::Point)
    }

    fn exact(centi: i32) -> ParsedTemperature {
        ParsedTemperature {
            value: CentiCelsius(centi),
            rounded_up: false,
        }
    }

    #[test]
    fn reads_the_ways_loggers_write_celsius() {
        assert_eq!(c("-196.5"), Ok(exact(-19_650)));
        assert_eq!(c(" -150 "), Ok(exact(-15_000)));
        assert_eq!(c("+4"), Ok(exact(400)));
        assert_eq!(c("0.05"), Ok(exact(5)));
        assert_eq!(c("-0.00"), Ok(exact(0)));
        assert_eq!(c("\u{2212}150.2"), Ok(exact(-15_020)));
        assert_eq!(
            CentiCelsius::parse("\u{2212}150,2", Unit::Celsius, DecimalMark::PointOrComma),
            Ok(exact(-15_020))
        );
        assert_eq!(
            CentiCelsius::parse("-150.2", Unit::Celsius, DecimalMark::PointOrComma),
            Ok(exact(-15_020))
        );
        assert_eq!(c("-273.15"), Ok(exact(-27_315)));
        assert_eq!(c("1000"), Ok(exact(100_000)));
    }

    #[test]
    fn finer_values_round_toward_warm() {
        let up = |centi| ParsedTemperature {
            value: CentiCelsius(centi),
            rounded_up: true,
        };
        assert_eq!(c("-196.125"), Ok(up(-19_612)));
        assert_eq!(c("-150.001"), Ok(up(-15_000)));
        assert_eq!(c("-149.999"), Ok(up(-14_999)));
        assert_eq!(c("24.195"), Ok(up(2_420)));
        assert_eq!(c("-150.000"), Ok(exact(-15_000)));
    }

    #[test]
    fn fahrenheit_is_converted_exactly_or_rounded_up() {
        let f = |text| CentiCelsius::parse(text, Unit::Fahrenheit, DecimalMark::Point);
        assert_eq!(f("-238"), Ok(exact(-15_000)));
        assert_eq!(f("32"), Ok(exact(0)));
        assert_eq!(f("-40"), Ok(exact(-4_000)));
        assert_eq!(f("68.828"), Ok(exact(2_046)));
        assert_eq!(f("-320.8"), Ok(exact(-19_600)));
        // −238.5 °F is −150.2777… °C
        assert_eq!(
            f("-238.5"),
            Ok(ParsedTemperature {
                value: CentiCelsius(-15_027),
                rounded_up: true
            })
        );
        assert_eq!(f("-459.67"), Ok(exact(-27_315)));
        assert!(matches!(
            f("-459.68"),
            Err(TemperatureError::BelowAbsoluteZero(_))
        ));
    }

    #[test]
    fn refuses_what_is_not_a_temperature() {
        for bad in [
            "", "-", "+", ".5", "5.", "1e3", "--5", "- 5", "12a", "NaN", "1.2.3", "0x10", "½",
        ] {
            assert!(
                matches!(c(bad), Err(TemperatureError::NotANumber(_))),
                "{bad:?} should be refused"
            );
        }
        assert!(matches!(
            c("-150,2"),
            Err(TemperatureError::DecimalComma(_))
        ));
        assert!(matches!(
            c("1234567"),
            Err(TemperatureError::TooManyDigits(_))
        ));
        assert!(matches!(
            c("1.1234567891"),
            Err(TemperatureError::TooManyDigits(_))
        ));
        assert!(matches!(
            c("-273.151"),
            Err(TemperatureError::BelowAbsoluteZero(_))
        ));
        assert!(matches!(c("1000.01"), Err(TemperatureError::TooHot { .. })));
        assert_eq!(
            c("-300").unwrap_err().to_string(),
            "“-300” is below absolute zero (−273.15 °C)"
        );
    }

    #[test]
    fn prints_two_decimals() {
        assert_eq!(CentiCelsius(-15_000).to_string(), "-150.00");
        assert_eq!(CentiCelsius(-5).to_string(), "-0.05");
        assert_eq!(CentiCelsius(1_234).to_string(), "12.34");
        assert_eq!(CentiCelsius::degrees(-150), CentiCelsius(-15_000));
        assert_eq!(CentiCelsius::new(-27_316), None);
        assert_eq!(CentiCelsius::new(100_001), None);
    }

    proptest! {
        #[test]
        fn printing_then_reading_gives_the_same_value(centi in -27_315_i32..=100_000) {
            let value = CentiCelsius(centi);
            prop_assert_eq!(c(&value.to_string()), Ok(exact(centi)));
        }

        #[test]
        fn the_ceiling_keeps_every_limit_decision(
            centi in -27_000_i32..=10_000,
            thousandth in 0_i32..10,
            limit in -27_000_i32..=10_000,
        ) {
            // the exact value in thousandths, against a limit in hundredths
            let thousandths = centi * 10 + thousandth;
            let text = format!(
                "{}{}.{:03}",
                if thousandths < 0 { "-" } else { "" },
                thousandths.unsigned_abs() / 1000,
                thousandths.unsigned_abs() % 1000
            );
            let parsed = c(&text).unwrap();
            prop_assert_eq!(parsed.value.get() > limit, thousandths > limit * 10);
            prop_assert_eq!(parsed.rounded_up, thousandths % 10 != 0);
        }
    }
}

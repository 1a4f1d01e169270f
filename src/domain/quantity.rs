//! Quantities as checked integers: a weight in grams, a count of cells, a
//! volume in microlitres, a dose in cells per kg. Each is made by `parse`,
//! which checks its range, and trusted past that point; the dose arithmetic
//! takes them, so a weight of −3 g or a dose of 10^30 cells never reaches it.
//!
//! The ranges are the physical bounds of the lab, wide enough for every
//! value the tables hold; the protocol's narrower limits (a plausible
//! weight, cells per vial) are checked where they apply. On the wire and in
//! the tables each is its plain integer.

use std::fmt;

/// A value outside its quantity's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{value} is not a {quantity} ({min} to {max})")]
pub struct OutOfRange {
    pub quantity: &'static str,
    pub value: i64,
    pub min: i64,
    pub max: i64,
}

macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const MIN: i64 = $min;
            pub const MAX: i64 = $max;

            pub fn parse(value: i64) -> Result<$name, OutOfRange> {
                if ($name::MIN..=$name::MAX).contains(&value) {
                    Ok($name(value))
                } else {
                    Err(OutOfRange {
                        quantity: stringify!($name),
                        value,
                        min: $name::MIN,
                        max: $name::MAX,
                    })
                }
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(quantity: $name) -> i64 {
                quantity.0
            }
        }
    };
}

quantity!(
    /// A body weight in whole grams: 1 g to 1 t (the protocol allows 0.5 to
    /// 500 kg).
    Grams,
    1,
    1_000_000
);

quantity!(
    /// A number of cells: none to 10^15 (a dose at the largest dose per kg
    /// and weight is 10^13).
    Cells,
    0,
    1_000_000_000_000_000
);

quantity!(
    /// A volume in whole microlitres: none to 1000 L (a vial holds at most
    /// 100 mL).
    Microlitres,
    0,
    1_000_000_000
);

quantity!(
    /// A dose in viable cells per kg of body weight: 1 to 10^10.
    CellsPerKg,
    1,
    10_000_000_000
);

/// No cells: a count not made yet reads as none.
impl Default for Cells {
    fn default() -> Cells {
        Cells(0)
    }
}

/// No volume: a volume not measured yet reads as none.
impl Default for Microlitres {
    fn default() -> Microlitres {
        Microlitres(0)
    }
}

impl Cells {
    /// A count the dose arithmetic has proved in range (a product of checked
    /// quantities); a value outside it is a bug in that proof.
    pub(crate) fn counted(value: i64) -> Cells {
        debug_assert!((Cells::MIN..=Cells::MAX).contains(&value), "{value} cells");
        Cells(value.clamp(Cells::MIN, Cells::MAX))
    }
}

impl Microlitres {
    /// A volume the dose arithmetic has proved in range (a sum or a share of
    /// checked volumes).
    pub(crate) fn measured(value: i64) -> Microlitres {
        debug_assert!(
            (Microlitres::MIN..=Microlitres::MAX).contains(&value),
            "{value} µL"
        );
        Microlitres(value.clamp(Microlitres::MIN, Microlitres::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits<T: fmt::Debug>(parse: fn(i64) -> Result<T, OutOfRange>, min: i64, max: i64) {
        assert!(parse(min).is_ok(), "{min}");
        assert!(parse(max).is_ok(), "{max}");
        assert_eq!(parse(min - 1).unwrap_err().value, min - 1);
        assert_eq!(parse(max + 1).unwrap_err().value, max + 1);
        assert!(parse(i64::MIN).is_err() && parse(i64::MAX).is_err());
    }

    #[test]
    fn grams_are_1_g_to_1_t() {
        limits(Grams::parse, 1, 1_000_000);
        assert_eq!(Grams::parse(72_500).unwrap().get(), 72_500);
        assert_eq!(
            Grams::parse(0).unwrap_err().to_string(),
            "0 is not a Grams (1 to 1000000)"
        );
    }

    #[test]
    fn cells_are_none_to_10_15() {
        limits(Cells::parse, 0, 1_000_000_000_000_000);
        assert_eq!(Cells::parse(25_000_000).unwrap().get(), 25_000_000);
    }

    #[test]
    fn microlitres_are_none_to_1000_l() {
        limits(Microlitres::parse, 0, 1_000_000_000);
        assert_eq!(i64::from(Microlitres::parse(1500).unwrap()), 1500);
    }

    #[test]
    fn a_dose_per_kg_is_1_to_10_10_cells() {
        limits(CellsPerKg::parse, 1, 10_000_000_000);
    }

    #[test]
    fn quantities_are_plain_integers_on_the_wire() {
        let json = serde_json::to_string(&(Grams::parse(70_000).unwrap(), Cells::counted(3)));
        assert_eq!(json.unwrap(), "[70000,3]");
    }
}

//! The dose arithmetic against hand-worked cases and properties.

use super::*;
use crate::domain::quantity::{Cells, CellsPerKg, Grams, Microlitres};
use proptest::prelude::*;

fn g(grams: i64) -> Grams {
    Grams::parse(grams).unwrap()
}

fn per_kg(cells: i64) -> CellsPerKg {
    CellsPerKg::parse(cells).unwrap()
}

fn cells(n: i64) -> Cells {
    Cells::parse(n).unwrap()
}

fn ul(volume: i64) -> Microlitres {
    Microlitres::parse(volume).unwrap()
}

#[test]
fn weights_convert_exactly() {
    assert_eq!(weight_to_grams("70", WeightUnit::Kg), Some(70_000));
    assert_eq!(weight_to_grams("72.5", WeightUnit::Kg), Some(72_500));
    assert_eq!(weight_to_grams("72.0004", WeightUnit::Kg), Some(72_000));
    assert_eq!(weight_to_grams("72.0005", WeightUnit::Kg), Some(72_001));
    // 1 lb = 453.59237 g
    assert_eq!(weight_to_grams("1", WeightUnit::Lb), Some(454));
    assert_eq!(weight_to_grams("100", WeightUnit::Lb), Some(45_359));
    assert_eq!(weight_to_grams("160", WeightUnit::Lb), Some(72_575));
    assert_eq!(weight_to_grams("551.155655", WeightUnit::Lb), Some(250_000));
    assert_eq!(weight_to_grams("66.138679", WeightUnit::Lb), Some(30_000));
    for bad in ["", "-70", "70kg", "7e1", ".5", "5.", "1.1234567", "NaN"] {
        assert_eq!(weight_to_grams(bad, WeightUnit::Kg), None, "{bad:?}");
    }
}

#[test]
fn the_seed_dose_at_the_edges_of_plausible_weight() {
    let at_30 = dose_target(per_kg(1_000_000), g(30_000), 10);
    assert_eq!(
        (
            at_30.target_cells.get(),
            at_30.min_cells.get(),
            at_30.max_cells.get()
        ),
        (30_000_000, 27_000_000, 33_000_000)
    );
    let at_250 = dose_target(per_kg(1_000_000), g(250_000), 10);
    assert_eq!(at_250.target_cells.get(), 250_000_000);
    assert_eq!(at_250.max_cells.get(), 275_000_000);
    // a fraction of a gram never arises (weights are whole grams), but
    // a dose per kg that is not a multiple of 1000 floors
    let odd = dose_target(per_kg(1_234_567), g(70_001), 10);
    assert_eq!(odd.target_cells.get(), 1_234_567 * 70_001 / 1000);
    assert_eq!(
        odd.min_cells.get(),
        (1_234_567i128 * 70_001 * 90 / 100_000) as i64
    );
}

#[test]
fn vials_cover_the_target_after_recovery() {
    // 70 kg: 70 × 10^6 cells; 25 × 10^6 per vial at 80 % = 20 × 10^6 each
    assert_eq!(vials_needed(cells(70_000_000), cells(25_000_000), 80), 4);
    assert_eq!(vials_needed(cells(80_000_000), cells(25_000_000), 80), 4);
    assert_eq!(vials_needed(cells(80_000_001), cells(25_000_000), 80), 5);
    assert_eq!(vials_needed(cells(1), cells(25_000_000), 80), 1);
}

#[test]
fn changes_past_the_threshold_need_confirmation() {
    assert!(!change_needs_confirmation(70_000, 77_000, 10));
    assert!(change_needs_confirmation(70_000, 77_001, 10));
    assert!(!change_needs_confirmation(70_000, 63_000, 10));
    assert!(change_needs_confirmation(70_000, 62_999, 10));
    // the lb/kg slip: 70 entered as pounds
    let slip = weight_to_grams("70", WeightUnit::Lb).unwrap();
    assert!(change_needs_confirmation(70_000, slip, 10));
    assert_eq!(change_tenths_pct(70_000, 77_000), 100);
}

fn count(per_ml: i64, volume_ul: i64) -> ThawCount {
    ThawCount {
        viable_cells_per_ml: per_ml,
        viability_tenths: 900,
        volume_ul: ul(volume_ul),
    }
}

#[test]
fn the_volume_holds_the_dose() {
    // 70 kg; 4 vials of 1.5 mL at 16 × 10^6 viable cells/mL:
    // 96 × 10^6 cells in 6 mL; 70 × 10^6 needs 4.375 mL -> 4.4 mL
    let target = dose_target(per_kg(1_000_000), g(70_000), 10);
    let prep = prepare(&target, &[count(16_000_000, 1500); 4]).unwrap();
    assert_eq!(prep.concentration_cells_per_ml, 16_000_000);
    assert_eq!(prep.volume_ul.get(), 4400);
    assert_eq!(prep.cells_to_administer.get(), 70_400_000);
    assert_eq!(prep.available_ul.get(), 6000);
}

#[test]
fn vials_of_different_counts_pool() {
    // 40 × 10^6 cells in 2 mL: 20 × 10^6/mL; 30 × 10^6 is 1.5 mL
    let target = dose_target(per_kg(1_000_000), g(30_000), 10);
    let prep = prepare(&target, &[count(10_000_000, 1000), count(30_000_000, 1000)]).unwrap();
    assert_eq!(prep.concentration_cells_per_ml, 20_000_000);
    assert_eq!(prep.volume_ul.get(), 1500);
    assert_eq!(prep.cells_to_administer.get(), 30_000_000);
}

#[test]
fn too_few_cells_or_too_little_volume_is_refused() {
    let target = dose_target(per_kg(1_000_000), g(60_000), 10);
    assert_eq!(
        prepare(&target, &[count(10_000_000, 1000), count(30_000_000, 1000)]),
        Err(PreparationError::NotEnoughVolume {
            volume_ul: 3000,
            available_ul: 2000
        })
    );
    assert_eq!(
        prepare(&target, &[count(0, 1000)]),
        Err(PreparationError::NoCells)
    );
    // so concentrated that 0.1 mL steps miss the ±10 % window
    let small = dose_target(per_kg(1_000_000), g(30_000), 10);
    let result = prepare(&small, &[count(1_000_000_000, 1000)]);
    assert!(
        matches!(
            result,
            Err(PreparationError::OutOfRange { volume_ul: 0, .. })
        ),
        "{result:?}"
    );
}

#[test]
fn viability_is_read_to_a_tenth() {
    assert_eq!(parse_viability("85.7"), Some(857));
    assert_eq!(parse_viability("70"), Some(700));
    assert_eq!(parse_viability("100"), Some(1000));
    // more places are read exactly and floored to the tenth
    assert_eq!(parse_viability("85.75"), Some(857));
    assert_eq!(parse_viability("69.99999999999999999"), Some(699));
    assert_eq!(parse_viability("70.00000000000000000"), Some(700));
    assert_eq!(parse_viability("100.000"), Some(1000));
    for bad in [
        "100.1",
        "100.00000000000000001",
        "-1",
        "x",
        "",
        "7e1",
        "70.",
    ] {
        assert_eq!(parse_viability(bad), None, "{bad:?}");
    }
    let counts = [
        ThawCount {
            viability_tenths: 700,
            ..count(1, 1)
        },
        ThawCount {
            viability_tenths: 699,
            ..count(1, 1)
        },
    ];
    assert_eq!(below_viability(&counts, 70), [1]);
}

const RULES: CountRules = CountRules {
    min_viability_pct: 70,
    recovery_min_pct: 40,
    recovery_max_pct: 110,
    spread_max_pct: 30,
};

#[test]
fn a_ten_times_slip_in_one_count_is_implausible() {
    // 25 × 10^6 cells frozen in 1.5 mL; 16 × 10^6/mL recovers 24 × 10^6: 96 %
    let good = count(16_000_000, 1500);
    let slip = count(160_000_000, 1500);
    let judged = judge_counts(&[good, good, slip, good], &[cells(25_000_000); 4], RULES);
    assert_eq!(judged[0].recovery_tenths, 960);
    assert!(judged[0].passes(false));
    assert_eq!(judged[2].recovery_tenths, 9600);
    assert!(judged[2].recovery_implausible);
    // 160 against a median of 16: 900 % away
    assert_eq!(judged[2].spread_tenths, Some(9000));
    assert!(!judged[2].passes(false));
    assert!(judged[2].passes(true), "a person may confirm it");
}

#[test]
fn recovery_is_judged_exactly_at_its_edges() {
    // 40 % of 25 × 10^6 is 10 × 10^6 viable cells in 1.5 mL
    let at = |per_ml| judge_counts(&[count(per_ml, 1500)], &[cells(25_000_000)], RULES)[0];
    let edge_low = 10_000_000 * 1000 / 1500; // 6 666 666: just under 10 × 10^6 cells
    assert!(at(edge_low).recovery_implausible);
    assert!(!at(edge_low + 1).recovery_implausible);
    // 110 %: 27.5 × 10^6 cells = 18 333 333.3/mL
    assert!(!at(18_333_333).recovery_implausible);
    assert!(at(18_333_334).recovery_implausible);
    // one vial has no median to differ from
    assert_eq!(at(16_000_000).spread_tenths, None);
    // a low viability fails even when confirmed
    let low = ThawCount {
        viability_tenths: 699,
        ..count(16_000_000, 1500)
    };
    let judged = judge_counts(&[low], &[cells(25_000_000)], RULES)[0];
    assert!(judged.viability_low && !judged.passes(true));
}

#[test]
fn counts_far_from_their_median_are_named() {
    // median of 10, 12, 16 is 12; 16 is 33.3 % away
    let judged = judge_counts(
        &[
            count(10_000_000, 2000),
            count(12_000_000, 2000),
            count(16_000_000, 2000),
        ],
        &[cells(25_000_000); 3],
        RULES,
    );
    assert_eq!(judged[0].spread_tenths, None); // 16.7 %
    assert_eq!(judged[2].spread_tenths, Some(333));
    // two vials: the median is their mean; 30 % exactly is allowed
    let judged = judge_counts(
        &[count(13_000_000, 2000), count(7_000_000, 2000)],
        &[cells(25_000_000); 2],
        RULES,
    );
    assert_eq!(judged[0].spread_tenths, None);
    assert_eq!(judged[1].spread_tenths, None);
}

#[test]
fn weights_needing_confirmation_say_why() {
    let enrolment = Reference {
        weight_g: g(70_000),
        kind: "enrolment",
        older: false,
    };
    // 154 "kg" against 70 kg at enrolment: +120 %
    let concerns = weight_concerns(g(154_000), Some(enrolment), Some(1700), 10, 20, 12, 60);
    assert_eq!(
        concerns[0],
        WeightConcern::Change {
            compared_with_g: 70_000,
            compared_with: "enrolment",
            change_tenths_pct: 1200,
            threshold_pct: 10,
            older: false,
        }
    );
    // 154 kg at 1.70 m is a BMI of 53.2: inside 12-60
    assert_eq!(concerns.len(), 1);
    assert_eq!(bmi_tenths(g(154_000), 1700), 532);
    assert_eq!(
        likely_slip("154", WeightUnit::Kg, 154_000, 70_000, 10).as_deref(),
        Some("was it typed in pounds? 154 lb would be 69.9 kg")
    );
    assert_eq!(
        likely_slip("7.2", WeightUnit::Kg, 7_200, 70_000, 10).as_deref(),
        Some("is the decimal point in the right place? 72 kg would be close")
    );
    // an older reference is compared at 20 %
    let older = Reference {
        older: true,
        kind: "previous",
        ..enrolment
    };
    assert!(weight_concerns(g(83_000), Some(older), None, 10, 20, 12, 60).is_empty());
    assert_eq!(
        weight_concerns(g(84_001), Some(older), None, 10, 20, 12, 60).len(),
        1
    );
    // BMI edges, exactly: 12 at 1.70 m is 34.68 kg
    assert!(weight_concerns(g(34_680), None, Some(1700), 10, 20, 12, 60).is_empty());
    assert_eq!(
        weight_concerns(g(34_679), None, Some(1700), 10, 20, 12, 60),
        [WeightConcern::Bmi {
            bmi_tenths: 119,
            min: 12,
            max: 60
        }]
    );
    assert!(weight_concerns(g(173_400), None, Some(1700), 10, 20, 12, 60).is_empty());
    assert_eq!(
        weight_concerns(g(173_401), None, Some(1700), 10, 20, 12, 60).len(),
        1
    );
}

#[test]
fn millilitres_read_as_on_the_bag() {
    assert_eq!(parse_millilitres("4.4"), Some(4400));
    assert_eq!(parse_millilitres("4"), Some(4000));
    assert_eq!(parse_millilitres("0.125"), Some(125));
    for bad in ["", "4,4", "-4", "4.4444", "4 mL"] {
        assert_eq!(parse_millilitres(bad), None, "{bad:?}");
    }
    assert!(!infused_volume_unusual(ul(4400), ul(4400), 10));
    assert!(!infused_volume_unusual(ul(3960), ul(4400), 10));
    assert!(infused_volume_unusual(ul(3959), ul(4400), 10));
    assert!(
        infused_volume_unusual(ul(4), ul(4400), 10),
        "µL typed for mL"
    );
}

#[test]
fn a_weight_a_dose_is_based_on_is_plausible() {
    assert_eq!(plausible_weight(30_000, 30_000, 250_000), Ok(g(30_000)));
    assert_eq!(plausible_weight(250_000, 30_000, 250_000), Ok(g(250_000)));
    let refused = ImplausibleWeight {
        weight_g: 29_999,
        min_g: 30_000,
        max_g: 250_000,
    };
    assert_eq!(plausible_weight(29_999, 30_000, 250_000), Err(refused));
    assert!(plausible_weight(250_001, 30_000, 250_000).is_err());
    // a range wider than any body still gives only grams
    assert!(plausible_weight(0, -1, 2_000_000).is_err());
    assert!(plausible_weight(1_000_001, -1, 2_000_000).is_err());
    assert_eq!(entered_weight("value", "72.5", WeightUnit::Kg), Ok(72_500));
    let unread = entered_weight("weight.value", "72,5", WeightUnit::Kg).unwrap_err();
    assert_eq!(unread.field, "weight.value");
}

#[test]
fn a_dose_per_kg_is_1_to_10_10_cells() {
    assert_eq!(parse_dose_per_kg(1), Ok(per_kg(1)));
    assert_eq!(
        parse_dose_per_kg(10_000_000_000),
        Ok(per_kg(10_000_000_000))
    );
    let refused = parse_dose_per_kg(0).unwrap_err();
    assert_eq!(
        (refused.field, refused.message.as_str()),
        ("dose_per_kg", "1 to 10^10 cells per kg")
    );
    assert!(parse_dose_per_kg(10_000_000_001).is_err());
}

#[test]
fn a_calculation_weighs_one_way() {
    assert_eq!(weight_source(Some(1), None), Ok(WeightSource::Patient(1)));
    assert_eq!(
        weight_source::<u8>(None, Some(70_000)),
        Ok(WeightSource::Given(70_000))
    );
    assert_eq!(
        weight_source::<u8>(None, None).unwrap_err().field,
        "patient_id"
    );
    assert!(weight_source(Some(1), Some(70_000)).is_err());
}

#[test]
fn counts_sent_are_checked_before_anything_is_loaded() {
    let a = uuid::Uuid::from_u128(1);
    let sent = |per_ml, because| CountSent {
        vial_id: a,
        viable_cells_per_ml: per_ml,
        confirmed_because: because,
    };
    assert!(check_counts_sent(&[sent(0, None)]).is_ok());
    assert!(check_counts_sent(&[sent(10_000_000_000, Some("recounted"))]).is_ok());
    assert_eq!(
        check_counts_sent(&[sent(-1, None)]).unwrap_err().field,
        "viable_cells_per_ml"
    );
    assert!(check_counts_sent(&[sent(10_000_000_001, None)]).is_err());
    assert_eq!(
        check_counts_sent(&[sent(1, Some(" "))]).unwrap_err().field,
        "reason"
    );
    assert_eq!(
        check_counts_sent(&[sent(1, None), sent(2, None)])
            .unwrap_err()
            .message,
        "a vial is counted twice"
    );
}

#[test]
fn counts_cover_the_dose_s_vials() {
    let (a, b, c) = (
        uuid::Uuid::from_u128(1),
        uuid::Uuid::from_u128(2),
        uuid::Uuid::from_u128(3),
    );
    let vials = [
        DoseVial {
            id: a,
            code: "V001",
            uncounted: true,
        },
        DoseVial {
            id: b,
            code: "V002",
            uncounted: false,
        },
    ];
    let set = |ids: &[uuid::Uuid]| ids.iter().copied().collect();
    assert!(check_counted_vials(&vials, &set(&[a]), false).is_ok());
    assert!(check_counted_vials(&vials, &set(&[a, b]), true).is_ok());
    assert_eq!(
        check_counted_vials(&vials, &set(&[a, c]), true)
            .unwrap_err()
            .message,
        "a count is for a vial that is not in this dose; its vials are V001, V002"
    );
    assert_eq!(
        check_counted_vials(&vials, &set(&[b]), true)
            .unwrap_err()
            .message,
        "one count for each vial not counted yet: V001 (missing V001)"
    );
    let counted = [vials[1]];
    assert_eq!(
        check_counted_vials(&counted, &set(&[]), true)
            .unwrap_err()
            .field,
        "vials"
    );
    assert_eq!(
        check_counted_vials(&counted, &set(&[b]), false)
            .unwrap_err()
            .message,
        "V002 already counted: a correction of a recorded count is signed, with a reason"
    );
}

proptest! {
    #[test]
    fn a_prepared_dose_is_always_within_its_range(
        weight_g in 30_000i64..=250_000,
        per_ml in 1_000_000i64..=50_000_000,
        vials in 1usize..=12,
        volume_ul in 500i64..=5_000,
    ) {
        let target = dose_target(per_kg(1_000_000), g(weight_g), 10);
        let counts = vec![count(per_ml, volume_ul); vials];
        if let Ok(prep) = prepare(&target, &counts) {
            prop_assert!(prep.cells_to_administer >= target.min_cells);
            prop_assert!(prep.cells_to_administer <= target.max_cells);
            prop_assert!(prep.volume_ul <= prep.available_ul);
            prop_assert_eq!(prep.volume_ul.get() % 100, 0);
        }
    }

    #[test]
    fn the_range_brackets_the_target(weight_g in 1i64..=500_000, tol in 0i32..=50) {
        let t = dose_target(per_kg(1_000_000), g(weight_g), tol);
        prop_assert!(t.min_cells <= t.target_cells && t.target_cells <= t.max_cells);
    }

    #[test]
    fn reserved_vials_reach_the_target_after_recovery(
        target in 1i64..=1_000_000_000,
        per_vial in 1_000_000i64..=100_000_000,
        recovery in 1i32..=100,
    ) {
        let n = vials_needed(cells(target), cells(per_vial), recovery);
        prop_assert!(i128::from(n) * i128::from(per_vial) * i128::from(recovery) >= i128::from(target) * 100);
        prop_assert!(i128::from(n - 1) * i128::from(per_vial) * i128::from(recovery) < i128::from(target) * 100);
    }
}

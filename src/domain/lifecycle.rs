//! The lifecycles of lots and vials (DESIGN.md "Vial life"), as pure
//! functions that say whether a transition is allowed and, if not, why.
//! Nothing moves backwards; a correction is a new event.

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(::std::format!("unknown {} {other:?}", stringify!($name))),
                }
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// Where a lot is in its life.
    LotStatus {
        InProcess => "in_process",
        Quarantine => "quarantine",
        Released => "released",
        Rejected => "rejected",
        Recalled => "recalled",
    }
);

string_enum!(
    /// What can be done to a lot.
    LotAction {
        Freeze => "freeze",
        Release => "release",
        Reject => "reject",
        Recall => "recall",
    }
);

string_enum!(
    /// Where a vial is in its life.
    VialStatus {
        Quarantine => "quarantine",
        Available => "available",
        Reserved => "reserved",
        Thawed => "thawed",
        Infused => "infused",
        Discarded => "discarded",
        Recalled => "recalled",
        InTransit => "in_transit",
        OnHold => "on_hold",
    }
);

string_enum!(
    /// What can be done to a vial.
    VialAction {
        Store => "store",
        Release => "release",
        Reserve => "reserve",
        Unreserve => "unreserve",
        Thaw => "thaw",
        Infuse => "infuse",
        Discard => "discard",
        Recall => "recall",
        Pack => "pack",
        Unpack => "unpack",
        Receive => "receive",
        Hold => "hold",
        ReleaseHold => "release_hold",
    }
);

string_enum!(
    /// Where a dose order is: `reserved -> thawed -> verified -> infusing ->
    /// infused`, or `cancelled` before the infusion starts. Counts that fail
    /// (viability, plausibility, range, expiry) leave the dose
    /// `count_failed`: its vials are thawed, and it waits for a replacement
    /// vial, a signed corrected count or a cancellation.
    DoseStatus {
        Reserved => "reserved",
        CountFailed => "count_failed",
        Thawed => "thawed",
        Verified => "verified",
        Infusing => "infusing",
        Infused => "infused",
        Cancelled => "cancelled",
    }
);

impl DoseStatus {
    /// A dose in one of these holds its patient (one at a time) and its
    /// vials: it is not finished.
    pub const OPEN: [DoseStatus; 5] = [
        DoseStatus::Reserved,
        DoseStatus::CountFailed,
        DoseStatus::Thawed,
        DoseStatus::Verified,
        DoseStatus::Infusing,
    ];

    pub fn is_open(self) -> bool {
        DoseStatus::OPEN.contains(&self)
    }

    /// Prepared and signed for, or at the bedside: its vials are in use and
    /// nothing may take them away (`409 in_use`).
    pub fn in_use(self) -> bool {
        matches!(self, DoseStatus::Verified | DoseStatus::Infusing)
    }
}

string_enum!(
    /// Where an infusion is.
    InfusionStatus {
        Started => "started",
        Completed => "completed",
    }
);

string_enum!(
    /// What can be done to a dose order.
    DoseAction {
        Thaw => "thaw",
        Verify => "verify",
        Cancel => "cancel",
        ReplaceVial => "replace_vial",
        StartInfusion => "start_infusion",
        CompleteInfusion => "complete_infusion",
    }
);

/// A transition the lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a {kind} that is {from}")]
pub struct TransitionRefused {
    pub kind: &'static str,
    pub from: &'static str,
    pub action: &'static str,
}

/// The lot's next status: `in_process -> quarantine -> released | rejected`,
/// `in_process -> rejected`, `released -> recalled`.
pub fn lot_transition(from: LotStatus, action: LotAction) -> Result<LotStatus, TransitionRefused> {
    use LotAction as A;
    use LotStatus as S;
    let to = match (from, action) {
        (S::InProcess, A::Freeze) => S::Quarantine,
        (S::Quarantine, A::Release) => S::Released,
        (S::InProcess | S::Quarantine, A::Reject) => S::Rejected,
        (S::Released, A::Recall) => S::Recalled,
        _ => {
            return Err(TransitionRefused {
                kind: "lot",
                from: from.as_str(),
                action: action.as_str(),
            });
        }
    };
    Ok(to)
}

/// The vial's next status. `store` (put into or move within storage) keeps
/// the status; a vial that has left storage for good (thawed, infused,
/// discarded) cannot be stored again.
///
/// Shipping: a vial packed into a shipment's container has left storage
/// and is `in_transit` from that scan (an open shipper is no more a place
/// to dose from than a sealed one); taken out before the seal it is
/// `available` again, and scanned in at the receiving site and signed for,
/// `available` there. A vial that does not arrive is discarded. A recall
/// reaches a vial in transit too.
///
/// Holds: a temperature excursion (or a quality decision) puts a vial
/// `on_hold`; it may be moved within storage, recalled or discarded, and
/// released from hold, which gives back the status it had when held (the
/// service keeps it: `held_from`; `release_hold` here names `available`,
/// the usual one).
pub fn vial_transition(
    from: VialStatus,
    action: VialAction,
) -> Result<VialStatus, TransitionRefused> {
    use VialAction as A;
    use VialStatus as S;
    let to = match (from, action) {
        (S::Quarantine | S::Available | S::Reserved | S::Recalled | S::OnHold, A::Store) => from,
        (S::Quarantine, A::Release) => S::Available,
        (S::Available, A::Reserve) => S::Reserved,
        (S::Reserved, A::Unreserve) => S::Available,
        (S::Reserved, A::Thaw) => S::Thawed,
        (S::Thawed, A::Infuse) => S::Infused,
        (
            S::Quarantine
            | S::Available
            | S::Reserved
            | S::Thawed
            | S::Recalled
            | S::InTransit
            | S::OnHold,
            A::Discard,
        ) => S::Discarded,
        (S::Quarantine | S::Available | S::Reserved | S::InTransit | S::OnHold, A::Recall) => {
            S::Recalled
        }
        (S::Available, A::Pack) => S::InTransit,
        (S::InTransit, A::Unpack | A::Receive) => S::Available,
        (S::Quarantine | S::Available | S::Reserved | S::InTransit, A::Hold) => S::OnHold,
        (S::OnHold, A::ReleaseHold) => S::Available,
        _ => {
            return Err(TransitionRefused {
                kind: "vial",
                from: from.as_str(),
                action: action.as_str(),
            });
        }
    };
    Ok(to)
}

/// The dose order's next status. Recording counts (`thaw`) is allowed on a
/// reserved dose (the first counts), on a dose whose counts failed (the
/// count of a replacement vial, or a signed correction) and on a thawed dose
/// before its verification (a signed correction); whether the dose ends
/// `thawed` or `count_failed` is the counts' judgement
/// ([`count_outcome`]), not the lifecycle's.
pub fn dose_transition(
    from: DoseStatus,
    action: DoseAction,
) -> Result<DoseStatus, TransitionRefused> {
    use DoseAction as A;
    use DoseStatus as S;
    let to = match (from, action) {
        (S::Reserved | S::CountFailed | S::Thawed, A::Thaw) => S::Thawed,
        (S::Reserved, A::ReplaceVial) => S::Reserved,
        (S::CountFailed, A::ReplaceVial) => S::CountFailed,
        (S::Thawed, A::Verify) => S::Verified,
        (S::Reserved | S::CountFailed | S::Thawed | S::Verified, A::Cancel) => S::Cancelled,
        (S::Verified, A::StartInfusion) => S::Infusing,
        (S::Infusing, A::CompleteInfusion) => S::Infused,
        _ => {
            return Err(TransitionRefused {
                kind: "dose",
                from: from.as_str(),
                action: action.as_str(),
            });
        }
    };
    Ok(to)
}

/// Where recorded counts leave a dose: `thawed` when every vial's count
/// passes and the preparation is in range, else `count_failed`.
pub fn count_outcome(passed: bool) -> DoseStatus {
    if passed {
        DoseStatus::Thawed
    } else {
        DoseStatus::CountFailed
    }
}

/// The actions a dose in this status allows.
pub fn dose_actions(from: DoseStatus) -> Vec<DoseAction> {
    DoseAction::ALL
        .iter()
        .copied()
        .filter(|action| dose_transition(from, *action).is_ok())
        .collect()
}

/// The actions a vial in this status allows, in the lifecycle's order.
pub fn vial_actions(from: VialStatus) -> Vec<VialAction> {
    VialAction::ALL
        .iter()
        .copied()
        .filter(|action| vial_transition(from, *action).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in VialStatus::ALL {
            assert_eq!(s.as_str().parse::<VialStatus>(), Ok(*s));
        }
        for s in LotStatus::ALL {
            assert_eq!(s.as_str().parse::<LotStatus>(), Ok(*s));
        }
        assert!("Released".parse::<LotStatus>().is_err());
    }

    #[test]
    fn the_vial_life_of_the_design() {
        use VialAction as A;
        use VialStatus as S;
        let mut status = S::Quarantine;
        for (action, expected) in [
            (A::Store, S::Quarantine),
            (A::Release, S::Available),
            (A::Reserve, S::Reserved),
            (A::Unreserve, S::Available),
            (A::Reserve, S::Reserved),
            (A::Thaw, S::Thawed),
            (A::Infuse, S::Infused),
        ] {
            status = vial_transition(status, action).unwrap();
            assert_eq!(status, expected);
        }
    }

    #[test]
    fn nothing_moves_backwards_or_out_of_an_end() {
        use VialAction as A;
        use VialStatus as S;
        // every pair, against the table of what is allowed
        let allowed = |from: S, action: A| -> bool {
            matches!(
                (from, action),
                (
                    S::Quarantine | S::Available | S::Reserved | S::Recalled | S::OnHold,
                    A::Store
                ) | (S::Quarantine, A::Release)
                    | (S::Available, A::Reserve | A::Pack)
                    | (S::Reserved, A::Unreserve | A::Thaw)
                    | (S::Thawed, A::Infuse)
                    | (S::InTransit, A::Unpack | A::Receive)
                    | (S::OnHold, A::ReleaseHold)
                    | (
                        S::Quarantine | S::Available | S::Reserved | S::InTransit,
                        A::Hold
                    )
                    | (
                        S::Quarantine
                            | S::Available
                            | S::Reserved
                            | S::Thawed
                            | S::Recalled
                            | S::InTransit
                            | S::OnHold,
                        A::Discard
                    )
                    | (
                        S::Quarantine | S::Available | S::Reserved | S::InTransit | S::OnHold,
                        A::Recall
                    )
            )
        };
        for from in S::ALL {
            for action in A::ALL {
                assert_eq!(
                    vial_transition(*from, *action).is_ok(),
                    allowed(*from, *action),
                    "{from} + {action}"
                );
            }
        }
        for end in [S::Infused, S::Discarded] {
            assert!(vial_actions(end).is_empty(), "{end} is final");
        }
        assert_eq!(
            vial_transition(S::Thawed, A::Store),
            Err(TransitionRefused {
                kind: "vial",
                from: "thawed",
                action: "store"
            })
        );
    }

    #[test]
    fn a_dose_goes_forward_only() {
        use DoseAction as A;
        use DoseStatus as S;
        let mut status = S::Reserved;
        for action in [A::Thaw, A::Verify, A::StartInfusion, A::CompleteInfusion] {
            status = dose_transition(status, action).unwrap();
        }
        assert_eq!(status, S::Infused);
        assert!(dose_actions(S::Infused).is_empty());
        assert!(dose_actions(S::Cancelled).is_empty());
        for (from, action) in [
            (S::Reserved, A::Verify),
            (S::Reserved, A::StartInfusion),
            (S::Thawed, A::StartInfusion),
            (S::CountFailed, A::Verify),
            (S::CountFailed, A::StartInfusion),
            (S::Thawed, A::ReplaceVial),
            (S::Infusing, A::Cancel),
            (S::Verified, A::Thaw),
            (S::Verified, A::ReplaceVial),
            (S::Infusing, A::Thaw),
        ] {
            assert!(dose_transition(from, action).is_err(), "{from} + {action}");
        }
        // failed counts: a replacement, a corrected count or a cancellation
        assert_eq!(
            dose_actions(S::CountFailed),
            [A::Thaw, A::Cancel, A::ReplaceVial]
        );
        assert_eq!(count_outcome(true), S::Thawed);
        assert_eq!(count_outcome(false), S::CountFailed);
        // only a verified or infusing dose holds its vials "in use"
        let in_use: Vec<_> = S::ALL.iter().filter(|s| s.in_use()).collect();
        assert_eq!(in_use, [&S::Verified, &S::Infusing]);
        assert!(S::OPEN.iter().all(|s| s.is_open()));
        assert!(!S::Infused.is_open() && !S::Cancelled.is_open());
    }

    #[test]
    fn the_lot_life_of_the_design() {
        use LotAction as A;
        use LotStatus as S;
        assert_eq!(lot_transition(S::InProcess, A::Freeze), Ok(S::Quarantine));
        assert_eq!(lot_transition(S::Quarantine, A::Release), Ok(S::Released));
        assert_eq!(lot_transition(S::Quarantine, A::Reject), Ok(S::Rejected));
        assert_eq!(lot_transition(S::InProcess, A::Reject), Ok(S::Rejected));
        assert_eq!(lot_transition(S::Released, A::Recall), Ok(S::Recalled));
        for (from, action) in [
            (S::InProcess, A::Release),
            (S::Quarantine, A::Freeze),
            (S::Released, A::Release),
            (S::Released, A::Reject),
            (S::Rejected, A::Release),
            (S::Recalled, A::Release),
            (S::Recalled, A::Recall),
            (S::Quarantine, A::Recall),
        ] {
            assert!(lot_transition(from, action).is_err(), "{from} + {action}");
        }
    }
}

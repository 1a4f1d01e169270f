//! Slowing down password guessing without handing anyone a way to lock
//! others out (issue 11, "lockout as a weapon").
//!
//! A flat lock after a few wrong passwords lets anybody on the network
//! lock any account, the administrator's included, at will. Instead every
//! failed sign-in counts twice: against the client's address and against
//! the name typed (an account or not, so the answer never tells which names
//! exist). After a few free failures each further attempt must wait a delay
//! that doubles with every failure: from the address up to 15 minutes,
//! which is where a guesser is really stopped; for the name only up to a
//! minute, so an attacker elsewhere can keep the real person waiting a
//! minute at most, never for long (OWASP Authentication Cheat Sheet,
//! "account lockout"; NIST SP 800-63B §5.2.2, rate limiting).
//!
//! Failures older than the window no longer count; a successful sign-in
//! clears the name's failures, and those of its own address against that
//! name. Refused (throttled) attempts check no password and count for
//! nothing.

use std::net::{IpAddr, Ipv6Addr};

use chrono::{DateTime, Duration, Utc};

/// How far back failures count.
pub const WINDOW_HOURS: i64 = 24;

/// How a count of failures turns into a delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed before any delay.
    pub free: i64,
    /// The longest delay, in seconds.
    pub cap_seconds: i64,
}

/// Per client address: this is what stops a guesser.
pub const PER_ADDRESS: Policy = Policy {
    free: 10,
    cap_seconds: 15 * 60,
};

/// Per name typed: short, so nobody can keep a person out for long, but
/// it still bounds guessing at one account from many addresses.
pub const PER_NAME: Policy = Policy {
    free: 5,
    cap_seconds: 60,
};

/// The failures that count against a name or an address: how many, and
/// the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Failures {
    pub count: i64,
    pub last: Option<DateTime<Utc>>,
}

impl Policy {
    /// The wait owed after `count` failures: none for the free ones, then
    /// 1 s, 2 s, 4 s … up to the cap.
    pub fn delay(&self, count: i64) -> Duration {
        if count < self.free {
            return Duration::zero();
        }
        let doublings = (count - self.free).min(30);
        Duration::seconds((1i64 << doublings).min(self.cap_seconds))
    }

    /// When the next attempt may be made, if it has to wait at all.
    pub fn next_allowed(&self, failures: &Failures) -> Option<DateTime<Utc>> {
        let delay = self.delay(failures.count);
        failures
            .last
            .filter(|_| delay > Duration::zero())
            .map(|last| last + delay)
    }
}

/// Until when a sign-in with these failures must wait, or `None` when it
/// may go on at `now`.
pub fn throttled_until(
    name: &Failures,
    address: &Failures,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    [
        PER_NAME.next_allowed(name),
        PER_ADDRESS.next_allowed(address),
    ]
    .into_iter()
    .flatten()
    .filter(|until| *until > now)
    .max()
}

/// Whole seconds from `now` to `until`, rounded up (an HTTP `Retry-After`).
pub fn retry_after_seconds(until: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let micros = (until - now)
        .num_microseconds()
        .unwrap_or(i64::MAX)
        .clamp(0, i64::MAX - 999_999);
    (micros + 999_999) / 1_000_000
}

/// The start of the window at `now`.
pub fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::hours(WINDOW_HOURS)
}

/// The key of a client's address: an IPv4 address, or the /64 network of an
/// IPv6 one (one host usually holds a whole /64, so its single addresses
/// are free to change). IPv4 written as IPv6 (`::ffff:a.b.c.d`) is IPv4.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientAddress(String);

impl ClientAddress {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientAddress(v4.to_string()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientAddress(v4.to_string()),
                None => {
                    let s = v6.segments();
                    let network = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                    ClientAddress(format!("{network}/64"))
                }
            },
        }
    }

    /// The server's own host (the demo loader, the command line).
    pub fn local() -> Self {
        ClientAddress::of(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The last address of `X-Forwarded-For` header values: the one the proxy
/// in front of this server saw (earlier entries are the client's word and
/// prove nothing). `None` when there is none or it does not parse.
pub fn forwarded_for<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<IpAddr> {
    let last = values.into_iter().flat_map(|v| v.split(',')).last()?;
    let last = last.trim();
    last.parse::<IpAddr>().ok().or_else(|| {
        // `1.2.3.4:5678`, `[2001:db8::1]:5678`
        last.parse::<std::net::SocketAddr>().ok().map(|s| s.ip())
    })
}

/// The most characters of a typed name kept.
pub const NAME_CHARS: usize = 64;

/// A name as typed at sign-in, made comparable: trimmed, lower case, control
/// characters replaced, at most 64 characters. For a well-formed username
/// it is the username itself.
pub fn attempted_name(raw: &str) -> String {
    raw.trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(NAME_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::Username;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn delays_start_after_the_free_failures_and_double_up_to_the_cap() {
        for count in 0..PER_NAME.free {
            assert_eq!(PER_NAME.delay(count), Duration::zero());
        }
        let name: Vec<i64> = (5..13).map(|c| PER_NAME.delay(c).num_seconds()).collect();
        assert_eq!(name, [1, 2, 4, 8, 16, 32, 60, 60]);
        let address: Vec<i64> = (9..22)
            .map(|c| PER_ADDRESS.delay(c).num_seconds())
            .collect();
        assert_eq!(
            address,
            [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
        );
        assert_eq!(PER_ADDRESS.delay(i64::MAX).num_seconds(), 900);
    }

    #[test]
    fn the_wait_runs_from_the_last_failure() {
        let five = Failures {
            count: 5,
            last: Some(at(0)),
        };
        let none = Failures::default();
        assert_eq!(throttled_until(&five, &none, at(0)), Some(at(1)));
        assert_eq!(throttled_until(&five, &none, at(1)), None);
        let four = Failures {
            count: 4,
            last: Some(at(0)),
        };
        assert_eq!(throttled_until(&four, &none, at(0)), None);
        // the longer of the two waits
        let address = Failures {
            count: 14,
            last: Some(at(0)),
        };
        assert_eq!(throttled_until(&five, &address, at(0)), Some(at(16)));
        assert_eq!(throttled_until(&none, &address, at(15)), Some(at(16)));
        assert_eq!(throttled_until(&none, &address, at(16)), None);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(at(1), at(0)), 1);
        assert_eq!(
            retry_after_seconds(at(1), at(0) + Duration::milliseconds(1)),
            1
        );
        assert_eq!(
            retry_after_seconds(at(2), at(0) + Duration::milliseconds(999)),
            2
        );
        assert_eq!(retry_after_seconds(at(0), at(1)), 0);
    }

    #[test]
    fn addresses_are_hosts_for_ipv4_and_networks_for_ipv6() {
        let key = |s: &str| ClientAddress::of(s.parse().unwrap()).as_str().to_owned();
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("::1"), "::/64");
    }

    #[test]
    fn only_the_last_forwarded_address_counts() {
        assert_eq!(
            forwarded_for(["198.51.100.1, 203.0.113.7"]),
            Some("203.0.113.7".parse().unwrap())
        );
        assert_eq!(
            forwarded_for(["198.51.100.1", "203.0.113.8"]),
            Some("203.0.113.8".parse().unwrap())
        );
        assert_eq!(
            forwarded_for(["[2001:db8::1]:443"]),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(forwarded_for(["203.0.113.7, nonsense"]), None);
        assert_eq!(forwarded_for([]), None);
    }

    #[test]
    fn typed_names_are_comparable_and_bounded() {
        assert_eq!(attempted_name("  Admin "), "admin");
        assert_eq!(
            attempted_name(" JSmith "),
            Username::parse(" JSmith ").unwrap().as_str()
        );
        assert_eq!(attempted_name("a\nb\u{7}"), "a?b?");
        assert_eq!(attempted_name(&"é".repeat(100)).chars().count(), 64);
        assert_eq!(attempted_name(""), "");
    }
}

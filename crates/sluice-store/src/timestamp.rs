//! Formatting of Sluice timestamps (milliseconds since the Unix epoch) as
//! RFC 3339 in UTC, e.g. `2024-02-29T13:05:09.042Z`.
//!
//! A whole date-time crate would be a heavy dependency for one conversion;
//! the calendar arithmetic below is the proleptic Gregorian "civil from
//! days" computation, done on 400-year eras so it needs no tables. It lives
//! in its own module so the CLI can format history the same way.

use sluice_events::Timestamp;

/// `2024-02-29T13:05:09.042Z`: millisecond precision, always UTC.
/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub fn format_rfc3339_millis(at: Timestamp) -> String {
    let (date, time) = split(at);
    format!("{date}T{time}.{:03}Z", at % 1000)
}

/// `2024-02-29T13:05:09Z`: whole seconds (truncated), for compact listings.
pub fn format_rfc3339_seconds(at: Timestamp) -> String {
    let (date, time) = split(at);
    format!("{date}T{time}Z")
}

fn split(at: Timestamp) -> (String, String) {
    let seconds = at / 1000;
    let days = seconds / 86_400;
    let second_of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!(
            "{:02}:{:02}:{:02}",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60
        ),
    )
}

/// The (year, month 1-12, day 1-31) of the day `days` after 1970-01-01.
pub fn civil_from_days(days: u64) -> (u64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that the leap day is the last day
    // of a "year" (which then runs March to February), and count in eras of
    // 400 years, each exactly 146,097 days long.
    const DAYS_FROM_0000_03_01_TO_EPOCH: u64 = 719_468;
    const DAYS_PER_ERA: u64 = 146_097;
    let shifted = days + DAYS_FROM_0000_03_01_TO_EPOCH;
    let era = shifted / DAYS_PER_ERA;
    let day_of_era = shifted % DAYS_PER_ERA; // 0..=146_096
    // Leap days inside the era: one every 4 years (1,460 days), none every
    // 100 years (36,524 days), then one again at the era's very last day.
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // 0..=399
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // 0..=365
    // Months from March have lengths 31,30,31,30,31 repeating, which the
    // linear formula (153 * m + 2) / 5 reproduces.
    let month_from_march = (5 * day_of_year + 2) / 153; // 0..=11
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_000, "1970-01-01T00:00:01.000Z"),
            (86_399_999, "1970-01-01T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (951_868_799_999, "2000-02-29T23:59:59.999Z"),
            (951_868_800_000, "2000-03-01T00:00:00.000Z"),
            (1_709_211_909_042, "2024-02-29T13:05:09.042Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (2_147_483_648_000, "2038-01-19T03:14:08.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ];
        for (at, expected) in cases {
            assert_eq!(format_rfc3339_millis(at), expected, "at = {at}");
        }
        assert_eq!(
            format_rfc3339_seconds(1_709_211_909_999),
            "2024-02-29T13:05:09Z"
        );
    }

    #[test]
    fn the_largest_timestamp_does_not_overflow() {
        let text = format_rfc3339_millis(u64::MAX);
        assert!(text.ends_with(".615Z"), "{text}");
    }

    /// Walks day by day across several 400-year eras, checking each date
    /// follows the previous one by the Gregorian rules.
    #[test]
    fn consecutive_days_follow_the_calendar() {
        fn is_leap(year: u64) -> bool {
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
        }
        fn days_in_month(year: u64, month: u32) -> u32 {
            match month {
                2 if is_leap(year) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            }
        }
        let mut expected = (1970, 1, 1);
        for days in 0..(3 * 146_097) {
            assert_eq!(civil_from_days(days), expected, "days = {days}");
            let (year, month, day) = expected;
            expected = if day < days_in_month(year, month) {
                (year, month, day + 1)
            } else if month < 12 {
                (year, month + 1, 1)
            } else {
                (year + 1, 1, 1)
            };
        }
    }
}

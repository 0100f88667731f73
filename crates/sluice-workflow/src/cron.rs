//! `on.schedule` cron expressions: POSIX cron as GitHub accepts it (five
//! fields of numbers, ranges, steps, lists, `*`, and month and day
//! names), parsed once into sets of allowed values and matched against a
//! minute of UTC time.

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    /// Bit n set: minute n (0-59) matches.
    minutes: u64,
    /// Bit n: hour n (0-23).
    hours: u32,
    /// Bit n: day of month n (1-31).
    days: u32,
    /// Bit n: month n (1-12).
    months: u16,
    /// Bit n: weekday n (0 = Sunday).
    weekdays: u8,
    /// Whether day of month / day of week were `*`: POSIX cron matches a
    /// day when either restricted field matches, or the one restricted.
    any_day: bool,
    any_weekday: bool,
}

/// A minute of civil UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CronMinute {
    pub minute: u32,
    pub hour: u32,
    pub day: u32,
    pub month: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
    },
    Field {
        name: "day of week",
        min: 0,
        // Sunday may be written 7 as well as 0.
        max: 7,
    },
];

impl CronSchedule {
    /// Parses `expr`; the error says which field is wrong and why.
    pub fn parse(expr: &str) -> Result<CronSchedule, String> {
        let parts: Vec<&str> = expr.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(format!("expected 5 fields, found {}", parts.len()));
        }
        let mut sets = [0u64; 5];
        for ((part, field), set) in parts.iter().zip(&FIELDS).zip(&mut sets) {
            *set = parse_field(part, field)?;
        }
        // Weekday 7 is Sunday.
        let weekdays = (sets[4] | (sets[4] >> 7)) & 0x7f;
        Ok(CronSchedule {
            minutes: sets[0],
            hours: sets[1] as u32,
            days: sets[2] as u32,
            months: sets[3] as u16,
            weekdays: weekdays as u8,
            any_day: parts[2] == "*",
            any_weekday: parts[4] == "*",
        })
    }

    pub fn matches(&self, at: CronMinute) -> bool {
        let bit = |set: u64, n: u32| n < 64 && set & (1 << n) != 0;
        let day = bit(u64::from(self.days), at.day);
        let weekday = bit(u64::from(self.weekdays), at.weekday);
        let day_matches = match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (false, true) => day,
            (true, false) => weekday,
            (false, false) => day || weekday,
        };
        bit(self.minutes, at.minute)
            && bit(u64::from(self.hours), at.hour)
            && bit(u64::from(self.months), at.month)
            && day_matches
    }
}

impl CronMinute {
    /// The minute that contains `millis` (since the Unix epoch, UTC).
    pub fn from_unix_millis(millis: u64) -> CronMinute {
        let minutes = millis / 60_000;
        let days = minutes / (24 * 60);
        let (_, month, day) = civil_from_days(days);
        CronMinute {
            minute: (minutes % 60) as u32,
            hour: ((minutes / 60) % 24) as u32,
            day,
            month,
            // 1970-01-01 was a Thursday.
            weekday: ((days + 4) % 7) as u32,
        }
    }
}

/// The set of values one field allows, as bits.
fn parse_field(text: &str, field: &Field) -> Result<u64, String> {
    let mut set = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step = step
                    .parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("bad step '{step}' in the {} field", field.name))?;
                (range, step)
            }
            None => (item, 1),
        };
        let (low, high) = if range == "*" {
            (field.min, field.max)
        } else {
            let mut bounds = range.splitn(2, '-');
            let low = value(bounds.next().unwrap_or(""), field)?;
            let high = match bounds.next() {
                Some(high) => value(high, field)?,
                // `5/15` means from 5 to the end, every 15.
                None if step > 1 => field.max,
                None => low,
            };
            if high < low {
                return Err(format!(
                    "the range {low}-{high} of the {} field runs backwards",
                    field.name
                ));
            }
            (low, high)
        };
        let mut n = low;
        while n <= high {
            set |= 1 << n;
            // A step past the field's end ends the walk (never overflows).
            n = match n.checked_add(step) {
                Some(next) => next,
                None => break,
            };
        }
    }
    Ok(set)
}

fn value(text: &str, field: &Field) -> Result<u32, String> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let lower = text.to_ascii_lowercase();
    let named = match field.name {
        "month" => MONTHS
            .iter()
            .position(|m| *m == lower)
            .map(|i| i as u32 + 1),
        "day of week" => DAYS.iter().position(|d| *d == lower).map(|i| i as u32),
        _ => None,
    };
    let number = named
        .or_else(|| text.parse::<u32>().ok())
        .ok_or_else(|| format!("'{text}' is not valid in the {} field", field.name))?;
    if number < field.min || number > field.max {
        return Err(format!(
            "{number} is out of range {}-{} for the {} field",
            field.min, field.max, field.name
        ));
    }
    Ok(number)
}

/// Year, month (1-12) and day (1-31) of a count of days since 1970-01-01
/// (Howard Hinnant's civil-from-days algorithm).
fn civil_from_days(days: u64) -> (i64, u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32, hour: u32, day: u32, month: u32, weekday: u32) -> CronMinute {
        CronMinute {
            minute,
            hour,
            day,
            month,
            weekday,
        }
    }

    #[test]
    fn expressions_parse_or_say_why_not() {
        for ok in [
            "30 5 * * 1-5",
            "*/15 * * * *",
            "0 0 1 jan,jul sun",
            "0 12 * * 7",
            "5,10 1-3/2 * * *",
            "5/20 * * * *",
        ] {
            assert!(CronSchedule::parse(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("* * * *", "expected 5 fields"),
            ("60 * * * *", "out of range 0-59"),
            ("* 24 * * *", "out of range 0-23"),
            ("*/0 * * * *", "bad step"),
            ("@daily", "expected 5 fields"),
            ("a * * * *", "'a' is not valid"),
            ("30-10 * * * *", "runs backwards"),
        ] {
            let error = CronSchedule::parse(bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }

    #[test]
    fn a_huge_step_takes_the_first_value_only() {
        let schedule = CronSchedule::parse("5/4294967295 * * * *").unwrap();
        assert!(schedule.matches(at(5, 0, 1, 1, 4)));
        assert!(!schedule.matches(at(0, 0, 1, 1, 4)));
    }

    #[test]
    fn minutes_match_as_cron_does() {
        let weekdays = CronSchedule::parse("30 5 * * 1-5").unwrap();
        assert!(weekdays.matches(at(30, 5, 3, 12, 4)));
        assert!(!weekdays.matches(at(30, 5, 6, 12, 0)), "a Sunday");
        assert!(!weekdays.matches(at(31, 5, 3, 12, 4)));
        let every_quarter = CronSchedule::parse("*/15 * * * *").unwrap();
        assert!(every_quarter.matches(at(45, 1, 1, 1, 0)));
        assert!(!every_quarter.matches(at(46, 1, 1, 1, 0)));
        let sunday_as_seven = CronSchedule::parse("0 12 * * 7").unwrap();
        assert!(sunday_as_seven.matches(at(0, 12, 6, 12, 0)));
        // Both day fields restricted: either matches (POSIX).
        let either = CronSchedule::parse("0 0 13 * 5").unwrap();
        assert!(either.matches(at(0, 0, 13, 6, 2)));
        assert!(either.matches(at(0, 0, 2, 6, 5)));
        assert!(!either.matches(at(0, 0, 2, 6, 4)));
    }

    #[test]
    fn civil_time_of_instants() {
        // 2026-12-03T14:51:30Z, a Thursday.
        let minute = CronMinute::from_unix_millis(1_796_309_490_000);
        assert_eq!(minute, at(51, 14, 3, 12, 4));
        assert_eq!(CronMinute::from_unix_millis(0), at(0, 0, 1, 1, 4));
        // 2024-02-29T23:59Z, a leap day, a Thursday.
        assert_eq!(
            CronMinute::from_unix_millis(1_709_251_140_000),
            at(59, 23, 29, 2, 4)
        );
    }
}

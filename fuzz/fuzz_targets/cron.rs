//! `on.schedule` cron expressions: parsing never panics, and a parsed
//! schedule matches any minute without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_workflow::{CronMinute, CronSchedule};

fuzz_target!(|data: (&str, u64)| {
    let (text, millis) = data;
    if let Ok(schedule) = CronSchedule::parse(text) {
        let _ = schedule.matches(CronMinute::from_unix_millis(millis));
    }
});

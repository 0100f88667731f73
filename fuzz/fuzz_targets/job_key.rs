//! Job keys read from untrusted text (API paths, stored records): parsing
//! never panics, and a key that parses writes itself back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_events::JobKey;

fuzz_target!(|text: &str| {
    if let Ok(key) = JobKey::parse(text) {
        assert_eq!(key.to_string(), text);
        let _ = key.job_id();
        let _ = key.job();
        let _ = key.caller();
        assert!(key.parts().count() >= 1);
    }
});

//! Feeds arbitrary text to the parsers of a service declaration that read
//! user text outside the YAML loader: Docker's `options:` string (word
//! splitting and the `--health-*` options), `ports:` entries and durations.
//! Nothing may panic; whatever the options parser keeps must be words the
//! splitter produced.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_exec::services::{docker_health, parse_port, split_words};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let words = split_words(&text);
    if let Ok((rest, check)) = docker_health(&text) {
        let words = words.expect("options that parse also split");
        assert!(rest.len() <= words.len());
        if let Some(check) = check {
            assert!(words.iter().any(|w| w == &check.cmd || w.ends_with(&check.cmd)));
        }
    }
    let _ = parse_port(&text);
    let _ = sluice_workflow::parse_duration(&text);
});

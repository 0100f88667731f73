//! Arbitrary text as an action's metadata file (`action.yml`): reading it
//! must never panic, hang or use unbounded memory, and every finding must
//! render with its location.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_workflow::{ParseOptions, SourceFile, parse_action};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = parse_action(SourceFile::new("fuzz/action.yml", text), &ParseOptions::default());
    for d in &parsed.diagnostics {
        let _ = d.short();
    }
    if parsed.action.is_none() {
        assert!(parsed.has_errors(), "no action and no error");
    }
});

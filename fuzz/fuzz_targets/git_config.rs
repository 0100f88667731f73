//! Parses arbitrary text as a git configuration file. Nothing may panic or
//! hang; a file the reader does not model is fine (the caller asks git),
//! but what it accepts must be well formed: every key has a section and a
//! name, and the name git would lower-case is lower-case.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(entries) = sluice_exec::git::parse_config(text) {
        for (key, _) in &entries {
            let (section, name) = key.rsplit_once('.').expect("a key has a section");
            assert!(!section.is_empty(), "{key:?}");
            assert!(!name.is_empty(), "{key:?}");
            assert_eq!(name, name.to_ascii_lowercase(), "{key:?}");
        }
    }
});

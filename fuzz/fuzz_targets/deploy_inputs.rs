//! Feeds arbitrary text to what `sluice-deploy` reads: an `[apps.NAME]`
//! table (TOML, then the checks of `AppSpec`), a line of nginx's access
//! log, and a control request. Nothing may panic; a parsed log line names
//! a port and a three-digit status.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_deploy::{AppFile, AppSpec, control, parse_access_log_line};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\u{0}');
    if let Some(table) = parts.next()
        && let Ok(file) = toml::from_str::<AppFile>(table)
    {
        let _ = AppSpec::from_file("web", &file, std::path::Path::new("/repo"));
        let _ = AppSpec::from_file(table, &file, std::path::Path::new("/repo"));
    }
    if let Some(line) = parts.next()
        && let Some(entry) = parse_access_log_line(line)
    {
        assert!((100..=999).contains(&entry.status));
    }
    if let Some(request) = parts.next() {
        let _ = serde_json::from_str::<control::Request>(request);
    }
});

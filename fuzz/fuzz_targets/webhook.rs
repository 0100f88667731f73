//! Webhook deliveries (already signed: what a holder of the secret, or a
//! compromised sender, could send): reading them never panics, and what
//! is accepted has a well-formed ref and commit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_server::Trigger;
use sluice_server::webhook::{Delivery, read};

fuzz_target!(|data: (u8, &[u8])| {
    let (which, body) = data;
    let event = ["push", "pull_request", "workflow_dispatch", "ping", "issues"][usize::from(which) % 5];
    if let Ok(Delivery::Trigger(Trigger::Push { git_ref, after, .. })) = read(event, body) {
        assert!(git_ref.starts_with("refs/heads/") || git_ref.starts_with("refs/tags/"));
        assert!(!git_ref.contains(".."));
        assert!(after.bytes().all(|b| b.is_ascii_hexdigit()));
    }
});

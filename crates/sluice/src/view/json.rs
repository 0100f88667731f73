//! `--json`: every event as one line of JSON (the shape is documented in
//! docs/events-json.md).

use std::sync::Mutex;

use sluice_exec::{Event, EventSink};

#[derive(Default)]
pub struct JsonView {
    lock: Mutex<()>,
}

impl EventSink for JsonView {
    fn emit(&self, event: &Event) {
        let Ok(line) = serde_json::to_string(event) else {
            return;
        };
        let _guard = self.lock.lock();
        crate::output::line(&line);
    }
}

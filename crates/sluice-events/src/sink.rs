//! Who listens to a run.

use crate::Event;

/// Whoever wants to hear about a run.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: &Event);
}

/// Sends every event to several sinks, in order.
pub struct Fanout<'a>(pub Vec<&'a dyn EventSink>);

impl EventSink for Fanout<'_> {
    fn emit(&self, event: &Event) {
        for sink in &self.0 {
            sink.emit(event);
        }
    }
}

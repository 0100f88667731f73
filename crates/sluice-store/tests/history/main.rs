//! Behaviour of the history store, through its public API only.

mod cache_events;
mod corruption;
mod environments;
mod log_filters;
mod log_tail;
mod migrations;
mod numbering;
mod queue;
mod recording;
mod recovery;
mod shards_and_coverage;
mod support;
mod test_results;

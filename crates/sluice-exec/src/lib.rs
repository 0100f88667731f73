//! Everything that touches the host: git, files for `hashFiles`, and (in
//! later modules) processes, services and the scheduler.

pub mod git;
pub mod hash_files;

//! `sluice tests quarantine add|rm|ls`: the repository's quarantine file
//! (`.sluice/quarantine.yml`), which is committed and reviewed like code.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sluice_reports::{QUARANTINE_FILE, Quarantine, QuarantineEntry};

use crate::cli::QuarantineCommand;
use crate::exit::ExitStatus;

pub fn quarantine(cwd: &Path, command: &QuarantineCommand) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd)?;
    let mut quarantine = load(&root)?;
    match command {
        QuarantineCommand::Ls => {
            if quarantine.entries.is_empty() {
                crate::output::line("no test is quarantined");
            }
            for entry in &quarantine.entries {
                let how = if entry.automatic {
                    ", automatically"
                } else {
                    ""
                };
                crate::output::line(&format!(
                    "{}  (since {}{how}: {})",
                    entry.display_name(),
                    entry.since,
                    entry.reason
                ));
            }
            return Ok(ExitStatus::Success);
        }
        QuarantineCommand::Add { test, reason } => {
            let (classname, name) = identify(cwd, test)?;
            let entry = QuarantineEntry {
                classname,
                name,
                file: None,
                reason: reason.clone(),
                since: today(),
                automatic: false,
            };
            let shown = entry.display_name();
            let new = quarantine.add(entry);
            save(&root, &quarantine)?;
            eprintln!(
                "{} {shown} in {QUARANTINE_FILE}; commit it so that every run sees it",
                if new { "quarantined" } else { "updated" }
            );
        }
        QuarantineCommand::Rm { test } => {
            if quarantine.remove(test) == 0 {
                bail!("`{test}` is not quarantined (see `sluice tests quarantine ls`)");
            }
            save(&root, &quarantine)?;
            eprintln!("released {test} from the quarantine");
        }
    }
    Ok(ExitStatus::Success)
}

/// The quarantine of the repository at `root` (empty without the file).
pub fn load(root: &Path) -> Result<Quarantine> {
    let path = root.join(QUARANTINE_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Quarantine::parse(&text).map_err(|e| anyhow::anyhow!("{}:{e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Quarantine::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

pub fn save(root: &Path, quarantine: &Quarantine) -> Result<PathBuf> {
    let path = root.join(QUARANTINE_FILE);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
    }
    std::fs::write(&path, quarantine.to_yaml())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// A test's class and name: `class::name` as written, else what the
/// history knows of a name.
fn identify(cwd: &Path, test: &str) -> Result<(String, String)> {
    if let Some((classname, name)) = test.rsplit_once("::") {
        return Ok((classname.to_string(), name.to_string()));
    }
    let history = super::history::open(cwd)?;
    let known = history
        .store()
        .test_history(history.repository(), test, 1)?;
    match known.first() {
        Some(result) => Ok((result.test.classname.clone(), result.test.name.clone())),
        None => bail!("no test `{test}` in the history; name it as `class::name`"),
    }
}

/// Today's date (UTC), `YYYY-MM-DD`.
pub fn today() -> String {
    let days = sluice_store::timestamp::now_ms() / 86_400_000;
    let (year, month, day) = sluice_store::timestamp::civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

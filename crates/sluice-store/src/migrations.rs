//! The schema, as an ordered list of migrations keyed on SQLite's
//! `PRAGMA user_version`.
//!
//! A database at version N has had migrations 1..=N applied. A later issue
//! that needs a table adds `migrations/000K_*.sql` and one entry below;
//! existing migrations are never edited, since databases in the wild have
//! already run them.

use crate::database::Database;
use crate::error::StoreError;

struct Migration {
    version: u32,
    sql: &'static str,
    /// Rebuilds a table others refer to: applied with foreign keys off
    /// (dropping the old table would otherwise delete or refuse its
    /// children), then checked.
    rebuilds_a_parent: bool,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("migrations/0001_run_history.sql"),
        rebuilds_a_parent: false,
    },
    Migration {
        version: 2,
        sql: include_str!("migrations/0002_cache_events.sql"),
        rebuilds_a_parent: false,
    },
    Migration {
        version: 3,
        sql: include_str!("migrations/0003_artifacts.sql"),
        rebuilds_a_parent: false,
    },
    Migration {
        version: 4,
        sql: include_str!("migrations/0004_run_actions.sql"),
        rebuilds_a_parent: false,
    },
    Migration {
        version: 5,
        sql: include_str!("migrations/0005_queue.sql"),
        rebuilds_a_parent: true,
    },
    Migration {
        version: 6,
        sql: include_str!("migrations/0006_test_results.sql"),
        rebuilds_a_parent: false,
    },
    Migration {
        version: 7,
        sql: include_str!("migrations/0007_coverage_and_shards.sql"),
        rebuilds_a_parent: false,
    },
    Migration {
        version: 8,
        sql: include_str!("migrations/0008_benchmarks.sql"),
        rebuilds_a_parent: false,
    },
    Migration {
        version: 9,
        sql: include_str!("migrations/0009_environments.sql"),
        rebuilds_a_parent: true,
    },
    Migration {
        version: 10,
        sql: include_str!("migrations/0010_app_deploys.sql"),
        rebuilds_a_parent: false,
    },
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Brings the database up to [`SCHEMA_VERSION`].
pub(crate) fn migrate(db: &Database) -> Result<(), StoreError> {
    // The common case, an up-to-date file, takes no write lock.
    let found = check_version(db, read_version(db)?)?;
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    // Only outside a transaction can foreign keys be switched off.
    let keys_off = MIGRATIONS
        .iter()
        .any(|m| m.version > found && m.rebuilds_a_parent);
    if keys_off {
        set_foreign_keys(db, false)?;
    }
    let migrated = apply_pending(db);
    if keys_off {
        set_foreign_keys(db, true)?;
    }
    migrated
}

fn apply_pending(db: &Database) -> Result<(), StoreError> {
    db.write("migrate the schema", |db| {
        // Read again under the write lock: another process may have
        // migrated since.
        let current = check_version(db, read_version(db)?)?;
        for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
            db.conn().execute_batch(migration.sql).map_err(|e| {
                db.error(format!("apply schema migration {}", migration.version), e)
            })?;
            if migration.rebuilds_a_parent {
                check_foreign_keys(db, migration.version)?;
            }
            // user_version lives in the file header and is written as part
            // of the transaction, so a crash leaves either both the tables
            // and the version, or neither.
            db.conn()
                .pragma_update(None, "user_version", migration.version)
                .map_err(|e| db.error("record the schema version", e))?;
        }
        Ok(())
    })
}

fn set_foreign_keys(db: &Database, on: bool) -> Result<(), StoreError> {
    db.conn()
        .pragma_update(None, "foreign_keys", if on { "ON" } else { "OFF" })
        .map_err(|e| db.error("switch foreign keys for a migration", e))
}

/// A rebuild must leave every reference pointing at a row.
fn check_foreign_keys(db: &Database, version: u32) -> Result<(), StoreError> {
    let dangling: i64 = db
        .conn()
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })
        .map_err(|e| db.error(format!("check references after migration {version}"), e))?;
    if dangling > 0 {
        return Err(db.error(
            format!(
                "apply schema migration {version} ({dangling} rows would lose what they refer to)"
            ),
            rusqlite::Error::InvalidQuery,
        ));
    }
    Ok(())
}

pub(crate) fn read_version(db: &Database) -> Result<u32, StoreError> {
    db.conn()
        .pragma_query_value(None, "user_version", |row| row.get::<_, u32>(0))
        .map_err(|e| db.error("read the schema version", e))
}

fn check_version(db: &Database, found: u32) -> Result<u32, StoreError> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: db.path().to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one_without_gaps() {
        for (position, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, position + 1);
        }
    }
}

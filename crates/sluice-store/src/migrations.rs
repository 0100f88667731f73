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
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("migrations/0001_run_history.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("migrations/0002_cache_events.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("migrations/0003_artifacts.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("migrations/0004_run_actions.sql"),
    },
];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Brings the database up to [`SCHEMA_VERSION`].
pub(crate) fn migrate(db: &Database) -> Result<(), StoreError> {
    // The common case, an up-to-date file, takes no write lock.
    if check_version(db, read_version(db)?)? == SCHEMA_VERSION {
        return Ok(());
    }
    db.write("migrate the schema", |db| {
        // Read again under the write lock: another process may have
        // migrated since.
        let current = check_version(db, read_version(db)?)?;
        for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
            db.conn().execute_batch(migration.sql).map_err(|e| {
                db.error(format!("apply schema migration {}", migration.version), e)
            })?;
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

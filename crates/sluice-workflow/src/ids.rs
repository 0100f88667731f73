//! Job and step identifiers: GitHub's format rules and generated step ids.

use std::collections::HashMap;

/// Longest identifier GitHub accepts, and the length generated ids are cut to.
pub const MAX_ID_LEN: usize = 100;

/// Why an identifier is refused, as GitHub words it.
pub fn check_identifier(id: &str) -> Result<(), String> {
    if id.starts_with("__") {
        return Err(format!(
            "The identifier '{id}' is invalid. IDs starting with '__' are reserved."
        ));
    }
    let mut chars = id.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let valid_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_start || !valid_rest || id.len() >= MAX_ID_LEN {
        return Err(format!(
            "The identifier '{id}' is invalid. IDs may only contain alphanumeric characters, '_', and '-'. IDs must start with a letter or '_' and and must be less than 100 characters."
        ));
    }
    Ok(())
}

/// Hands out GitHub's generated ids for steps without `id:` — `__run`,
/// `__actions_checkout`, `__alpine_latest` — numbering repeats `_2`, `_3`,
/// and skipping ids the user wrote.
#[derive(Debug, Default)]
pub struct StepIdGenerator {
    taken: HashMap<String, ()>,
    counters: HashMap<String, usize>,
}

impl StepIdGenerator {
    /// Records an id the user wrote, so generated ids never collide with it.
    pub fn reserve(&mut self, id: &str) {
        self.taken.insert(id.to_ascii_lowercase(), ());
    }

    /// The id for a step that runs `uses` (or a script when `uses` is None).
    pub fn generate(&mut self, uses: Option<&str>) -> String {
        let base = match uses {
            None => "__run".to_string(),
            Some(uses) => {
                let name = match uses.strip_prefix("docker://") {
                    Some(image) => image,
                    None => uses.split('@').next().unwrap_or(uses),
                };
                let cleaned: String = name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let mut id = format!("__{cleaned}");
                truncate_chars(&mut id, MAX_ID_LEN);
                id
            }
        };
        let counter = self.counters.entry(base.to_ascii_lowercase()).or_insert(1);
        loop {
            let candidate = if *counter == 1 {
                base.clone()
            } else {
                format!("{base}_{counter}")
            };
            *counter += 1;
            if self
                .taken
                .insert(candidate.to_ascii_lowercase(), ())
                .is_none()
            {
                return candidate;
            }
        }
    }
}

fn truncate_chars(s: &mut String, max: usize) {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_rules() {
        for ok in ["build", "_", "_a", "a__", "my-job", "A1"] {
            assert!(check_identifier(ok).is_ok(), "{ok}");
        }
        for bad in [
            "my.job",
            "0job",
            " job",
            "-job",
            "",
            "__",
            "__a",
            &"a".repeat(100),
        ] {
            assert!(check_identifier(bad).is_err(), "{bad}");
        }
        assert!(check_identifier("__x").unwrap_err().contains("reserved"));
    }

    #[test]
    fn generated_ids_follow_github() {
        let mut ids = StepIdGenerator::default();
        assert_eq!(
            ids.generate(Some("actions/checkout@v2")),
            "__actions_checkout"
        );
        assert_eq!(
            ids.generate(Some("docker://alpine:latest")),
            "__alpine_latest"
        );
        assert_eq!(ids.generate(None), "__run");
        assert_eq!(
            ids.generate(Some("actions/checkout@v3")),
            "__actions_checkout_2"
        );
        assert_eq!(ids.generate(None), "__run_2");
        assert_eq!(
            ids.generate(Some("org with space/repo with space@v2")),
            "__org_with_space_repo_with_space"
        );
        let long = ids.generate(Some(&format!("docker://x/{}", "a".repeat(200))));
        assert_eq!(long.len(), MAX_ID_LEN);
    }

    #[test]
    fn generated_ids_skip_written_ones() {
        let mut ids = StepIdGenerator::default();
        ids.reserve("__run");
        assert_eq!(ids.generate(None), "__run_2");
    }
}

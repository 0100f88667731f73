//! Artifact names. They become directory names when artifacts are
//! downloaded (one directory per artifact), so a name must never be able
//! to point anywhere but one new directory: GitHub's forbidden characters
//! (`/` and `\` among them) are refused, and so are `.` and `..`, which
//! GitHub's own storage never treats as paths but a directory would.

/// Characters GitHub does not allow in artifact names.
const FORBIDDEN: &[char] = &['"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/'];

/// Why a name cannot be an artifact's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidArtifactName {
    #[error("an artifact name may not be empty")]
    Empty,
    #[error(
        "the artifact name '{0}' is a path step ('.' or '..'), which artifact names may not be"
    )]
    PathStep(String),
    #[error("the artifact name '{name}' contains '{}', which artifact names may not", found.escape_default())]
    Forbidden { name: String, found: char },
}

/// Checks `name` against GitHub's rules and the two path steps.
pub fn check_artifact_name(name: &str) -> Result<(), InvalidArtifactName> {
    if name.is_empty() {
        return Err(InvalidArtifactName::Empty);
    }
    if name == "." || name == ".." {
        return Err(InvalidArtifactName::PathStep(name.to_string()));
    }
    match name
        .chars()
        .find(|c| FORBIDDEN.contains(c) || c.is_control())
    {
        Some(found) => Err(InvalidArtifactName::Forbidden {
            name: name.escape_default().to_string(),
            found,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Component, Path};

    #[test]
    fn names_github_refuses_and_path_steps_are_refused() {
        for bad in [
            "", ".", "..", "a/b", "a\\b", "..\\x", "x:y", "a\nb", "a\0b", "../etc",
        ] {
            assert!(check_artifact_name(bad).is_err(), "{bad:?} accepted");
        }
        for good in [
            "dist",
            "build-output_1",
            "...",
            ".hidden",
            "a b",
            "résumé",
            "v1.2",
        ] {
            assert_eq!(check_artifact_name(good), Ok(()), "{good:?} refused");
        }
    }

    #[test]
    fn an_accepted_name_is_always_one_new_directory() {
        // Property: for every string, an accepted name joined to a
        // directory is exactly one normal component below it.
        let alphabet = ['a', '.', '/', '\\', ' ', '\0', ':', 'é', '\u{202e}', '~'];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 6) as usize;
            let name: String = (0..len)
                .map(|i| alphabet[((seed >> (8 + i * 5)) % alphabet.len() as u64) as usize])
                .collect();
            if check_artifact_name(&name).is_ok() {
                let joined = Path::new("/base").join(&name);
                let below: Vec<Component> = joined
                    .strip_prefix("/base")
                    .expect("below the base")
                    .components()
                    .collect();
                assert!(
                    matches!(below[..], [Component::Normal(_)]),
                    "{name:?} is not one directory: {below:?}"
                );
            }
        }
    }
}

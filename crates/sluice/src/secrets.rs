//! The `secrets` context: `--secret NAME=VALUE`, `--secret-file FILE`
//! (.env format) and `SLUICE_SECRET_<NAME>` variables.

use std::path::Path;

use anyhow::{Context, Result, bail};
use indexmap::IndexMap;

/// Prefix of environment variables that become secrets.
pub const ENV_PREFIX: &str = "SLUICE_SECRET_";

/// Collects secrets; later sources override earlier ones: environment,
/// then files in order, then `--secret` flags in order.
pub fn collect(flags: &[String], files: &[std::path::PathBuf]) -> Result<IndexMap<String, String>> {
    let mut secrets = IndexMap::new();
    for (name, value) in std::env::vars() {
        if let Some(secret) = name.strip_prefix(ENV_PREFIX)
            && !secret.is_empty()
        {
            secrets.insert(secret.to_string(), value);
        }
    }
    for file in files {
        secrets.extend(read_env_file(file)?);
    }
    for flag in flags {
        let Some((name, value)) = flag.split_once('=') else {
            bail!(
                "--secret '{}' must have the form NAME=VALUE",
                flag.split('=').next().unwrap_or("")
            );
        };
        check_name(name).with_context(|| "in --secret".to_string())?;
        secrets.insert(name.to_string(), value.to_string());
    }
    Ok(secrets)
}

fn check_name(name: &str) -> Result<()> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        bail!(
            "'{name}' is not a valid secret name (letters, digits and '_', not starting with a digit)"
        );
    }
    Ok(())
}

/// Reads a `.env` file: `NAME=value` lines, optional `export `, `#`
/// comments, single-quoted (literal) and double-quoted values (with `\n`,
/// `\"`, `\\` escapes, and able to span lines).
pub fn read_env_file(path: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the secret file {}", path.display()))?;
    parse_env(&text)
        .map_err(|(line, message)| anyhow::anyhow!("{}:{line}: {message}", path.display()))
}

fn parse_env(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut pairs = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i].trim();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((name, rest)) = line.split_once('=') else {
            return Err((number, "expected NAME=value".into()));
        };
        let name = name.trim();
        check_name(name).map_err(|e| (number, e.to_string()))?;
        let rest = rest.trim_start();
        let value = if let Some(body) = rest.strip_prefix('"') {
            // A double-quoted value may continue on the following lines.
            let mut raw = body.to_string();
            loop {
                if let Some(end) = closing_quote(&raw) {
                    raw.truncate(end);
                    break;
                }
                if i >= lines.len() {
                    return Err((number, "unterminated double-quoted value".into()));
                }
                raw.push('\n');
                raw.push_str(lines[i]);
                i += 1;
            }
            unescape(&raw)
        } else if let Some(body) = rest.strip_prefix('\'') {
            match body.find('\'') {
                Some(end) => body[..end].to_string(),
                None => return Err((number, "unterminated single-quoted value".into())),
            }
        } else {
            // Unquoted: a ` #` starts a comment.
            rest.split(" #").next().unwrap_or("").trim_end().to_string()
        };
        pairs.push((name.to_string(), value));
    }
    Ok(pairs)
}

/// Index of the first unescaped `"`.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return Some(i),
            _ => {}
        }
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_forms() {
        let text = "# comment\nA=plain value # trailing comment\nexport B='single # kept'\nC=\"multi\nline \\\"quoted\\\"\"\nD=\"esc\\nape\"\n\nE=\n";
        let pairs = parse_env(text).unwrap();
        assert_eq!(
            pairs,
            vec![
                ("A".into(), "plain value".into()),
                ("B".into(), "single # kept".into()),
                ("C".into(), "multi\nline \"quoted\"".into()),
                ("D".into(), "esc\nape".into()),
                ("E".into(), String::new()),
            ]
        );
    }

    #[test]
    fn env_file_errors_name_the_line() {
        assert_eq!(parse_env("A=1\nno equals\n").unwrap_err().0, 2);
        assert_eq!(parse_env("1A=x\n").unwrap_err().0, 1);
        assert!(
            parse_env("A=\"open\n")
                .unwrap_err()
                .1
                .contains("unterminated")
        );
    }
}

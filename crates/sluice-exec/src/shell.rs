//! `shell:` — how a `run:` script is executed, with GitHub's templates.
//!
//! | `shell:`      | command                                      |
//! | ---           | ---                                          |
//! | (none)        | `bash -e {0}`, or `sh -e {0}` without bash   |
//! | `bash`        | `bash --noprofile --norc -eo pipefail {0}`   |
//! | `sh`          | `sh -e {0}`                                  |
//! | `python`      | `python {0}` (`python3` when there is no `python`) |
//! | `pwsh`        | `pwsh -command ". '{0}'"`                    |
//! | anything else | a template containing `{0}`, the script path |

use std::path::{Path, PathBuf};

/// A resolved shell: what to execute, and the script file's extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shell {
    pub program: String,
    /// Arguments, with `{0}` still in place of the script path.
    pub args: Vec<String>,
    pub extension: &'static str,
    /// How GitHub would print it, e.g. `bash -e {0}`.
    pub display: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellError {
    #[error(
        "invalid shell '{0}': use bash, sh, python or pwsh, or a command template containing {{0}} (the script's path)"
    )]
    Invalid(String),
    #[error("shell '{0}' is for Windows; this step runs on Linux")]
    WindowsOnly(String),
    #[error("shell '{shell}': '{program}' was not found on PATH")]
    NotFound { shell: String, program: String },
}

impl Shell {
    /// Resolves `shell:` (None when not given) using `path` (the PATH the
    /// step will see) to look programs up.
    pub fn resolve(shell: Option<&str>, path: &str) -> Result<Shell, ShellError> {
        Shell::resolve_with(shell, &|program| find_program(program, path).is_some())
    }

    /// Resolves `shell:` where `present` tells which programs exist (in
    /// a job's container, say).
    pub fn resolve_with(
        shell: Option<&str>,
        present: &dyn Fn(&str) -> bool,
    ) -> Result<Shell, ShellError> {
        let make = |program: &str, args: &[&str], extension| Shell {
            program: program.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            extension,
            display: std::iter::once(program)
                .chain(args.iter().copied())
                .collect::<Vec<_>>()
                .join(" "),
        };
        let shell = shell.map(str::trim).filter(|s| !s.is_empty());
        Ok(match shell {
            None => {
                if present("bash") {
                    make("bash", &["-e", "{0}"], "sh")
                } else {
                    make("sh", &["-e", "{0}"], "sh")
                }
            }
            Some("bash") => make(
                "bash",
                &["--noprofile", "--norc", "-eo", "pipefail", "{0}"],
                "sh",
            ),
            Some("sh") => make("sh", &["-e", "{0}"], "sh"),
            Some("python") => {
                let program = if present("python") {
                    "python"
                } else {
                    "python3"
                };
                make(program, &["{0}"], "py")
            }
            Some("pwsh") => make("pwsh", &["-command", ". '{0}'"], "ps1"),
            Some(name @ ("cmd" | "powershell")) => {
                return Err(ShellError::WindowsOnly(name.to_string()));
            }
            Some(template) => {
                if !template.contains("{0}") {
                    return Err(ShellError::Invalid(template.to_string()));
                }
                let words = split_words(template);
                let Some((program, args)) = words.split_first() else {
                    return Err(ShellError::Invalid(template.to_string()));
                };
                let extension = match Path::new(program).file_name().and_then(|n| n.to_str()) {
                    Some(p) if p.starts_with("python") => "py",
                    Some("pwsh") => "ps1",
                    _ => "sh",
                };
                Shell {
                    program: program.clone(),
                    args: args.to_vec(),
                    extension,
                    display: template.to_string(),
                }
            }
        })
    }

    /// The program's full path, or an error naming it.
    pub fn program_path(&self, path: &str) -> Result<PathBuf, ShellError> {
        if self.program.contains('/') {
            return Ok(PathBuf::from(&self.program));
        }
        find_program(&self.program, path).ok_or_else(|| ShellError::NotFound {
            shell: self.display.clone(),
            program: self.program.clone(),
        })
    }

    /// The script as written to the file: GitHub wraps `pwsh` scripts so
    /// that errors stop them and the last native exit code is theirs.
    pub fn script_text(&self, script: &str) -> String {
        if self.program == "pwsh" {
            format!(
                "$ErrorActionPreference = 'stop'\n{script}\nif ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) {{ exit $LASTEXITCODE }}\n"
            )
        } else {
            script.to_string()
        }
    }

    /// The arguments with `{0}` replaced by the script's path.
    pub fn arguments(&self, script: &Path) -> Vec<String> {
        let script = script.display().to_string();
        self.args
            .iter()
            .map(|a| a.replace("{0}", &script))
            .collect()
    }
}

/// Looks a program up on a PATH string.
pub fn find_program(program: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    path.split(':').filter(|d| !d.is_empty()).find_map(|dir| {
        let candidate = Path::new(dir).join(program);
        let meta = std::fs::metadata(&candidate).ok()?;
        (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(candidate)
    })
}

/// Splits a template into words, honouring single and double quotes.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> String {
        std::env::var("PATH").unwrap_or_default()
    }

    #[test]
    fn builtin_templates() {
        let bash = Shell::resolve(Some("bash"), &path()).unwrap();
        assert_eq!(bash.display, "bash --noprofile --norc -eo pipefail {0}");
        assert_eq!(
            bash.arguments(Path::new("/t/s.sh")).last().unwrap(),
            "/t/s.sh"
        );
        assert_eq!(
            Shell::resolve(Some("sh"), &path()).unwrap().display,
            "sh -e {0}"
        );
        assert_eq!(
            Shell::resolve(None, &path()).unwrap().display,
            "bash -e {0}"
        );
        assert_eq!(
            Shell::resolve(None, "/nonexistent").unwrap().display,
            "sh -e {0}"
        );
        assert_eq!(
            Shell::resolve(Some("python"), &path()).unwrap().extension,
            "py"
        );
    }

    #[test]
    fn custom_templates_need_the_placeholder() {
        let custom = Shell::resolve(Some("perl -w '{0}' --x"), &path()).unwrap();
        assert_eq!(custom.program, "perl");
        assert_eq!(
            custom.arguments(Path::new("/a b/s")),
            ["-w", "/a b/s", "--x"]
        );
        assert!(matches!(
            Shell::resolve(Some("zsh -e"), &path()),
            Err(ShellError::Invalid(_))
        ));
        assert!(matches!(
            Shell::resolve(Some("cmd"), &path()),
            Err(ShellError::WindowsOnly(_))
        ));
        let missing = Shell::resolve(Some("nosuchshell {0}"), &path()).unwrap();
        assert!(missing.program_path(&path()).is_err());
    }
}

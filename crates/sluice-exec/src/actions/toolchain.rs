//! The setup actions (`actions/setup-node`, `-python`, `-go`, `-java`,
//! `dtolnay/rust-toolchain`, `actions-rs/toolchain`), run natively. A
//! requested Node.js or Go version is found on the host or downloaded (see
//! [`crate::toolchains`]) and put first on PATH; Python and Java are
//! looked for on the host; without a request, the host's toolchain is
//! used. The outputs the actions document are set from what is used.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::events::{LogLevel, Outcome};
use crate::job::JobState;
use crate::shell::find_program;
use crate::step::{StepContext, StepResult};
use crate::toolchains::{Installed, ToolchainError};

/// Runs one of the setup actions.
pub(crate) fn run(
    ctx: &StepContext,
    state: &mut JobState,
    action: &str,
    reference: &str,
    inputs: &IndexMap<String, String>,
) -> StepResult {
    let input = |name: &str| super::input(inputs, name);
    let path = step_path(ctx, state);
    let result = match action {
        "actions/setup-node" => {
            let requested = input("node-version")
                .or_else(|| node_version_file(ctx, input("node-version-file")));
            if let Some(manager) = input("cache") {
                notice(
                    ctx,
                    &format!(
                        "`cache: {manager}` is not set up by Sluice's setup-node; cache the package manager's directory with actions/cache"
                    ),
                );
            }
            match requested {
                None => probe(
                    ctx,
                    &path,
                    "node",
                    &["--version"],
                    None,
                    "node-version",
                    |out| out.trim().strip_prefix('v').map(str::to_string),
                )
                .map(|found| outputs(&[("node-version", format!("v{}", found.version))])),
                Some(request) => {
                    let mirror = input("mirror");
                    put_first(ctx, state, "Node.js", &request, |t| {
                        t.node(&request, &path, mirror.as_deref(), true)
                    })
                    .map(|found| outputs(&[("node-version", format!("v{}", found.version))]))
                }
            }
        }
        "actions/setup-python" => {
            let requested =
                input("python-version").or_else(|| version_file(ctx, input("python-version-file")));
            setup_python(ctx, state, &path, requested)
        }
        "actions/setup-go"
            if input("go-version").is_some() || input("go-version-file").is_some() =>
        {
            let request = input("go-version")
                .or_else(|| go_mod_version(ctx, input("go-version-file")))
                .unwrap_or_else(|| "latest".into());
            let mirror = input("go-download-base-url");
            put_first(ctx, state, "Go", &request, |t| {
                t.go(&request, &path, mirror.as_deref(), true)
            })
            .map(|found| outputs(&[("go-version", found.version.to_string())]))
        }
        "actions/setup-go" => {
            let requested = None;
            probe(
                ctx,
                &path,
                "go",
                &["version"],
                requested,
                "go-version",
                |out| {
                    out.split_whitespace()
                        .find_map(|w| w.strip_prefix("go"))
                        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
                        .map(str::to_string)
                },
            )
            .map(|found| outputs(&[("go-version", found.version)]))
        }
        "actions/setup-java" => {
            let requested =
                input("java-version").or_else(|| version_file(ctx, input("java-version-file")));
            let found = match requested {
                Some(request) => {
                    put_first(ctx, state, "Java", &request, |t| t.java(&request, &path)).map(
                        |found| Found {
                            program: found.program,
                            version: found.version.to_string(),
                        },
                    )
                }
                None => probe(
                    ctx,
                    &path,
                    "java",
                    &["-version"],
                    None,
                    "java-version",
                    |out| {
                        let quoted = out.split('"').nth(1)?;
                        Some(quoted.to_string())
                    },
                ),
            };
            found.map(|found| {
                // JAVA_HOME is the directory above `bin/java`, links resolved.
                let home = std::fs::canonicalize(&found.program)
                    .ok()
                    .and_then(|p| p.parent()?.parent().map(Path::to_path_buf))
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                if !home.is_empty() {
                    state.exported_env.insert("JAVA_HOME".into(), home.clone());
                }
                outputs(&[("version", found.version), ("path", home)])
            })
        }
        "dtolnay/rust-toolchain" | "actions-rs/toolchain" => {
            // dtolnay's action names the toolchain in its ref (`@stable`,
            // `@1.80.0`) unless `toolchain:` is given.
            let from_ref = (action == "dtolnay/rust-toolchain"
                && !matches!(reference, "" | "master" | "main" | "v1"))
            .then(|| reference.to_string());
            let requested = input("toolchain").or(from_ref);
            probe(ctx, &path, "rustc", &["--version"], requested.clone(), "toolchain", |out| {
                out.split_whitespace().nth(1).map(str::to_string)
            })
            .map(|found| {
                for (name, what) in [("components", "components"), ("targets", "targets"), ("target", "targets")] {
                    if let Some(list) = input(name) {
                        notice(ctx, &format!("{what} `{list}` are not installed by Sluice; the host's toolchain is used as it is"));
                    }
                }
                let name = requested.unwrap_or_else(|| "stable".into());
                outputs(&[
                    ("cachekey", format!("{}-{}", found.version, std::env::consts::ARCH)),
                    ("name", name),
                    ("rustc", found.version.clone()),
                ])
            })
        }
        _ => Err(format!("`{action}` is not a setup action Sluice knows")),
    };
    match result {
        Ok(values) => {
            let mut step = StepResult::outcome(Outcome::Success);
            step.outputs = values;
            step
        }
        Err(message) => StepResult::error(ctx, &message),
    }
}

/// Finds or installs a toolchain with `get` and puts its programs first
/// on the job's PATH.
fn put_first(
    ctx: &StepContext,
    state: &mut JobState,
    tool: &str,
    request: &str,
    get: impl FnOnce(&crate::toolchains::Toolchains) -> Result<Installed, ToolchainError>,
) -> Result<Installed, String> {
    let found = get(&ctx.shared.spec.toolchains).map_err(|e| e.to_string())?;
    ctx.shared.system_line(
        ctx.key,
        Some(ctx.index),
        &format!(
            "using {tool} {} from {} for {request}",
            found.version, found.source
        ),
    );
    state.added_path.insert(0, found.bin.display().to_string());
    Ok(found)
}

/// A tool found on the host.
struct Found {
    program: PathBuf,
    version: String,
}

/// Finds `program`, reads its version, and compares it with `requested`.
fn probe(
    ctx: &StepContext,
    path: &str,
    program: &str,
    args: &[&str],
    requested: Option<String>,
    input_name: &str,
    parse: impl Fn(&str) -> Option<String>,
) -> Result<Found, String> {
    let Some(found) = find_program(program, path) else {
        return Err(format!(
            "{program} is not installed on this host (Sluice uses the host's toolchains and downloads nothing); install it, then run again"
        ));
    };
    let output = std::process::Command::new(&found)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", found.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let version = parse(&text).ok_or_else(|| {
        format!(
            "cannot read the version of {} from `{}`",
            found.display(),
            text.trim()
        )
    })?;
    report_version(ctx, program, &version, requested.as_deref(), input_name);
    Ok(Found {
        program: found,
        version,
    })
}

fn report_version(
    ctx: &StepContext,
    program: &str,
    found: &str,
    requested: Option<&str>,
    input_name: &str,
) {
    let line = match requested.map(|r| (r, version_matches(r, found))) {
        None => format!("using the host's {program} {found}"),
        Some((r, Some(true))) => {
            format!("using the host's {program} {found} (requested {input_name}: {r})")
        }
        Some((r, Some(false))) => {
            ctx.shared.system_message(
                ctx.key,
                Some(ctx.index),
                LogLevel::Warning,
                &format!("{input_name} {r} was requested; this host has {program} {found}, which is used instead"),
            );
            return;
        }
        Some((r, None)) => format!("using the host's {program} {found} for {input_name} {r}"),
    };
    ctx.shared.system_line(ctx.key, Some(ctx.index), &line);
}

fn notice(ctx: &StepContext, message: &str) {
    ctx.shared
        .system_message(ctx.key, Some(ctx.index), LogLevel::Notice, message);
}

fn outputs(pairs: &[(&str, String)]) -> IndexMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Whether `found` satisfies `requested`: `18`, `18.x`, `3.11`, `v20.1.0`,
/// `>=18`, `^18.2`, `~3.11`, `1.80.0`. `None` when the request names no
/// comparable version (`lts/*`, `latest`, `stable`, `nightly`).
pub(crate) fn version_matches(requested: &str, found: &str) -> Option<bool> {
    let numbers = |text: &str| -> Option<Vec<u64>> {
        let text = text.trim().trim_start_matches('v');
        let parts: Vec<&str> = text
            .split(['.', '-', '+', '_'])
            .take_while(|p| !matches!(*p, "x" | "X" | "*"))
            .collect();
        let numbers: Option<Vec<u64>> = parts
            .iter()
            .take_while(|p| p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty())
            .map(|p| p.parse().ok())
            .collect();
        numbers.filter(|n| !n.is_empty())
    };
    let have = numbers(found)?;
    let requested = requested.trim();
    let (op, rest) = [">=", "^", "~", "="]
        .iter()
        .find_map(|op| requested.strip_prefix(op).map(|rest| (*op, rest)))
        .unwrap_or(("", requested));
    let want = numbers(rest)?;
    let prefix = have.len() >= want.len() && have[..want.len()] == want[..];
    Some(match op {
        ">=" => have >= want,
        "^" => have.first() == want.first() && have >= want,
        "~" => {
            have.len() >= 2.min(want.len())
                && have[..2.min(want.len())] == want[..2.min(want.len())]
                && have >= want
        }
        _ => prefix,
    })
}

/// The PATH a step of this job sees.
fn step_path(ctx: &StepContext, state: &JobState) -> String {
    let base = ctx
        .shared
        .spec
        .base_env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or("/usr/local/bin:/usr/bin:/bin", |(_, v)| v.as_str())
        .to_string();
    if state.added_path.is_empty() {
        base
    } else {
        format!("{}:{base}", state.added_path.join(":"))
    }
}

/// The first line of a version file (`.nvmrc`, `.python-version`).
fn version_file(ctx: &StepContext, file: Option<String>) -> Option<String> {
    let text = std::fs::read_to_string(ctx.workspace.join(file?)).ok()?;
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
}

/// setup-node's `node-version-file`: `package.json` (`volta.node`, else
/// `engines.node`), `.tool-versions` (its `nodejs` line), or a file whose
/// first line is the version (`.nvmrc`, `.node-version`).
fn node_version_file(ctx: &StepContext, file: Option<String>) -> Option<String> {
    let file = file?;
    let name = Path::new(&file).file_name()?.to_string_lossy().into_owned();
    let text = std::fs::read_to_string(ctx.workspace.join(&file)).ok()?;
    match name.as_str() {
        "package.json" => {
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            [json.pointer("/volta/node"), json.pointer("/engines/node")]
                .into_iter()
                .flatten()
                .find_map(|v| v.as_str().map(str::to_string))
        }
        ".tool-versions" => text.lines().find_map(|line| {
            let mut words = line.split_whitespace();
            matches!(words.next(), Some("nodejs" | "node"))
                .then(|| words.next().map(str::to_string))
                .flatten()
        }),
        _ => version_file(ctx, Some(file)),
    }
}

/// The `go` directive of a `go.mod`.
fn go_mod_version(ctx: &StepContext, file: Option<String>) -> Option<String> {
    let text = std::fs::read_to_string(ctx.workspace.join(file?)).ok()?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("go "))
        .map(|v| v.trim().to_string())
}

/// setup-python: a `python3.X` on PATH that matches the request is put
/// first on PATH as `python` and `python3`; otherwise the host's python3.
fn setup_python(
    ctx: &StepContext,
    state: &mut JobState,
    path: &str,
    requested: Option<String>,
) -> Result<IndexMap<String, String>, String> {
    let found = match requested {
        Some(request) => {
            let found = ctx
                .shared
                .spec
                .toolchains
                .python(&request, path)
                .map_err(|e| e.to_string())?;
            ctx.shared.system_line(
                ctx.key,
                Some(ctx.index),
                &format!(
                    "using Python {} from {} for {request}",
                    found.version, found.source
                ),
            );
            Found {
                program: found.program,
                version: found.version.to_string(),
            }
        }
        None => {
            let Some(program) =
                find_program("python3", path).or_else(|| find_program("python", path))
            else {
                return Err(
                    "python is not installed on this host; install it, then run again".into(),
                );
            };
            let name = program
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            probe(
                ctx,
                path,
                &name,
                &["--version"],
                None,
                "python-version",
                |out| out.split_whitespace().nth(1).map(str::to_string),
            )?
        }
    };
    // Shims, so that `python` and `python3` both mean the chosen one.
    state.ensure_dirs(ctx.shared)?;
    let shims = state.temp.join("setup-python");
    std::fs::create_dir_all(&shims)
        .map_err(|e| format!("cannot create {}: {e}", shims.display()))?;
    for shim in ["python", "python3"] {
        let link = shims.join(shim);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&found.program, &link)
            .map_err(|e| format!("cannot create {}: {e}", link.display()))?;
    }
    state.added_path.insert(0, shims.display().to_string());
    Ok(outputs(&[
        ("python-version", found.version),
        ("python-path", found.program.display().to_string()),
    ]))
}

#[cfg(test)]
mod tests {
    use super::version_matches;

    #[test]
    fn versions() {
        assert_eq!(version_matches("20", "20.20.2"), Some(true));
        assert_eq!(version_matches("18.x", "20.20.2"), Some(false));
        assert_eq!(version_matches("v20.20", "20.20.2"), Some(true));
        assert_eq!(version_matches(">=18", "20.1.0"), Some(true));
        assert_eq!(version_matches("^20.21", "20.20.2"), Some(false));
        assert_eq!(version_matches("~3.11", "3.11.7"), Some(true));
        assert_eq!(version_matches("3.12", "3.11.7"), Some(false));
        assert_eq!(version_matches("1.95.0", "1.95.0"), Some(true));
        assert_eq!(version_matches("17", "17.0.15"), Some(true));
        assert_eq!(version_matches("lts/*", "20.1.0"), None);
        assert_eq!(version_matches("stable", "1.95.0"), None);
    }
}

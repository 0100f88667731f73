//! The Docker publishing actions, natively, through the container engine:
//!
//! - `docker/setup-buildx-action`: nothing to set up (the engine builds);
//!   its outputs describe the engine.
//! - `docker/login-action`: `login` with the password on standard input.
//! - `docker/metadata-action`: tags and OCI labels from the event, by the
//!   action's rules (`type=ref`, `sha`, `semver`, `raw`, `schedule`; the
//!   default set when `tags` is not given).
//! - `docker/build-push-action`: `build` with `context`, `file`, `tags`,
//!   `labels`, `build-args`, `target`, then `push` of each tag when asked.
//!   The engine keeps the layers, so a build of an unchanged context
//!   reuses them; `cache-from`/`cache-to` are accepted and said to be
//!   served by that layer cache.

use indexmap::IndexMap;

use super::{input, input_lines};
use crate::engine::Engine;
use crate::events::Outcome;
use crate::step::{StepContext, StepResult};

pub(crate) fn setup_buildx(ctx: &StepContext) -> StepResult {
    let Some(engine) = engine(ctx) else {
        return no_engine(ctx);
    };
    say(
        ctx,
        &format!(
            "builds go to the container engine ({}); nothing to set up",
            engine.program.display()
        ),
    );
    let mut result = StepResult::outcome(Outcome::Success);
    for (name, value) in [
        ("name", "sluice"),
        ("driver", "docker"),
        ("platforms", platform()),
    ] {
        result.outputs.insert(name.into(), value.into());
    }
    result
}

pub(crate) fn login(ctx: &StepContext, inputs: &IndexMap<String, String>) -> StepResult {
    let Some(engine) = engine(ctx) else {
        return no_engine(ctx);
    };
    let registry = input(inputs, "registry").unwrap_or_else(|| "docker.io".into());
    let user = input(inputs, "username").unwrap_or_default();
    let password = inputs.get("password").cloned().unwrap_or_default();
    use std::io::Write;
    let child = engine
        .command()
        .args(["login", "--username", &user, "--password-stdin", &registry])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let outcome = child.and_then(|mut child| {
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(password.as_bytes());
        }
        child.wait_with_output()
    });
    match outcome {
        Ok(output) if output.status.success() => {
            say(ctx, &format!("logged in to {registry} as {user}"));
            StepResult::outcome(Outcome::Success)
        }
        Ok(output) => StepResult::error(
            ctx,
            &format!(
                "login to {registry} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        ),
        Err(e) => StepResult::error(
            ctx,
            &format!("cannot run {}: {e}", engine.program.display()),
        ),
    }
}

pub(crate) fn build_push(ctx: &StepContext, inputs: &IndexMap<String, String>) -> StepResult {
    let Some(engine) = engine(ctx) else {
        return no_engine(ctx);
    };
    let context = input(inputs, "context").unwrap_or_else(|| ".".into());
    let context_dir = ctx.workspace.join(&context);
    let tags = list(inputs, "tags");
    let mut args: Vec<String> = vec!["build".into()];
    if let Some(file) = input(inputs, "file") {
        args.extend([
            "--file".into(),
            ctx.workspace.join(file).display().to_string(),
        ]);
    }
    for tag in &tags {
        args.extend(["--tag".into(), tag.clone()]);
    }
    for label in list(inputs, "labels") {
        args.extend(["--label".into(), label]);
    }
    for build_arg in list(inputs, "build-args") {
        args.extend(["--build-arg".into(), build_arg]);
    }
    if let Some(target) = input(inputs, "target") {
        args.extend(["--target".into(), target]);
    }
    for cache in list(inputs, "cache-from")
        .iter()
        .chain(list(inputs, "cache-to").iter())
    {
        say(
            ctx,
            &format!("notice: `{cache}`: the engine's own layer cache serves builds here"),
        );
    }
    // `--iidfile` gives the image id without parsing output.
    let iid_file = tempfile::NamedTempFile::new().ok();
    if let Some(file) = &iid_file {
        args.extend(["--iidfile".into(), file.path().display().to_string()]);
    }
    args.push(context_dir.display().to_string());
    let started = std::time::Instant::now();
    if let Err(e) = engine.run(&args) {
        return StepResult::error(ctx, &format!("the build failed: {e}"));
    }
    let image_id = iid_file
        .and_then(|f| std::fs::read_to_string(f.path()).ok())
        .unwrap_or_default()
        .trim()
        .to_string();
    say(
        ctx,
        &format!(
            "built {} from {context} in {:.1} s",
            if tags.is_empty() {
                image_id.clone()
            } else {
                tags.join(", ")
            },
            started.elapsed().as_secs_f64()
        ),
    );
    if input(inputs, "push").is_some_and(|p| p == "true") {
        for tag in &tags {
            if let Err(e) = engine.run(&["push".into(), tag.clone()]) {
                return StepResult::error(ctx, &format!("cannot push {tag}: {e}"));
            }
            say(ctx, &format!("pushed {tag}"));
        }
    }
    let mut result = StepResult::outcome(Outcome::Success);
    result.outputs.insert("imageid".into(), image_id.clone());
    result.outputs.insert("digest".into(), image_id);
    result.outputs.insert(
        "metadata".into(),
        serde_json::json!({"image.name": tags.join(",")}).to_string(),
    );
    result
}

/// `docker/metadata-action`: tags for `images` by the `tags` rules, and
/// OCI labels.
pub(crate) fn metadata(ctx: &StepContext, inputs: &IndexMap<String, String>) -> StepResult {
    let github = ctx.shared.github.clone();
    let field = |path: &[&str]| -> String {
        let mut value = Some(&github);
        for part in path {
            value = value.and_then(|v| v.get(part));
        }
        value
            .map(|v| v.to_display_string().into_owned())
            .unwrap_or_default()
    };
    let event = crate::docker_meta::EventFacts {
        event_name: field(&["event_name"]),
        git_ref: field(&["ref"]),
        sha: field(&["sha"]),
        pr_number: field(&["event", "pull_request", "number"]),
        default_branch: field(&["event", "repository", "default_branch"]),
    };
    let images = list(inputs, "images");
    // One rule per line (a rule's attributes are comma-separated).
    let rules = input_lines(inputs, "tags");
    let versions = crate::docker_meta::versions(&event, &rules);
    let tags: Vec<String> = images
        .iter()
        .flat_map(|image| versions.iter().map(move |v| format!("{image}:{v}")))
        .collect();
    let repository = field(&["repository"]);
    let server = field(&["server_url"]);
    let mut labels = vec![
        format!(
            "org.opencontainers.image.title={}",
            repository.rsplit('/').next().unwrap_or("")
        ),
        format!("org.opencontainers.image.url={server}/{repository}"),
        format!("org.opencontainers.image.source={server}/{repository}"),
        format!(
            "org.opencontainers.image.version={}",
            versions.first().cloned().unwrap_or_default()
        ),
        format!("org.opencontainers.image.revision={}", event.sha),
    ];
    labels.extend(list(inputs, "labels"));
    let mut result = StepResult::outcome(Outcome::Success);
    result.outputs.insert("tags".into(), tags.join("\n"));
    result.outputs.insert("labels".into(), labels.join("\n"));
    result.outputs.insert(
        "version".into(),
        versions.first().cloned().unwrap_or_default(),
    );
    result.outputs.insert(
        "json".into(),
        serde_json::json!({"tags": tags, "labels": labels}).to_string(),
    );
    say(ctx, &format!("tags: {}", tags.join(", ")));
    result
}

fn engine(ctx: &StepContext) -> Option<Engine> {
    let spec = ctx.shared.spec;
    let path_var = spec
        .base_env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or("/usr/local/bin:/usr/bin:/bin", |(_, v)| v.as_str());
    crate::engine::find(path_var, spec.container_engine.as_deref())
}

fn no_engine(ctx: &StepContext) -> StepResult {
    StepResult::error(
        ctx,
        "no container engine answers here (docker or podman, through DOCKER_HOST, the default sockets, or container-engine in sluice.toml)",
    )
}

fn say(ctx: &StepContext, line: &str) {
    ctx.shared.system_line(ctx.key, Some(ctx.index), line);
}

/// A list input: items on lines, or comma-separated.
fn list(inputs: &IndexMap<String, String>, name: &str) -> Vec<String> {
    input_lines(inputs, name)
        .iter()
        .flat_map(|line| line.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn platform() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "linux/arm64",
        _ => "linux/amd64",
    }
}

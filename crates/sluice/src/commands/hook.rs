//! `sluice hook install --server URL [--repo PATH] [--local [HOOK]]`:
//! git hooks for teams without GitHub. A bare repository gets a
//! `post-receive` hook that sends what was pushed (its standard input,
//! as is) to the server; a working clone served by the server gets a
//! `post-commit` (or `pre-push`) hook that sends the new commit. The
//! hook presents a token kept beside it, readable by its owner only.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cli::{HookArgs, HookCommand};
use crate::exit::ExitStatus;

pub fn hook(cwd: &Path, args: &HookArgs) -> Result<ExitStatus> {
    let HookCommand::Install {
        server,
        repo,
        local,
        token,
    } = &args.command;
    if !(server.starts_with("http://") || server.starts_with("https://"))
        || server.contains(['\'', '"', '\\', '$', '`', '\n', ' '])
    {
        bail!("--server {server}: give the server's URL, e.g. http://127.0.0.1:8080");
    }
    let repo = repo.clone().unwrap_or_else(|| cwd.to_path_buf());
    let hooks = hooks_dir(&repo)?;
    let (name, script) = match local.as_deref() {
        None => ("post-receive", post_receive(server)),
        Some("post-commit") => ("post-commit", post_commit(server)),
        Some("pre-push") => ("pre-push", pre_push(server)),
        Some(other) => bail!("--local {other}: use post-commit or pre-push"),
    };
    let given = token
        .clone()
        .or_else(|| std::env::var("SLUICE_TOKEN").ok().filter(|t| !t.is_empty()));
    let token = match given {
        Some(token) => token,
        None => {
            let history = super::history::open(cwd)?;
            let label = format!("hook-{}", sanitize(&repo));
            super::token::create(history.store(), &label)?
        }
    };
    std::fs::create_dir_all(&hooks).with_context(|| format!("cannot make {}", hooks.display()))?;
    write_private(&hooks.join("sluice-token"), &format!("{token}\n"), 0o600)?;
    write_private(&hooks.join(name), &script, 0o700)?;
    eprintln!(
        "installed {} (it reports to {server}; its token is in {})",
        hooks.join(name).display(),
        hooks.join("sluice-token").display()
    );
    Ok(ExitStatus::Success)
}

/// Where the repository's hooks go (`core.hooksPath` is honoured).
fn hooks_dir(repo: &Path) -> Result<PathBuf> {
    let dir = sluice_exec::git::git(repo, &["rev-parse", "--git-path", "hooks"])
        .with_context(|| format!("{} is not a git repository", repo.display()))?;
    let dir = PathBuf::from(dir);
    Ok(if dir.is_absolute() {
        dir
    } else {
        repo.join(dir)
    })
}

/// Writes `text` to `path` with `mode`, replacing what was there.
fn write_private(path: &Path, text: &str, mode: u32) -> Result<()> {
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn sanitize(repo: &Path) -> String {
    let name = repo
        .canonicalize()
        .unwrap_or_else(|_| repo.to_path_buf())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repo".into());
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect()
}

/// The request every hook makes: its standard input, as `old new ref`
/// lines, to the server. A server that is down never fails the git
/// command.
fn send(server: &str) -> String {
    format!(
        "token=$(cat \"$(dirname \"$0\")/sluice-token\") || exit 0\n\
         curl --silent --show-error --max-time 10 --output /dev/null \\\n  \
         --config - --data-binary @- '{server}/api/v1/hooks/git' <<CONFIG || true\n\
         header = \"Authorization: Bearer $token\"\n\
         header = \"Content-Type: text/plain\"\n\
         CONFIG\n"
    )
}

fn post_receive(server: &str) -> String {
    // curl reads the config from a here-document, so the pushed refs
    // (the hook's standard input) are passed through a file.
    format!(
        "#!/bin/sh\n# Written by `sluice hook install`: tells the Sluice server at {server} what was pushed.\n\
         refs=$(mktemp) || exit 0\ntrap 'rm -f \"$refs\"' EXIT\ncat > \"$refs\"\n\
         {}",
        send(server).replace("--data-binary @-", "--data-binary \"@$refs\"")
    )
}

fn post_commit(server: &str) -> String {
    format!(
        "#!/bin/sh\n# Written by `sluice hook install --local`: tells the Sluice server at {server} of each commit.\n\
         ref=$(git symbolic-ref -q HEAD) || exit 0\n\
         new=$(git rev-parse HEAD)\n\
         old=$(git rev-parse -q --verify HEAD^ || echo 0000000000000000000000000000000000000000)\n\
         refs=$(mktemp) || exit 0\ntrap 'rm -f \"$refs\"' EXIT\n\
         printf '%s %s %s\\n' \"$old\" \"$new\" \"$ref\" > \"$refs\"\n\
         {}",
        send(server).replace("--data-binary @-", "--data-binary \"@$refs\"")
    )
}

fn pre_push(server: &str) -> String {
    format!(
        "#!/bin/sh\n# Written by `sluice hook install --local pre-push`: tells the Sluice server at {server} what is being pushed.\n\
         refs=$(mktemp) || exit 0\ntrap 'rm -f \"$refs\"' EXIT\n\
         while read local_ref local_sha remote_ref remote_sha; do\n  \
         case \"$local_ref\" in refs/heads/*|refs/tags/*) printf '%s %s %s\\n' \"$remote_sha\" \"$local_sha\" \"$local_ref\" >> \"$refs\";; esac\n\
         done\n\
         {}",
        send(server).replace("--data-binary @-", "--data-binary \"@$refs\"")
    )
}

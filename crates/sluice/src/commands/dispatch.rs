//! `sluice dispatch WORKFLOW [--ref R] [--input K=V]... [--server URL]`:
//! a `workflow_dispatch` run, here (as `sluice run --event
//! workflow_dispatch`) or queued on a server.

use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Parser;
use indexmap::IndexMap;

use crate::cli::{Cli, ColorChoice, Command, DispatchArgs};
use crate::exit::ExitStatus;

pub fn dispatch(cwd: &Path, args: &DispatchArgs, color: ColorChoice) -> Result<ExitStatus> {
    let inputs = crate::event::parse_inputs(&args.inputs)?;
    match &args.server {
        Some(server) => on_server(server, args, &inputs),
        None => here(cwd, args, color),
    }
}

fn here(cwd: &Path, args: &DispatchArgs, color: ColorChoice) -> Result<ExitStatus> {
    if args.git_ref.is_some() {
        bail!("--ref needs --server: here the run uses the working tree as it is");
    }
    let mut words = vec!["sluice".to_string(), "run".into(), args.workflow.clone()];
    words.extend(["--event".into(), "workflow_dispatch".into()]);
    for input in &args.inputs {
        words.extend(["--input".into(), input.clone()]);
    }
    let parsed = Cli::try_parse_from(words).context("cannot form the run")?;
    let Command::Run(run) = parsed.command else {
        bail!("cannot form the run");
    };
    crate::commands::run::run(cwd, &run, color)
}

fn on_server(
    server: &str,
    args: &DispatchArgs,
    inputs: &IndexMap<String, String>,
) -> Result<ExitStatus> {
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        bail!("--server {server}: give the server's URL, e.g. http://127.0.0.1:8080");
    }
    let url = format!("{}/api/v1/dispatch", server.trim_end_matches('/'));
    let body = serde_json::json!({
        "workflow": args.workflow,
        "ref": args.git_ref,
        "inputs": inputs,
    });
    let token = args
        .token
        .clone()
        .or_else(|| std::env::var("SLUICE_TOKEN").ok().filter(|t| !t.is_empty()));
    let (status, response) =
        sluice_server::client::post_json(&url, token.as_deref(), &body.to_string())?;
    let answer: serde_json::Value = serde_json::from_str(&response).unwrap_or_default();
    if !(200..300).contains(&status) {
        let message = answer["error"].as_str().unwrap_or(response.trim());
        bail!("the server refused ({status}): {message}");
    }
    for run in answer["runs"].as_array().into_iter().flatten() {
        crate::output::line(&format!(
            "queued run #{} of {} ({})",
            run["number"],
            run["workflow"].as_str().unwrap_or(""),
            run["workflow_path"].as_str().unwrap_or("")
        ));
    }
    Ok(ExitStatus::Success)
}

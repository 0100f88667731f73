//! The `sluice` binary: command line, configuration, wiring and exit codes.

mod approval_gate;
mod cli;
mod commands;
mod config;
mod coverage_settings;
mod engine;
mod environment_settings;
mod event;
mod exit;
mod flaky_settings;
mod history;
mod markdown;
mod output;
mod perf_settings;
mod render;
mod run_control;
mod secrets;
mod serve;
mod server_settings;
mod signals;
mod terminal_text;
mod view;
mod workflows;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use exit::ExitStatus;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let status = if e.use_stderr() {
                ExitStatus::Usage
            } else {
                ExitStatus::Success
            };
            let _ = e.print();
            return ExitCode::from(status.code());
        }
    };
    let status = match run(cli) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitStatus::Usage
        }
    };
    ExitCode::from(status.code())
}

fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    if let Some(dir) = &cli.directory {
        std::env::set_current_dir(dir)
            .map_err(|e| anyhow::anyhow!("cannot change to directory {}: {e}", dir.display()))?;
    }
    let cwd = std::env::current_dir()?;
    let color = render::stderr_color(cli.color);
    match &cli.command {
        Command::Validate(args) => commands::validate::run(&repo_root_or(&cwd), args, color),
        Command::Expr(args) => commands::expr::run(&cwd, args),
        Command::Plan(args) => commands::plan::run(&cwd, args, color),
        Command::Run(args) => commands::run::run(&cwd, args, cli.color),
        Command::Runs(args) => commands::history::runs(&cwd, args),
        Command::Show(args) => commands::history::show(&cwd, args, cli.color),
        Command::Logs(args) if args.follow => commands::follow::follow(&cwd, args, cli.color),
        Command::Logs(args) => commands::history::logs(&cwd, args, cli.color),
        Command::Cancel(args) => commands::cancel::cancel(&cwd, args),
        Command::Approve(args) => commands::approve::approve(&cwd, args),
        Command::Reject(args) => commands::approve::reject(&cwd, args),
        Command::Environments(args) => commands::environments::environments(&cwd, args),
        Command::Cache(args) => commands::cache::run(&cwd, args),
        Command::Artifacts(args) => commands::artifacts::run(&cwd, args),
        Command::Actions(args) => commands::actions::run(&cwd, args),
        Command::Serve(args) => serve::serve(&cwd, args),
        Command::Dispatch(args) => commands::dispatch::dispatch(&cwd, args, cli.color),
        Command::Token(args) => commands::token::token(&cwd, args),
        Command::Hook(args) => commands::hook::hook(&cwd, args),
        Command::Report(args) => commands::report::report(&cwd, args),
        Command::Tests(args) => commands::tests::tests(&cwd, args),
        Command::Coverage(args) => commands::coverage::coverage(&cwd, args),
        Command::Perf(args) => commands::perf::perf(&cwd, args),
        Command::Deploy(args) => commands::deploy::deploy(&cwd, args),
        Command::Rollback(args) => commands::deploy::rollback(&cwd, args),
        Command::Deploys(args) => commands::deploys::deploys(&cwd, args),
        Command::Dora(args) => commands::deploys::dora(&cwd, args),
        Command::Proxy {
            listen,
            dir,
            answer_timeout_ms,
        } => commands::deploy::proxy(*listen, dir, *answer_timeout_ms),
        Command::Reap { prefix, scratch } => {
            sluice_exec::reaper::run_reaper(prefix, scratch.as_deref());
            Ok(ExitStatus::Success)
        }
    }
}

/// The repository containing `dir`, or `dir` itself outside any repository
/// (validating a lone file needs no repository).
fn repo_root_or(dir: &Path) -> PathBuf {
    sluice_exec::git::find_root(dir).unwrap_or_else(|_| dir.to_path_buf())
}

//! The command line: every command, flag and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version,
    about = "Run GitHub Actions workflows natively, as a real DAG, with caching and history.",
    after_help = "Exit codes: 0 success; 1 the pipeline ran and failed (or validation found errors); \
                  2 usage, configuration or workflow error (nothing ran); 130 interrupted."
)]
pub struct Cli {
    /// Run as if sluice was started in DIR.
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// When to use colours (NO_COLOR is honoured by `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check workflow files and report every problem with its file, line and column.
    Validate(ValidateArgs),
    /// Evaluate one `${{ }}` expression and print its value as JSON.
    Expr(ExprArgs),
    /// Show which jobs a workflow would run for an event, and in what order.
    Plan(PlanArgs),
    /// Run workflows on this machine: jobs start as soon as what they need has finished.
    Run(RunArgs),
    /// List recent runs.
    Runs(RunsArgs),
    /// Show one run: its jobs, steps, results and timings.
    Show(ShowArgs),
    /// Print the logs of a run, a job, or a step (`--follow` while it runs).
    Logs(LogsArgs),
    /// Stop a running run, or take a queued one out of the queue.
    Cancel(CancelArgs),
    /// Approve a run's jobs waiting to deploy to an environment (its protection rules in sluice.toml).
    Approve(DecideArgs),
    /// Reject a run's jobs waiting to deploy to an environment: they fail without running.
    Reject(DecideArgs),
    /// Deployments per environment: commits shipped, results and times.
    Environments(EnvironmentsArgs),
    /// Inspect and maintain the cache: ls, stats, why, prune, verify, clear.
    Cache(CacheArgs),
    /// A run's artifacts (actions/upload-artifact): ls, get.
    Artifacts(ArtifactsArgs),
    /// Remote actions and reusable workflows: pull (prefetch), ls.
    Actions(ActionsArgs),
    /// Serve this repository: run its workflows on push, on schedule and on demand (see docs/api.md).
    Serve(ServeArgs),
    /// Run a workflow that has `on: workflow_dispatch`, here or on a server.
    Dispatch(DispatchArgs),
    /// API tokens of `sluice serve`: create, ls, revoke.
    Token(TokenArgs),
    /// Git hooks that tell a server what was pushed or committed.
    Hook(HookArgs),
    /// Read test reports without a run: `sluice report junit FILE...`.
    Report(ReportArgs),
    /// Test results across runs: a run's tests, one test's history, flaky and broken tests, the quarantine, shards.
    Tests(TestsArgs),
    /// Coverage from the history: a run's, and the change's against its merge base.
    Coverage(CoverageArgs),
    /// Benchmark results: a run's verdicts, a benchmark's history, importing and checking files.
    Perf(PerfArgs),
    /// Deploy an app of sluice.toml blue/green: start, health, smoke test, switch, watch, roll back on a breach.
    Deploy(DeployArgs),
    /// Put an app's earlier version back (the one before the live one, or --to VERSION).
    Rollback(RollbackArgs),
    /// An app's deploys: versions, outcomes and timings.
    Deploys(DeploysArgs),
    /// DORA figures from the deploy history: frequency, lead time, change failure rate, time to restore.
    Dora(DoraArgs),
    /// Internal: an app's switching proxy, started in the background by `sluice deploy`.
    #[command(name = "__proxy", hide = true)]
    Proxy {
        #[arg(long)]
        listen: std::net::SocketAddr,
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 60_000)]
        answer_timeout_ms: u64,
    },
    /// Internal: the watcher that stops a run's processes if Sluice dies.
    #[command(name = "__reap", hide = true)]
    Reap {
        prefix: String,
        scratch: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A workflow file's path, or a workflow's name (default: every workflow the event selects).
    pub workflow: Option<String>,

    #[command(flatten)]
    pub event: EventArgs,

    /// Run only this job and the jobs it needs (repeatable).
    #[arg(long = "job", value_name = "ID")]
    pub only_jobs: Vec<String>,

    /// How many jobs may run at once (default: the number of cores; env SLUICE_JOBS).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// A secret, as NAME=VALUE (repeatable); also read from SLUICE_SECRET_<NAME>.
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,

    /// A file of secrets in .env format (repeatable).
    #[arg(long = "secret-file", value_name = "FILE")]
    pub secret_files: Vec<PathBuf>,

    /// A configuration variable for the `vars` context, as NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Write the run's events as NDJSON to stdout (documented in docs/events-json.md).
    #[arg(long)]
    pub json: bool,

    /// Run jobs in the working tree itself instead of each in its own snapshot (env SLUICE_IN_PLACE=1).
    #[arg(long)]
    pub in_place: bool,

    /// Where `container:` jobs run their steps: `engine` (the default: in
    /// the container) or `host` (for images used only to get a toolchain).
    #[arg(long, value_name = "engine|host")]
    pub container: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// How many runs to list (at least 1).
    #[arg(long, short = 'n', default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,

    /// Only runs of this workflow (name or path).
    #[arg(long)]
    pub workflow: Option<String>,

    /// Only runs with this status (queued, running, success, failure, cancelled, skipped, interrupted).
    #[arg(long)]
    pub status: Option<String>,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The run's number (see `sluice runs`); `last` for the latest.
    pub run: String,

    /// Print the step summaries (GITHUB_STEP_SUMMARY) too.
    #[arg(long)]
    pub summary: bool,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The run's number; `last` for the latest.
    pub run: String,
    /// A job: its key (`test[1]`), id (all its instances) or name.
    pub job: Option<String>,
    /// A step: its number (1-based), id or name.
    pub step: Option<String>,
    /// Keep printing lines as the run writes them, until it ends.
    #[arg(long, short = 'f')]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The run's number; `last` for the latest.
    pub run: String,
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The run's number; `last` for the latest.
    pub run: String,
    /// The environment (needed when jobs wait for several).
    #[arg(long = "env", value_name = "ENVIRONMENT")]
    pub environment: Option<String>,
    /// Why, kept with the decision.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Who decides (default: this user's login name).
    #[arg(long = "as", value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct EnvironmentsArgs {
    /// Only this environment's deployments.
    pub environment: Option<String>,
    /// How many deployments per environment (newest first).
    #[arg(long, short = 'n', default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Workflow files to check (default: every workflow of the repository).
    pub paths: Vec<PathBuf>,

    /// Treat everything GitHub would reject (unknown keys, Sluice extensions
    /// in .github/workflows) as an error rather than a warning.
    #[arg(long)]
    pub strict: bool,

    /// How to print findings.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub format: DiagnosticFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// Source snippets with the position underlined and advice.
    Human,
    /// One line per finding: `path:line:col: severity: message`.
    Short,
    /// One JSON object per finding, one per line.
    Json,
}

#[derive(Debug, Args)]
pub struct ExprArgs {
    /// The expression, with or without `${{ }}` (it may start with `-`: `sluice expr '-1'`).
    #[arg(allow_hyphen_values = true)]
    pub expression: String,

    /// A JSON object mapping context names (github, env, matrix, ...) to values.
    #[arg(long, value_name = "FILE.json")]
    pub context: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A workflow file's path, or a workflow's name (default: every workflow the event selects).
    pub workflow: Option<String>,

    #[command(flatten)]
    pub event: EventArgs,

    /// Print the plan as JSON (the shape is documented in docs/plan-json.md).
    #[arg(long)]
    pub json: bool,
}

/// Which event to simulate.
#[derive(Debug, Args)]
pub struct EventArgs {
    /// The event: push (default), pull_request, workflow_dispatch, schedule, or another event name.
    #[arg(long, default_value = "push")]
    pub event: String,

    /// A workflow_dispatch input, as KEY=VALUE (repeatable).
    #[arg(long = "input", value_name = "KEY=VALUE")]
    pub inputs: Vec<String>,

    /// For pull_request: the base branch (default: the repository's default branch).
    #[arg(long, value_name = "BRANCH")]
    pub base: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,
    /// The repository to serve (default: the one around the working directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// Runs at once (default: server-workers in sluice.toml, else 2).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,
    /// How many jobs of one run may run at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// A secret for the runs, as NAME=VALUE (repeatable); also read from SLUICE_SECRET_<NAME>.
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,
    /// A file of secrets in .env format (repeatable).
    #[arg(long = "secret-file", value_name = "FILE")]
    pub secret_files: Vec<PathBuf>,
    /// A configuration variable for the `vars` context, as NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DispatchArgs {
    /// The workflow: its file name, path or name.
    pub workflow: String,
    /// The branch or tag to run at (default: the default branch on a server, the current branch here).
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// An input, as KEY=VALUE (repeatable).
    #[arg(long = "input", value_name = "KEY=VALUE")]
    pub inputs: Vec<String>,
    /// A server to ask (e.g. http://127.0.0.1:8080) instead of running here.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The API token for --server (default: env SLUICE_TOKEN).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token and print it once (only its digest is kept).
    Create {
        /// What the token is for, e.g. `deploy-bot`.
        name: String,
    },
    /// List tokens (names and when they were made and last used).
    Ls,
    /// Remove a token.
    Revoke { name: String },
}

#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub command: HookCommand,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write a git hook that tells the server what was pushed.
    Install {
        /// The server's address, e.g. http://127.0.0.1:8080.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The repository to install into: a bare repository (a post-receive hook) by default.
        #[arg(long, value_name = "PATH")]
        repo: Option<PathBuf>,
        /// Install into a working clone instead: `post-commit` (default) or `pre-push`.
        #[arg(long, value_name = "HOOK", num_args = 0..=1, default_missing_value = "post-commit")]
        local: Option<String>,
        /// The API token the hook presents (default: a new token named after the repository).
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TestsArgs {
    #[command(subcommand)]
    pub command: Option<TestsCommand>,
    /// The run whose tests to show (default: the latest).
    pub run: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum TestsCommand {
    /// Flaky and broken tests, each with the rule and the runs that show it, and the time flaky tests cost.
    Flaky {
        /// Look at the results of the last N days (default: window-days in [flaky], else 30).
        #[arg(long, value_name = "N")]
        days: Option<u32>,
        /// Add the flaky tests found (never broken ones) to .sluice/quarantine.yml.
        #[arg(long)]
        quarantine: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One test's results, newest first (TEST: name, class::name or class.name).
    History {
        test: String,
        /// How many results.
        #[arg(long, short = 'n', default_value_t = 30)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The items (test files or classes) of one shard, balanced by their measured durations.
    Shard {
        /// How many shards.
        #[arg(long)]
        total: usize,
        /// This shard, from 1 (not needed with --explain).
        #[arg(long, required_unless_present = "explain")]
        index: Option<usize>,
        /// What ITEMS are: test files (the reports' `file`, or their class as a module) or classes.
        #[arg(long, value_enum, default_value_t = ShardBy::File)]
        by: ShardBy,
        /// Hand out items a batch at a time from a queue the run's shards share (inside a Sluice run only): call again for the next batch until it prints nothing.
        #[arg(long, conflicts_with = "explain")]
        queue: bool,
        /// Show every shard's items and predicted time instead.
        #[arg(long)]
        explain: bool,
        /// Test files, classes or globs (GitHub's path-glob rules).
        #[arg(required = true)]
        items: Vec<String>,
    },
    /// The quarantine (.sluice/quarantine.yml): tests that still run but whose failures do not fail a step.
    Quarantine {
        #[command(subcommand)]
        command: QuarantineCommand,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PerfArgs {
    #[command(subcommand)]
    pub command: Option<PerfCommand>,
    /// The run whose results to show (default: the latest with benchmarks).
    pub run: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PerfCommand {
    /// One benchmark's values over time, with the change points of its default-branch series.
    History {
        benchmark: String,
        /// Only this measure (default: all).
        #[arg(long)]
        measure: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import a results file into the history (backfilling from old files).
    Record {
        file: PathBuf,
        /// The format (bmf, criterion, hyperfine, pytest, googlecpp, go, k6, ...); default: told by the file.
        #[arg(long)]
        format: Option<String>,
        /// The branch the results are of (default: the default branch).
        #[arg(long)]
        branch: Option<String>,
        /// The commit the results are of (default: HEAD).
        #[arg(long)]
        commit: Option<String>,
        /// When they were measured: Unix seconds or YYYY-MM-DD[THH:MM:SS] (UTC; default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Judge a results file against the default branch's history on this machine, without a run: exit 1 when a verdict is critical.
    Check {
        file: PathBuf,
        /// The format; default: told by the file.
        #[arg(long)]
        format: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShardBy {
    File,
    Class,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CoverageArgs {
    #[command(subcommand)]
    pub command: Option<CoverageCommand>,
    /// The run whose coverage to show (default: the latest with coverage).
    pub run: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CoverageCommand {
    /// The coverage of the working tree's change against its merge base with BASE, from a run's coverage.
    Diff {
        /// What the change is measured against (default: [coverage] base, else the default branch).
        #[arg(long)]
        base: Option<String>,
        /// The run whose coverage to use (default: the latest with coverage).
        #[arg(long)]
        run: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// Quarantine a test (as `class::name`, or a name the history knows).
    Add {
        test: String,
        /// Why (kept in the file, for review).
        #[arg(long)]
        reason: String,
    },
    /// Release a test from the quarantine.
    Rm { test: String },
    /// List the quarantined tests.
    Ls,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// What JUnit XML reports hold: totals, failures, the slowest tests.
    Junit {
        /// Report files (a test in several is merged as its retries are).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the totals and every test as JSON.
        #[arg(long)]
        json: bool,
    },
    /// What coverage reports hold (Cobertura, JaCoCo, LCOV, Go profiles): totals and per file; several merge.
    Coverage {
        /// Report files (shards of one suite merge).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The format of every file (cobertura, jacoco, lcov, go); default: told by each file.
        #[arg(long)]
        format: Option<String>,
        /// Print the totals and every file as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ArtifactsArgs {
    #[command(subcommand)]
    pub command: ArtifactsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ArtifactsCommand {
    /// List a run's artifacts.
    Ls {
        /// The run's number; `last` for the latest.
        run: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write an artifact's files to DIR (default: ./NAME).
    Get {
        /// The run's number; `last` for the latest.
        run: String,
        /// The artifact's name.
        name: String,
        /// Where to put its files.
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ActionsArgs {
    #[command(subcommand)]
    pub command: ActionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// Fetch every remote action and reusable workflow the repository's
    /// workflows use (nested ones included) into the cache, for offline runs.
    Pull {
        /// Secrets (for a token to private repositories), as for `run`.
        #[arg(long = "secret", value_name = "NAME=VALUE")]
        secrets: Vec<String>,
        /// A .env file of secrets.
        #[arg(long = "secret-file", value_name = "FILE")]
        secret_files: Vec<std::path::PathBuf>,
    },
    /// List the actions in the cache and the commits they are at.
    Ls {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub command: CacheCommand,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// List the cache's entries: step-cache results and actions/cache keys.
    Ls {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Also list recorded misses (what `why` compares).
        #[arg(long)]
        all: bool,
    },
    /// Hit rate, bytes stored and restored, and time saved.
    Stats {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Over the last N days.
        #[arg(long, default_value_t = 30)]
        days: u64,
    },
    /// Explain why a step's cache missed: JOB or JOB/STEP (its id or number).
    Why { step: String },
    /// Apply the size and age limits now.
    Prune,
    /// Rehash every stored blob; corrupt ones are removed.
    Verify,
    /// Remove everything from the cache.
    Clear,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct DeployArgs {
    #[command(subcommand)]
    pub command: Option<DeployCommand>,
    /// The app: a table [apps.NAME] of sluice.toml.
    #[arg(required = true)]
    pub app: Option<String>,
    /// The version to deploy, handed to the app as SLUICE_VERSION (default: the commit's short id).
    #[arg(long)]
    pub version: Option<String>,
    /// Print the deploy's report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// Stop an app: both colours and its proxy.
    Stop { app: String },
    /// What is deployed: the live colour, its version, port and process, the proxy.
    Status {
        /// One app (default: every app of sluice.toml).
        app: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    pub app: String,
    /// A version kept for rollback (see `sluice deploy status`).
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DeploysArgs {
    /// One app (default: all).
    pub app: Option<String>,
    /// How many to show.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DoraArgs {
    /// One app (default: all).
    #[arg(long)]
    pub app: Option<String>,
    /// How far back: 90d, 4w, 12h.
    #[arg(long, default_value = "90d")]
    pub since: String,
    #[arg(long)]
    pub json: bool,
}

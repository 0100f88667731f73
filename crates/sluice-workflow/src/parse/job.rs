//! `jobs.<job_id>`.

use indexmap::IndexMap;

use super::service::{read_container, read_services};
use super::step::read_steps;
use crate::contexts::{self, Availability};
use crate::ids;
use crate::model::{
    CallSecrets, Concurrency, Condition, Dialect, Job, JobBody, RunDefaults, Strategy, WorkflowCall,
};
use crate::reader::{Expect, Fields, Reader};
use crate::token::{Token, TokenKind};
use crate::yaml::{Node, NodeKind};

const STEP_JOB_KEYS: &[&str] = &[
    "needs",
    "if",
    "strategy",
    "name",
    "runs-on",
    "timeout-minutes",
    "cancel-timeout-minutes",
    "continue-on-error",
    "container",
    "services",
    "env",
    "environment",
    "permissions",
    "concurrency",
    "outputs",
    "defaults",
    "steps",
    "snapshot",
];
const CALL_JOB_KEYS: &[&str] = &[
    "name",
    "uses",
    "with",
    "secrets",
    "needs",
    "if",
    "permissions",
    "concurrency",
    "strategy",
];

pub(crate) fn read_jobs(r: &mut Reader, node: &Node) -> IndexMap<String, Job> {
    let mut jobs: IndexMap<String, Job> = IndexMap::new();
    let Some(entries) = r.mapping(node, "jobs") else {
        return jobs;
    };
    let mut seen_lower: IndexMap<String, ()> = IndexMap::new();
    for (key, value) in entries {
        let Some(id) = r.key(key) else { continue };
        if id.is_empty() {
            r.diags.error(key.span, "Unexpected value ''").with_help(
                "give the job an id: a letter or '_' followed by letters, digits, '-' or '_'",
            );
            continue;
        }
        if let Err(message) = ids::check_identifier(id) {
            r.diags.error(key.span, message).with_help(
                "job ids start with a letter or '_' and use only letters, digits, '-' and '_'",
            );
            continue;
        }
        if seen_lower.insert(id.to_ascii_lowercase(), ()).is_some() {
            r.diags
                .error(key.span, format!("'{id}' is already defined"))
                .with_help("job ids are compared without regard to case; rename one of the jobs");
            continue;
        }
        if let Some(job) = read_job(r, id, key, value) {
            jobs.insert(id.to_string(), job);
        }
    }
    if entries.is_empty() {
        r.diags
            .error(
                node.span,
                "The workflow must contain at least one job with no dependencies.",
            )
            .with_help("add a job under `jobs:`");
    }
    jobs
}

fn read_job(r: &mut Reader, id: &str, key: &Node, value: &Node) -> Option<Job> {
    let is_call = matches!(&value.kind, NodeKind::Mapping(entries)
        if entries.iter().any(|(k, _)| k.scalar_text() == Some("uses"))
            && !entries.iter().any(|(k, _)| matches!(k.scalar_text(), Some("runs-on" | "steps"))));
    let path = format!("jobs.{id}");
    let known = if is_call {
        CALL_JOB_KEYS
    } else {
        STEP_JOB_KEYS
    };
    let fields = r.fields(value, &path, known, &[])?;
    let mut job = Job {
        id: id.to_string(),
        span: key.span,
        name: fields.get("name").map(|n| {
            r.token(
                n,
                "name",
                Expect::String,
                &contexts::JOB_MATRIX.named("jobs.<job_id>.name"),
            )
        }),
        needs: fields
            .get("needs")
            .map(|n| r.literal_list(n, "needs"))
            .unwrap_or_default(),
        condition: fields
            .get("if")
            .map_or_else(Condition::default_success, |n| {
                r.condition(n, &contexts::JOB_IF)
            }),
        runs_on: None,
        environment: None,
        strategy: fields.get("strategy").and_then(|n| read_strategy(r, n)),
        services: IndexMap::new(),
        container: None,
        env: None,
        defaults: RunDefaults::default(),
        outputs: IndexMap::new(),
        timeout_minutes: None,
        continue_on_error: None,
        concurrency: fields.get("concurrency").and_then(|n| {
            read_concurrency(
                r,
                n,
                &contexts::JOB_MATRIX.named("jobs.<job_id>.concurrency"),
            )
        }),
        permissions: fields.get("permissions").map(|n| read_permissions(r, n)),
        body: JobBody::Steps(Vec::new()),
    };
    if is_call {
        job.body = JobBody::Call(Box::new(read_call(r, &fields)?));
        return Some(job);
    }
    if fields.has("uses") {
        // Reached only when the job also has runs-on or steps.
        let span = fields.key_span("uses").unwrap_or(key.span);
        r.diags
            .error(span, "Unexpected value 'uses'")
            .with_help("a job either calls a reusable workflow (`uses:`) or runs steps (`runs-on:` and `steps:`), not both");
    }
    if !fields.has("runs-on") && r.dialect == Dialect::GitHub {
        r.required(&fields, "runs-on");
    }
    let matrix_level = |key: &'static str| contexts::JOB_MATRIX.named(key);
    job.runs_on = fields.get("runs-on").map(|n| read_runs_on(r, n));
    job.environment = fields.get("environment").map(|n| read_environment(r, n));
    job.services = fields
        .get("services")
        .map(|n| read_services(r, n))
        .unwrap_or_default();
    job.container = fields.get("container").and_then(|n| read_container(r, n));
    job.env = fields
        .get("env")
        .map(|n| r.token(n, "env", Expect::StringMap, &contexts::JOB_ENV));
    job.defaults = fields
        .get("defaults")
        .map(|n| read_defaults(r, n, Some(&contexts::JOB_DEFAULTS_RUN)))
        .unwrap_or_default();
    if let Some(outputs) = fields.get("outputs") {
        let token = r.token(
            outputs,
            "outputs",
            Expect::StringMap,
            &contexts::JOB_OUTPUTS,
        );
        job.outputs = token.string_map();
    }
    job.timeout_minutes = fields.get("timeout-minutes").map(|n| {
        r.token(
            n,
            "timeout-minutes",
            Expect::Number,
            &matrix_level("jobs.<job_id>.timeout-minutes"),
        )
    });
    if let Some(n) = fields.get("cancel-timeout-minutes") {
        r.token(
            n,
            "cancel-timeout-minutes",
            Expect::Number,
            &matrix_level("jobs.<job_id>.cancel-timeout-minutes"),
        );
    }
    job.continue_on_error = fields.get("continue-on-error").map(|n| {
        r.token(
            n,
            "continue-on-error",
            Expect::Boolean,
            &matrix_level("jobs.<job_id>.continue-on-error"),
        )
    });
    if let Some(n) = fields.get("snapshot") {
        read_snapshot(r, n);
    }
    job.body = JobBody::Steps(
        fields
            .get("steps")
            .map(|n| read_steps(r, n))
            .unwrap_or_default(),
    );
    Some(job)
}

fn read_call(r: &mut Reader, fields: &Fields) -> Option<WorkflowCall> {
    r.required(fields, "uses");
    let uses = r.literal_non_empty(fields.get("uses")?, "uses")?;
    let mut with = IndexMap::new();
    let mut with_spans = IndexMap::new();
    if let Some(node) = fields.get("with") {
        let token = r.token(node, "with", Expect::Any, &contexts::JOB_WITH);
        match &token.kind {
            TokenKind::Mapping(entries) => {
                for (name, span, value) in entries {
                    if matches!(value.kind, TokenKind::Sequence(_) | TokenKind::Mapping(_)) {
                        r.diags
                            .error(
                                value.span,
                                "A sequence or mapping is not a valid input value",
                            )
                            .with_help(
                                "inputs of reusable workflows are strings, numbers or booleans",
                            );
                    }
                    with.insert(name.clone(), value.clone());
                    with_spans.insert(name.clone(), *span);
                }
            }
            _ => r.not_expected(node, "with", "a mapping of input names to values"),
        }
    }
    let secrets = match fields.get("secrets") {
        None => CallSecrets::None,
        Some(node) => match &node.kind {
            NodeKind::Scalar(s) if s.text == "inherit" => CallSecrets::Inherit,
            NodeKind::Mapping(_) => {
                let token = r.token(node, "secrets", Expect::StringMap, &contexts::JOB_SECRETS);
                CallSecrets::Map(
                    token
                        .entries()
                        .iter()
                        .map(|(k, span, v)| (k.clone(), (*span, v.clone())))
                        .collect(),
                )
            }
            _ => {
                r.diags
                    .error(
                        node.span,
                        format!("Unexpected value '{}'", node.scalar_text().unwrap_or("")),
                    )
                    .with_help("`secrets:` is `inherit` or a mapping of secret names to values");
                CallSecrets::None
            }
        },
    };
    Some(WorkflowCall {
        uses,
        with,
        with_spans,
        secrets,
        callee: None,
    })
}

fn read_runs_on(r: &mut Reader, node: &Node) -> Token {
    let avail = contexts::JOB_MATRIX.named("jobs.<job_id>.runs-on");
    if let NodeKind::Mapping(_) = node.kind {
        if let Some(fields) = r.fields(node, "runs-on", &["group", "labels"], &[])
            && let Some(group) = fields
                .get("group")
                .and_then(|n| r.literal_non_empty(n, "group"))
            && let Err(message) = check_runner_group(&group.value)
        {
            r.diags.error(group.span, message).with_help(
                "name the group plainly, or with an `organization/` or `enterprise/` prefix",
            );
        }
        return r.token(node, "runs-on", Expect::Any, &avail);
    }
    r.token(node, "runs-on", Expect::StringOrSequence, &avail)
}

fn check_runner_group(group: &str) -> Result<(), String> {
    let Some((prefix, rest)) = group.split_once('/') else {
        return Ok(());
    };
    let known_prefix = matches!(prefix, "org" | "organization" | "ent" | "enterprise");
    if known_prefix && rest.is_empty() {
        return Err(format!("Invalid runs-on group name '{group}'."));
    }
    if !known_prefix || rest.contains('/') {
        return Err(format!(
            "Invalid runs-on group name '{group}'. Please use 'organization/' or 'enterprise/' prefix to target a single runner group."
        ));
    }
    Ok(())
}

fn read_environment(r: &mut Reader, node: &Node) -> Token {
    let avail = contexts::JOB_MATRIX.named("jobs.<job_id>.environment");
    if let NodeKind::Mapping(_) = node.kind {
        if let Some(fields) = r.fields(node, "environment", &["name", "url", "deployment"], &[]) {
            r.required(&fields, "name");
            if let Some(url) = fields.get("url") {
                r.token(url, "url", Expect::String, &contexts::ENVIRONMENT_URL);
            }
            if let Some(deployment) = fields.get("deployment") {
                r.literal_bool(deployment, "deployment");
            }
            if let Some(name) = fields.get("name") {
                r.token(name, "name", Expect::String, &avail);
            }
        }
        return r.token(node, "environment", Expect::Any, &contexts::ENVIRONMENT_URL);
    }
    r.token(node, "environment", Expect::String, &avail)
}

fn read_strategy(r: &mut Reader, node: &Node) -> Option<Strategy> {
    let avail = contexts::JOB_STRATEGY;
    if node.scalar_text().is_some_and(|t| t.contains("${{")) {
        let token = r.token(node, "strategy", Expect::Any, &avail);
        return Some(Strategy {
            span: node.span,
            matrix: Some(token),
            fail_fast: None,
            max_parallel: None,
        });
    }
    let fields = r.fields(
        node,
        "strategy",
        &["matrix", "fail-fast", "max-parallel"],
        &[],
    )?;
    let matrix = fields.get("matrix").map(|n| read_matrix(r, n));
    Some(Strategy {
        span: node.span,
        matrix,
        fail_fast: fields
            .get("fail-fast")
            .map(|n| r.token(n, "fail-fast", Expect::Boolean, &avail)),
        max_parallel: fields
            .get("max-parallel")
            .map(|n| r.token(n, "max-parallel", Expect::Number, &avail)),
    })
}

fn read_matrix(r: &mut Reader, node: &Node) -> Token {
    let avail = contexts::JOB_STRATEGY.named("jobs.<job_id>.strategy.matrix");
    let token = r.token(node, "matrix", Expect::Any, &avail);
    match &token.kind {
        TokenKind::String(s) if s.contains("${{") => {}
        TokenKind::Mapping(entries) => {
            for (key, key_span, value) in entries {
                let is_expression = value.as_str().is_some_and(|s| s.contains("${{"));
                match (key.as_str(), &value.kind) {
                    (_, _) if is_expression => {}
                    ("include" | "exclude", TokenKind::Sequence(items)) => {
                        for item in items {
                            let fits = matches!(item.kind, TokenKind::Mapping(_))
                                || item.as_str().is_some_and(|s| s.contains("${{"));
                            if !fits {
                                r.diags
                                    .error(
                                        item.span,
                                        format!("Each `{key}` entry must be a mapping"),
                                    )
                                    .with_help(format!(
                                        "write `{key}` entries as `- name: value` pairs"
                                    ));
                            }
                        }
                    }
                    ("include" | "exclude", _) => {
                        r.diags
                            .error(
                                value.span,
                                format!("`{key}` must be a sequence of mappings"),
                            )
                            .with_help(format!(
                                "write `{key}:` followed by `- name: value` entries"
                            ));
                    }
                    (_, TokenKind::Sequence(items)) if items.is_empty() => {
                        r.diags
                            .error(
                                value.span,
                                format!("Matrix vector '{key}' does not contain any values"),
                            )
                            .with_help("give the vector at least one value, or remove it");
                    }
                    (_, TokenKind::Sequence(_)) => {}
                    _ => {
                        r.diags
                            .error(
                                *key_span,
                                format!("Matrix vector '{key}' must be a sequence"),
                            )
                            .with_help(format!("write `{key}: [value, ...]`"));
                    }
                }
            }
        }
        _ => r.not_expected(node, "matrix", "a mapping of vectors"),
    }
    token
}

pub(crate) fn read_concurrency(
    r: &mut Reader,
    node: &Node,
    avail: &Availability,
) -> Option<Concurrency> {
    if let NodeKind::Scalar(_) = node.kind {
        let group = r.token(node, "concurrency", Expect::NonEmptyString, avail);
        return Some(Concurrency {
            span: node.span,
            group,
            cancel_in_progress: None,
            queue_all: false,
        });
    }
    let fields = r.fields(
        node,
        "concurrency",
        &["group", "cancel-in-progress", "queue"],
        &[],
    )?;
    r.required(&fields, "group");
    let queue = fields
        .get("queue")
        .and_then(|n| r.literal_string(n, "queue"));
    if let Some(queue) = &queue
        && !matches!(queue.value.as_str(), "single" | "max")
    {
        r.diags
            .error(queue.span, format!("Unexpected value '{}'", queue.value))
            .with_help("`queue` is `single` or `max`");
    }
    let group = r.token(fields.get("group")?, "group", Expect::NonEmptyString, avail);
    Some(Concurrency {
        span: node.span,
        group,
        cancel_in_progress: fields
            .get("cancel-in-progress")
            .map(|n| r.token(n, "cancel-in-progress", Expect::Boolean, avail)),
        queue_all: queue.is_some_and(|q| q.value == "max"),
    })
}

pub(crate) fn read_defaults(
    r: &mut Reader,
    node: &Node,
    avail: Option<&Availability>,
) -> RunDefaults {
    let mut defaults = RunDefaults::default();
    let Some(fields) = r.fields(node, "defaults", &["run"], &[]) else {
        return defaults;
    };
    let Some(run) = fields.get("run") else {
        return defaults;
    };
    let Some(run_fields) = r.fields(run, "defaults.run", &["shell", "working-directory"], &[])
    else {
        return defaults;
    };
    let mut read = |key: &str| {
        run_fields.get(key).map(|n| match avail {
            Some(avail) => r.token(n, key, Expect::NonEmptyString, avail),
            None => {
                let token = r.literal_token(n);
                if token.as_str().is_none_or(str::is_empty) {
                    r.not_expected(n, key, "a non-empty string");
                }
                token
            }
        })
    };
    defaults.shell = read("shell");
    defaults.working_directory = read("working-directory");
    defaults
}

const PERMISSION_SCOPES: &[&str] = &[
    "actions",
    "artifact-metadata",
    "attestations",
    "checks",
    "contents",
    "copilot-requests",
    "deployments",
    "discussions",
    "id-token",
    "issues",
    "models",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
    "vulnerability-alerts",
];

pub(crate) fn read_permissions(r: &mut Reader, node: &Node) -> Token {
    let token = r.literal_token(node);
    match &node.kind {
        NodeKind::Scalar(s) => {
            if !matches!(s.text.as_str(), "read-all" | "write-all" | "") {
                r.diags
                    .error(node.span, format!("Unexpected value '{}'", s.text))
                    .with_help("`permissions` is `read-all`, `write-all`, or a mapping of scopes to read, write or none");
            }
        }
        NodeKind::Mapping(_) => {
            if let Some(fields) = r.fields(node, "permissions", PERMISSION_SCOPES, &[]) {
                let scopes: Vec<&str> = fields.keys().collect();
                for scope in scopes {
                    let Some(level) = fields.get(scope).and_then(|n| r.literal_string(n, scope))
                    else {
                        continue;
                    };
                    let allowed: &[&str] = match scope {
                        "id-token" | "copilot-requests" => &["write", "none"],
                        "models" | "vulnerability-alerts" => &["read", "none"],
                        _ => &["read", "write", "none"],
                    };
                    if !allowed.contains(&level.value.as_str()) {
                        r.diags
                            .error(level.span, format!("Unexpected value '{}'", level.value))
                            .with_help(format!("`{scope}` may be: {}", allowed.join(", ")));
                    }
                }
            }
        }
        NodeKind::Sequence(_) => {
            r.not_expected(node, "permissions", "a mapping or read-all/write-all")
        }
    }
    token
}

fn read_snapshot(r: &mut Reader, node: &Node) {
    if let NodeKind::Scalar(_) = node.kind {
        r.literal_non_empty(node, "snapshot");
        return;
    }
    if let Some(fields) = r.fields(node, "snapshot", &["image-name", "if", "version"], &[]) {
        r.required(&fields, "image-name");
        if let Some(n) = fields.get("if") {
            let avail = contexts::JOB_MATRIX.named("jobs.<job_id>.snapshot.if");
            r.condition(n, &avail);
        }
    }
}

//! `jobs.<job_id>.steps[*]`.

use std::collections::HashMap;

use crate::contexts;
use crate::ids::{self, StepIdGenerator};
use crate::model::{
    Condition, CoverageGateSpec, Spanned, Step, StepAction, StepCache, StepReports, StepRetry,
};
use crate::reader::{Expect, Fields, Reader};
use crate::yaml::Node;

const COMMON_KEYS: &[&str] = &[
    "name",
    "id",
    "if",
    "continue-on-error",
    "timeout-minutes",
    "env",
];
const RUN_KEYS: &[&str] = &["run", "shell", "working-directory"];
const USES_KEYS: &[&str] = &["uses", "with"];
/// GitHub's background steps (`background:`, `wait:`, `wait-all:`, `cancel:`).
const BACKGROUND_KEYS: &[&str] = &["background", "wait", "wait-all", "cancel"];
const STEP_EXTENSIONS: &[&str] = &["cache", "reports", "retry"];
const CACHE_KEYS: &[&str] = &["inputs", "outputs", "env"];
const REPORT_KEYS: &[&str] = &[
    "junit",
    "coverage",
    "coverage-gate",
    "benchmarks",
    "benchmark-format",
];
const GATE_KEYS: &[&str] = &["minimum", "max-drop", "diff-minimum", "base"];
const RETRY_KEYS: &[&str] = &["attempts", "delay", "rerun-failed"];
/// Most attempts a `retry:` may ask for.
const MAX_ATTEMPTS: u32 = 10;

pub(crate) fn read_steps(r: &mut Reader, node: &Node) -> Vec<Step> {
    let Some(items) = r.sequence(node, "steps") else {
        return Vec::new();
    };
    let mut generator = StepIdGenerator::default();
    let mut written_ids: HashMap<String, ()> = HashMap::new();
    let mut steps = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        if let Some(step) = read_step(r, item, index, &mut generator, &mut written_ids) {
            steps.push(step);
        }
    }
    // Generated ids are handed out after all written ids are known, as
    // GitHub does, so a later `id: __run`-like clash cannot happen.
    for step in &mut steps {
        if !step.id_written {
            let uses = match &step.action {
                StepAction::Uses { uses, .. } => Some(uses.value.as_str()),
                _ => None,
            };
            step.id = generator.generate(uses);
        }
    }
    steps
}

fn all_keys() -> Vec<&'static str> {
    [COMMON_KEYS, RUN_KEYS, USES_KEYS, BACKGROUND_KEYS].concat()
}

fn read_step(
    r: &mut Reader,
    node: &Node,
    index: usize,
    generator: &mut StepIdGenerator,
    written_ids: &mut HashMap<String, ()>,
) -> Option<Step> {
    let keys = all_keys();
    let fields = r.fields(node, "steps[*]", &keys, STEP_EXTENSIONS)?;
    let action = read_action(r, node, &fields)?;
    let mut step = Step {
        index,
        span: node.span,
        id: String::new(),
        id_written: false,
        name: fields.get("name").map(|n| {
            r.token(
                n,
                "name",
                Expect::String,
                &contexts::STEP.named("steps[*].name"),
            )
        }),
        condition: fields
            .get("if")
            .map_or_else(Condition::default_success, |n| {
                r.condition(n, &contexts::STEP_IF)
            }),
        action,
        env: fields.get("env").map(|n| {
            r.token(
                n,
                "env",
                Expect::StringMap,
                &contexts::STEP.named("steps[*].env"),
            )
        }),
        continue_on_error: fields.get("continue-on-error").map(|n| {
            r.token(
                n,
                "continue-on-error",
                Expect::Boolean,
                &contexts::STEP.named("steps[*].continue-on-error"),
            )
        }),
        timeout_minutes: fields.get("timeout-minutes").map(|n| {
            r.token(
                n,
                "timeout-minutes",
                Expect::Number,
                &contexts::STEP.named("steps[*].timeout-minutes"),
            )
        }),
        cache: fields.get("cache").and_then(|n| read_cache(r, n)),
        reports: fields.get("reports").and_then(|n| read_reports(r, n)),
        retry: fields.get("retry").and_then(|n| read_retry(r, n)),
    };
    if let Some(id_node) = fields.get("id")
        && let Some(id) = r.literal_non_empty(id_node, "id")
    {
        if let Err(message) = ids::check_identifier(&id.value) {
            r.diags.error(id.span, message).with_help(
                "step ids start with a letter or '_' and use only letters, digits, '-' and '_'",
            );
        } else if written_ids
            .insert(id.value.to_ascii_lowercase(), ())
            .is_some()
        {
            r.diags
                .error(
                    id.span,
                    format!(
                        "The identifier '{}' may not be used more than once within the same scope.",
                        id.value
                    ),
                )
                .with_help("step ids are compared without regard to case; rename one of the steps");
        }
        generator.reserve(&id.value);
        step.id = id.value;
        step.id_written = true;
    }
    if step.retry.is_some() && !matches!(step.action, StepAction::Run { .. }) {
        r.diags
            .error(
                fields.key_span("retry").unwrap_or(node.span),
                "`retry` applies only to `run` steps",
            )
            .with_help("for an action, use nick-fields/retry, which Sluice runs natively");
    }
    if step.cache.is_some() && !matches!(step.action, StepAction::Run { .. }) {
        r.diags
            .error(
                fields.key_span("cache").unwrap_or(node.span),
                "`cache` applies only to `run` steps",
            )
            .with_help("remove `cache:` from this step");
    }
    Some(step)
}

fn read_action(r: &mut Reader, node: &Node, fields: &Fields) -> Option<StepAction> {
    let present = |keys: &[&'static str]| -> Vec<&'static str> {
        keys.iter().copied().filter(|k| fields.has(k)).collect()
    };
    let run_only = present(&["shell", "working-directory"]);
    let uses_only = present(&["with"]);
    if let Some(wait) = fields.get("wait") {
        let targets = r.literal_list(wait, "wait");
        return Some(StepAction::Wait(targets));
    }
    if fields.has("wait-all") {
        return Some(StepAction::WaitAll);
    }
    if let Some(cancel) = fields.get("cancel") {
        let target = r.literal_non_empty(cancel, "cancel")?;
        return Some(StepAction::Cancel(target));
    }
    let background = fields
        .get("background")
        .and_then(|n| r.literal_bool(n, "background"))
        .unwrap_or(false);
    match (fields.get("run"), fields.get("uses")) {
        (Some(_), Some(_)) => {
            let span = fields.key_span("uses").unwrap_or(node.span);
            r.diags
                .error(span, "A step cannot have both `run` and `uses`")
                .with_help("split it into two steps");
            None
        }
        (Some(run), None) => {
            for key in uses_only {
                unexpected_for(r, fields, key, "run");
            }
            let avail = contexts::STEP.named("steps[*].run");
            Some(StepAction::Run {
                script: r.token(run, "run", Expect::String, &avail),
                shell: fields.get("shell").map(|n| {
                    r.token(
                        n,
                        "shell",
                        Expect::NonEmptyString,
                        &contexts::STEP.named("steps[*].shell"),
                    )
                }),
                working_directory: fields.get("working-directory").map(|n| {
                    r.token(
                        n,
                        "working-directory",
                        Expect::NonEmptyString,
                        &contexts::STEP.named("steps[*].working-directory"),
                    )
                }),
                background,
            })
        }
        (None, Some(uses)) => {
            for key in run_only {
                unexpected_for(r, fields, key, "uses");
            }
            let uses = r.literal_non_empty(uses, "uses")?;
            check_uses_syntax(r, &uses);
            let with = fields.get("with").map(|n| {
                r.token(
                    n,
                    "with",
                    Expect::StringMap,
                    &contexts::STEP.named("steps[*].with"),
                )
            });
            Some(StepAction::Uses {
                uses,
                with: with.map(|t| t.string_map()).unwrap_or_default(),
                background,
            })
        }
        (None, None) => {
            if !run_only.is_empty() {
                r.required(fields, "run");
            } else if !uses_only.is_empty() {
                r.required(fields, "uses");
            } else {
                r.diags
                    .error(
                        node.span,
                        "There's not enough info to determine what you meant. Add one of these properties: run, uses",
                    )
                    .with_help("a step runs a command (`run:`) or an action (`uses:`)");
            }
            None
        }
    }
}

fn unexpected_for(r: &mut Reader, fields: &Fields, key: &str, kind: &str) {
    if let Some(span) = fields.key_span(key) {
        r.diags
            .error(span, format!("Unexpected value '{key}'"))
            .with_help(format!("`{key}` does not apply to a `{kind}` step"));
    }
}

/// `uses:` is `./local/path`, `docker://image`, or `owner/repo[/path]@ref`.
fn check_uses_syntax(r: &mut Reader, uses: &Spanned<String>) {
    let value = uses.value.as_str();
    if value.starts_with("./") || value.starts_with("docker://") || value.contains("${{") {
        return;
    }
    let valid = match value.split_once('@') {
        Some((path, reference)) => {
            let mut parts = path.split('/');
            let owner = parts.next().unwrap_or("");
            let repo = parts.next().unwrap_or("");
            !owner.is_empty() && !repo.is_empty() && !reference.is_empty()
        }
        None => false,
    };
    if !valid {
        r.diags
            .error(
                uses.span,
                format!("Expected format {{owner}}/{{repo}}[/path]@{{ref}}. Actual '{value}'"),
            )
            .with_help(
                "name a version, e.g. actions/checkout@v4, or a local action as ./path/to/action",
            );
    }
}

fn read_reports(r: &mut Reader, node: &Node) -> Option<StepReports> {
    let fields = r.fields(node, "reports", REPORT_KEYS, &[])?;
    if fields.get("junit").is_none()
        && fields.get("coverage").is_none()
        && fields.get("benchmarks").is_none()
    {
        r.diags
            .error(node.span, "reports: names no report")
            .with_help("write `junit: [GLOBS]`, `coverage: [GLOBS]` or `benchmarks: [GLOBS]`");
    }
    let list = |r: &mut Reader, key: &str| {
        fields
            .get(key)
            .map(|n| r.literal_list(n, key))
            .unwrap_or_default()
    };
    let junit = list(r, "junit");
    let coverage = list(r, "coverage");
    let coverage_gate = fields
        .get("coverage-gate")
        .and_then(|n| read_coverage_gate(r, n));
    if coverage_gate.is_some() && coverage.is_empty() {
        r.diags
            .error(node.span, "coverage-gate: without coverage reports")
            .with_help("name the reports the gate judges: `coverage: [coverage.xml]`");
    }
    let benchmarks = list(r, "benchmarks");
    let benchmark_format = fields
        .get("benchmark-format")
        .and_then(|n| r.literal_string(n, "benchmark-format"));
    Some(StepReports {
        span: node.span,
        junit,
        coverage,
        coverage_gate,
        benchmarks,
        benchmark_format,
    })
}

fn read_coverage_gate(r: &mut Reader, node: &Node) -> Option<CoverageGateSpec> {
    let fields = r.fields(node, "coverage-gate", GATE_KEYS, &[])?;
    let percent = |r: &mut Reader, key: &str| {
        let written = fields.get(key).and_then(|n| r.literal_string(n, key))?;
        match written.value.trim().trim_end_matches('%').parse::<f64>() {
            Ok(v) if (0.0..=100.0).contains(&v) => Some(v),
            _ => {
                r.diags
                    .error(
                        written.span,
                        format!(
                            "{key}: '{}' is not a percentage from 0 to 100",
                            written.value
                        ),
                    )
                    .with_help("write e.g. `minimum: 80` or `max-drop: 0.5`");
                None
            }
        }
    };
    let minimum = percent(r, "minimum");
    let max_drop = percent(r, "max-drop");
    let diff_minimum = percent(r, "diff-minimum");
    let base = fields
        .get("base")
        .and_then(|n| r.literal_string(n, "base"))
        .map(|s| s.value);
    Some(CoverageGateSpec {
        minimum,
        max_drop,
        diff_minimum,
        base,
    })
}

fn read_retry(r: &mut Reader, node: &Node) -> Option<StepRetry> {
    let fields = r.fields(node, "retry", RETRY_KEYS, &[])?;
    r.required(&fields, "attempts");
    let attempts = fields
        .get("attempts")
        .and_then(|n| r.literal_string(n, "attempts"))
        .and_then(|written| match written.value.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_ATTEMPTS).contains(&n) => Some(n),
            _ => {
                r.diags
                    .error(
                        written.span,
                        format!("attempts must be a whole number from 1 to {MAX_ATTEMPTS}"),
                    )
                    .with_help("`attempts: 3` runs the step up to three times");
                None
            }
        })
        .unwrap_or(1);
    let delay_seconds = fields
        .get("delay")
        .and_then(|n| r.literal_string(n, "delay"))
        .and_then(|written| match duration_seconds(&written.value) {
            Some(seconds) => Some(seconds),
            None => {
                r.diags
                    .error(written.span, format!("'{}' is not a delay", written.value))
                    .with_help("write seconds (`10`), or `10s`, `2m` (at most an hour)");
                None
            }
        })
        .unwrap_or(0.0);
    let rerun_failed = fields.get("rerun-failed").map(|n| {
        r.token(
            n,
            "rerun-failed",
            Expect::String,
            &contexts::STEP.named("steps[*].run"),
        )
    });
    Some(StepRetry {
        span: node.span,
        attempts,
        delay_seconds,
        rerun_failed,
    })
}

/// `10`, `10s`, `2m`: seconds, at most an hour.
fn duration_seconds(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, scale) = if let Some(minutes) = text.strip_suffix('m') {
        (minutes, 60.0)
    } else if let Some(seconds) = text.strip_suffix('s') {
        (seconds, 1.0)
    } else {
        (text, 1.0)
    };
    let seconds = number.trim().parse::<f64>().ok()? * scale;
    (seconds.is_finite() && (0.0..=3600.0).contains(&seconds)).then_some(seconds)
}

fn read_cache(r: &mut Reader, node: &Node) -> Option<StepCache> {
    let fields = r.fields(node, "cache", CACHE_KEYS, &[])?;
    r.required(&fields, "inputs");
    let mut list = |key: &str| {
        fields
            .get(key)
            .map(|n| r.literal_list(n, key))
            .unwrap_or_default()
    };
    Some(StepCache {
        span: node.span,
        inputs: list("inputs"),
        outputs: list("outputs"),
        env: list("env"),
    })
}

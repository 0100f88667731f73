//! Which contexts and functions each workflow key may use in expressions.
//!
//! GitHub evaluates keys at different moments of a run, so each key sees
//! only the contexts that exist by then: a job's `if` runs before the job
//! has a matrix or steps, `runs-on` before any step, a step's `env` while the
//! job runs. These sets follow GitHub's workflow schema and its "Context
//! availability" table; an expression that names anything else is an error.

/// A function that only some keys may call, with its accepted arity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFunction {
    pub name: &'static str,
    pub min_args: usize,
    pub max_args: usize,
}

/// The contexts and host functions available to one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Availability {
    /// What the key is called in messages, e.g. "jobs.<job_id>.if".
    pub key: &'static str,
    pub contexts: &'static [&'static str],
    pub functions: &'static [HostFunction],
}

const fn f(name: &'static str, min_args: usize, max_args: usize) -> HostFunction {
    HostFunction {
        name,
        min_args,
        max_args,
    }
}

const HASH_FILES: HostFunction = f("hashFiles", 1, 255);
const STEP_STATUS: &[HostFunction] = &[
    f("always", 0, 0),
    f("failure", 0, 0),
    f("cancelled", 0, 0),
    f("success", 0, 0),
    HASH_FILES,
];
const JOB_STATUS: &[HostFunction] = &[
    f("always", 0, 0),
    f("failure", 0, usize::MAX),
    f("cancelled", 0, 0),
    f("success", 0, usize::MAX),
];

const WORKFLOW_LEVEL: &[&str] = &["github", "inputs", "vars"];
const NEEDS_LEVEL: &[&str] = &["github", "inputs", "vars", "needs"];
const MATRIX_LEVEL: &[&str] = &["github", "inputs", "vars", "needs", "strategy", "matrix"];
const STEP_LEVEL: &[&str] = &[
    "github", "inputs", "vars", "needs", "strategy", "matrix", "secrets", "steps", "job", "runner",
    "env",
];
const STEP_LEVEL_NO_SECRETS: &[&str] = &[
    "github", "inputs", "vars", "needs", "strategy", "matrix", "steps", "job", "runner", "env",
];

pub const RUN_NAME: Availability = Availability {
    key: "run-name",
    contexts: WORKFLOW_LEVEL,
    functions: &[],
};
pub const WORKFLOW_ENV: Availability = Availability {
    key: "env",
    contexts: &["github", "inputs", "vars", "secrets"],
    functions: &[],
};
pub const WORKFLOW_CONCURRENCY: Availability = Availability {
    key: "concurrency",
    contexts: WORKFLOW_LEVEL,
    functions: &[],
};
pub const CALL_INPUT_DEFAULT: Availability = Availability {
    key: "on.workflow_call.inputs.<input_id>.default",
    contexts: WORKFLOW_LEVEL,
    functions: &[],
};
pub const CALL_OUTPUT_VALUE: Availability = Availability {
    key: "on.workflow_call.outputs.<output_id>.value",
    contexts: &["github", "inputs", "vars", "jobs"],
    functions: &[],
};
pub const JOB_IF: Availability = Availability {
    key: "jobs.<job_id>.if",
    contexts: NEEDS_LEVEL,
    functions: JOB_STATUS,
};
pub const JOB_STRATEGY: Availability = Availability {
    key: "jobs.<job_id>.strategy",
    contexts: NEEDS_LEVEL,
    functions: &[],
};
/// `name`, `runs-on`, `timeout-minutes`, `continue-on-error`, `environment`,
/// `concurrency`, `container` and `services` of a job.
pub const JOB_MATRIX: Availability = Availability {
    key: "this job key",
    contexts: MATRIX_LEVEL,
    functions: &[],
};
pub const JOB_ENV: Availability = Availability {
    key: "jobs.<job_id>.env",
    contexts: &[
        "github", "inputs", "vars", "needs", "strategy", "matrix", "secrets",
    ],
    functions: &[],
};
pub const JOB_DEFAULTS_RUN: Availability = Availability {
    key: "jobs.<job_id>.defaults.run",
    contexts: &[
        "github", "inputs", "vars", "strategy", "matrix", "needs", "env",
    ],
    functions: &[],
};
pub const JOB_OUTPUTS: Availability = Availability {
    key: "jobs.<job_id>.outputs",
    contexts: STEP_LEVEL,
    functions: &[],
};
pub const JOB_WITH: Availability = Availability {
    key: "jobs.<job_id>.with",
    contexts: MATRIX_LEVEL,
    functions: &[],
};
pub const JOB_SECRETS: Availability = Availability {
    key: "jobs.<job_id>.secrets",
    contexts: &[
        "github", "inputs", "vars", "needs", "secrets", "strategy", "matrix",
    ],
    functions: &[],
};
pub const ENVIRONMENT_URL: Availability = Availability {
    key: "jobs.<job_id>.environment.url",
    contexts: STEP_LEVEL_NO_SECRETS,
    functions: &[],
};
pub const CONTAINER_ENV: Availability = Availability {
    key: "container and service env",
    contexts: STEP_LEVEL,
    functions: &[],
};
pub const CONTAINER_CREDENTIALS: Availability = Availability {
    key: "credentials",
    contexts: &["github", "inputs", "vars", "secrets", "env"],
    functions: &[],
};
pub const STEP_IF: Availability = Availability {
    key: "jobs.<job_id>.steps[*].if",
    contexts: STEP_LEVEL_NO_SECRETS,
    functions: STEP_STATUS,
};
/// `run`, `name`, `env`, `with`, `working-directory`, `timeout-minutes` and
/// `continue-on-error` of a step.
pub const STEP: Availability = Availability {
    key: "this step key",
    contexts: STEP_LEVEL,
    functions: &[HASH_FILES],
};

impl Availability {
    /// The same availability under the name of the key being read.
    pub const fn named(self, key: &'static str) -> Self {
        Availability {
            key,
            contexts: self.contexts,
            functions: self.functions,
        }
    }

    pub fn allows_context(&self, name: &str) -> bool {
        self.contexts.iter().any(|c| c.eq_ignore_ascii_case(name))
    }

    /// A one-line list of what is available, for help texts.
    pub fn describe(&self) -> String {
        let mut items: Vec<String> = self.contexts.iter().map(|c| c.to_string()).collect();
        items.extend(self.functions.iter().map(|f| format!("{}()", f.name)));
        items.join(", ")
    }
}

/// The keys at which each context first becomes available, to explain why
/// a context cannot be used where it was written.
pub fn where_available(context: &str) -> Option<&'static str> {
    Some(match context.to_ascii_lowercase().as_str() {
        "secrets" => "in env, with, run and other step keys, but not in if or runs-on",
        "matrix" | "strategy" => {
            "once the job's matrix is expanded: in job keys such as runs-on, env and name, and in steps, but not in the job's if"
        }
        "steps" | "job" | "runner" => "only inside steps (and in job outputs)",
        "env" => "inside steps and in jobs.<job_id>.defaults.run",
        "needs" => "in job-level keys and steps",
        "jobs" => "only in on.workflow_call.outputs",
        _ => return None,
    })
}

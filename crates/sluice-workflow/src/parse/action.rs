//! Reading an action's metadata file (`action.yml`): its inputs, outputs
//! and how it runs. Composite steps are read like workflow steps, with
//! GitHub's extra rule that a `run:` step names its `shell:`.

use std::sync::Arc;

use indexmap::IndexMap;

use super::{ParseOptions, step};
use crate::contexts;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Action, ActionInput, ActionOutput, ActionRuns, Dialect, StepAction};
use crate::reader::{Expect, Reader};
use crate::source::{SourceFile, Span};
use crate::yaml;

const ROOT_KEYS: &[&str] = &[
    "name",
    "author",
    "description",
    "inputs",
    "outputs",
    "runs",
    "branding",
];
const INPUT_KEYS: &[&str] = &["description", "required", "default", "deprecationMessage"];
const OUTPUT_KEYS: &[&str] = &["description", "value"];
const RUNS_KEYS: &[&str] = &[
    "using",
    "main",
    "pre",
    "pre-if",
    "post",
    "post-if",
    "steps",
    "image",
    "entrypoint",
    "pre-entrypoint",
    "post-entrypoint",
    "args",
    "env",
];
const NODE_VERSIONS: &[&str] = &["node12", "node16", "node20", "node24"];

/// The outcome of reading an action's metadata.
#[derive(Debug)]
pub struct ParsedAction {
    pub action: Option<Action>,
    pub diagnostics: Vec<Diagnostic>,
}

impl ParsedAction {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads an `action.yml`.
pub fn parse_action(source: Arc<SourceFile>, options: &ParseOptions) -> ParsedAction {
    let mut diags = Diagnostics::new(source.clone(), options.strict);
    let action = yaml::load(&source, &options.limits, &mut diags).and_then(|root| {
        let mut reader = Reader {
            diags: &mut diags,
            // Actions are GitHub's format wherever they live.
            dialect: Dialect::GitHub,
        };
        read_action(&mut reader, &source, &root)
    });
    ParsedAction {
        action,
        diagnostics: diags.into_sorted(),
    }
}

fn read_action(r: &mut Reader, source: &Arc<SourceFile>, root: &yaml::Node) -> Option<Action> {
    if root.scalar_text().is_some() {
        r.diags
            .error(root.span, "An action's metadata must be a mapping")
            .with_help("start the file with `name:` and `runs:`");
        return None;
    }
    let fields = r.fields(root, "action", ROOT_KEYS, &[])?;
    let file_start = Span {
        offset: 0,
        len: 0,
        line: 1,
        col: 1,
    };
    if !fields.has("runs") {
        r.diags
            .error(file_start, "Required property is missing: runs")
            .with_help(
                "add `runs:` with `using: composite` and `steps:`, or `using: node20` and `main:`",
            );
    }
    let name = fields
        .get("name")
        .and_then(|n| r.literal_string(n, "name"))
        .map_or_else(|| source.name.clone(), |s| s.value);
    let mut inputs = IndexMap::new();
    if let Some(node) = fields.get("inputs")
        && let Some(entries) = r.mapping(node, "inputs")
    {
        for (key, value) in entries {
            let Some(id) = r.key(key) else { continue };
            let Some(input) = r.fields(value, &format!("inputs.{id}"), INPUT_KEYS, &[]) else {
                continue;
            };
            inputs.insert(
                id.to_string(),
                ActionInput {
                    default: input.get("default").map(|n| {
                        r.token(
                            n,
                            "default",
                            Expect::String,
                            &contexts::STEP.named("inputs.<id>.default"),
                        )
                    }),
                    required: input
                        .get("required")
                        .and_then(|n| r.literal_bool(n, "required"))
                        .unwrap_or(false),
                    deprecation_message: input
                        .get("deprecationMessage")
                        .and_then(|n| r.literal_string(n, "deprecationMessage"))
                        .map(|s| s.value),
                },
            );
        }
    }
    let runs_node = fields.get("runs")?;
    let runs_fields = r.fields(runs_node, "runs", RUNS_KEYS, &[])?;
    let using = runs_fields
        .get("using")
        .and_then(|n| r.literal_string(n, "using"));
    let Some(using) = using else {
        r.diags
            .error(runs_fields.span, "Required property is missing: using")
            .with_help("add `using: composite`, `using: node20` or `using: docker`");
        return None;
    };
    let runs = match using.value.as_str() {
        "composite" => {
            let Some(steps_node) = runs_fields.get("steps") else {
                r.diags
                    .error(runs_fields.span, "Required property is missing: steps")
                    .with_help("a composite action lists its `steps:`");
                return None;
            };
            let steps = step::read_steps(r, steps_node);
            for step in &steps {
                if let StepAction::Run { shell: None, .. } = &step.action {
                    r.diags
                        .error(step.span, "Required property is missing: shell")
                        .with_help("in a composite action every `run:` step names its shell, e.g. `shell: bash`");
                }
            }
            ActionRuns::Composite { steps }
        }
        version if NODE_VERSIONS.contains(&version) => {
            let path = |r: &mut Reader, key: &str| {
                runs_fields.get(key).and_then(|n| r.literal_string(n, key))
            };
            let Some(main) = path(r, "main") else {
                r.diags
                    .error(runs_fields.span, "Required property is missing: main")
                    .with_help(
                        "a JavaScript action names its entry point, e.g. `main: dist/index.js`",
                    );
                return None;
            };
            ActionRuns::Node {
                using: version.to_string(),
                main,
                pre: path(r, "pre"),
                pre_if: path(r, "pre-if").map(|s| s.value),
                post: path(r, "post"),
                post_if: path(r, "post-if").map(|s| s.value),
            }
        }
        "docker" => {
            let text = |r: &mut Reader, key: &str| {
                runs_fields
                    .get(key)
                    .and_then(|n| r.literal_string(n, key))
                    .map(|s| s.value)
            };
            // `args` and `env` may use `inputs`; they are kept as tokens,
            // evaluated when the action runs.
            let args = runs_fields
                .get("args")
                .map(|n| r.unchecked_token(n))
                .into_iter()
                .flat_map(|t| match t.kind {
                    crate::token::TokenKind::Sequence(items) => items,
                    _ => vec![t],
                })
                .collect();
            ActionRuns::Docker {
                image: text(r, "image").unwrap_or_default(),
                args,
                env: runs_fields.get("env").map(|n| r.unchecked_token(n)),
                entrypoint: text(r, "entrypoint"),
                pre_entrypoint: text(r, "pre-entrypoint"),
                pre_if: text(r, "pre-if"),
                post_entrypoint: text(r, "post-entrypoint"),
                post_if: text(r, "post-if"),
            }
        }
        other => {
            r.diags
                .error(using.span, format!("Unknown `using: {other}`"))
                .with_help("use `composite`, `node20` (or node16, node24) or `docker`");
            return None;
        }
    };
    let mut outputs = IndexMap::new();
    if let Some(node) = fields.get("outputs")
        && let Some(entries) = r.mapping(node, "outputs")
    {
        for (key, value) in entries {
            let Some(id) = r.key(key) else { continue };
            let Some(output) = r.fields(value, &format!("outputs.{id}"), OUTPUT_KEYS, &[]) else {
                continue;
            };
            let value = output.get("value").map(|n| {
                r.token(
                    n,
                    "value",
                    Expect::String,
                    &contexts::STEP.named("outputs.<id>.value"),
                )
            });
            if value.is_none() && matches!(runs, ActionRuns::Composite { .. }) {
                r.diags
                    .error(output.span, format!("Required property is missing: value (output `{id}`)"))
                    .with_help("a composite action maps each output from a step, e.g. `value: ${{ steps.build.outputs.path }}`");
            }
            outputs.insert(id.to_string(), ActionOutput { value });
        }
    }
    Some(Action {
        source: source.clone(),
        name,
        inputs,
        outputs,
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ParsedAction {
        parse_action(
            SourceFile::new("act/action.yml", text),
            &ParseOptions::default(),
        )
    }

    #[test]
    fn composite_and_node_actions() {
        let parsed = parse(
            "name: greet\ninputs:\n  who:\n    required: true\n    default: world\noutputs:\n  greeting:\n    value: ${{ steps.say.outputs.text }}\nruns:\n  using: composite\n  steps:\n    - id: say\n      shell: bash\n      run: echo hi ${{ inputs.who }}\n",
        );
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let action = parsed.action.unwrap();
        assert!(action.inputs["who"].required);
        assert!(matches!(action.runs, ActionRuns::Composite { ref steps } if steps.len() == 1));

        let parsed = parse(
            "name: js\nruns:\n  using: node20\n  main: index.js\n  post: post.js\n  post-if: failure()\n",
        );
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let ActionRuns::Node { post_if, post, .. } = parsed.action.unwrap().runs else {
            panic!("a node action")
        };
        assert_eq!(post.unwrap().value, "post.js");
        assert_eq!(post_if.as_deref(), Some("failure()"));
    }

    #[test]
    fn mistakes_are_reported_with_their_line() {
        let parsed =
            parse("name: x\nruns:\n  using: composite\n  steps:\n    - run: echo no shell\n");
        let error = parsed
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .expect("an error");
        assert!(error.message.contains("shell"), "{}", error.message);
        assert_eq!(error.span.line, 5);
        let parsed = parse("name: x\nruns:\n  using: node8\n  main: a.js\n");
        assert!(
            parsed
                .diagnostics
                .iter()
                .any(|d| d.message.contains("node8"))
        );
        assert!(
            parse("runs: {using: node20}").has_errors(),
            "main is required"
        );
        assert!(parse("- not a mapping").has_errors());
    }
}

//! `on:` — a string, a sequence of event names, or a mapping of events.

use indexmap::IndexMap;

use crate::contexts;
use crate::events::{self, EventSpec};
use crate::model::{Cron, InputDef, InputType, OutputDef, RefFilters, SecretDef, Spanned, Trigger};
use crate::reader::{Expect, Reader};
use crate::source::Span;
use crate::suggest;
use crate::token::TokenKind;
use crate::yaml::{Node, NodeKind};

pub(crate) fn read_on(r: &mut Reader, node: &Node) -> Vec<Trigger> {
    match &node.kind {
        NodeKind::Scalar(_) => r
            .literal_non_empty(node, "on")
            .and_then(|name| named_event(r, name))
            .into_iter()
            .collect(),
        NodeKind::Sequence(items) => {
            let names: Vec<_> = items
                .iter()
                .filter_map(|item| r.literal_non_empty(item, "on"))
                .collect();
            names
                .into_iter()
                .filter_map(|name| named_event(r, name))
                .collect()
        }
        NodeKind::Mapping(entries) => {
            let mut triggers = Vec::new();
            for (key, value) in entries {
                let Some(name) = r.key(key) else { continue };
                if let Some(trigger) = configured_event(r, name, key.span, value) {
                    triggers.push(trigger);
                }
            }
            triggers
        }
    }
}

fn spec_or_warn(r: &mut Reader, name: &str, span: Span) -> Option<&'static EventSpec> {
    let spec = events::find(name);
    if spec.is_none() {
        let help = match suggest::nearest(name, events::EVENTS.iter().map(|e| e.name)) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "see GitHub's list of events that trigger workflows".to_string(),
        };
        r.diags
            .github_rejects(span, format!("Unexpected value '{name}'"))
            .with_help(format!("`{name}` is not an event GitHub knows; {help}"));
    }
    spec
}

fn named_event(r: &mut Reader, name: Spanned<String>) -> Option<Trigger> {
    spec_or_warn(r, &name.value, name.span)?;
    Some(Trigger {
        event: name.value,
        span: name.span,
        ..Trigger::default()
    })
}

fn configured_event(r: &mut Reader, name: &str, span: Span, value: &Node) -> Option<Trigger> {
    let spec = spec_or_warn(r, name, span);
    let mut trigger = Trigger {
        event: name.to_string(),
        span,
        ..Trigger::default()
    };
    let is_null = value
        .scalar_text()
        .is_some_and(|t| t.is_empty() || t == "~" || t == "null");
    if is_null {
        return Some(trigger);
    }
    let Some(spec) = spec else {
        return Some(trigger);
    };
    if spec.name == "schedule" {
        trigger.schedule = read_schedule(r, value);
        return Some(trigger);
    }
    let key = format!("on.{name}");
    let fields = r.fields(value, &key, spec.keys, &[])?;
    if let Some(types) = fields.get("types") {
        trigger.types = read_types(r, spec, types);
    }
    trigger.filters = read_filters(r, &fields);
    if let Some(workflows) = fields.get("workflows") {
        trigger.workflows = r
            .literal_list(workflows, "workflows")
            .into_iter()
            .map(|s| s.value)
            .collect();
    }
    for list_key in ["names", "versions"] {
        if let Some(list) = fields.get(list_key) {
            r.literal_list(list, list_key);
        }
    }
    let is_call = spec.name == "workflow_call";
    if let Some(inputs) = fields.get("inputs") {
        trigger.inputs = read_inputs(r, inputs, is_call);
    }
    if let Some(secrets) = fields.get("secrets") {
        trigger.secrets = read_secrets(r, secrets);
    }
    if let Some(outputs) = fields.get("outputs") {
        trigger.outputs = read_outputs(r, outputs);
    }
    Some(trigger)
}

fn read_types(r: &mut Reader, spec: &EventSpec, node: &Node) -> Vec<String> {
    let types = r.literal_list(node, "types");
    if !spec.activity_types.is_empty() {
        for t in &types {
            if !spec.activity_types.contains(&t.value.as_str()) {
                r.diags
                    .error(t.span, format!("Unexpected value '{}'", t.value))
                    .with_help(format!(
                        "`{}` activity types are: {}",
                        spec.name,
                        spec.activity_types.join(", ")
                    ));
            }
        }
    }
    types.into_iter().map(|t| t.value).collect()
}

fn read_filters(r: &mut Reader, fields: &crate::reader::Fields) -> RefFilters {
    let mut list = |key: &str| fields.get(key).map(|n| r.literal_list(n, key));
    let filters = RefFilters {
        branches: list("branches"),
        branches_ignore: list("branches-ignore"),
        tags: list("tags"),
        tags_ignore: list("tags-ignore"),
        paths: list("paths"),
        paths_ignore: list("paths-ignore"),
    };
    for (a, b) in [
        ("branches", "branches-ignore"),
        ("tags", "tags-ignore"),
        ("paths", "paths-ignore"),
    ] {
        if let (true, Some(span)) = (fields.has(a), fields.key_span(b)) {
            // GitHub's parser accepts both; its documentation forbids it and
            // Sluice refuses to guess which one should win when planning.
            r.diags
                .warning(span, format!("`{a}` and `{b}` cannot both be used for one event"))
                .with_help(format!(
                    "use only `{a}`, with `!`-prefixed patterns for what to leave out; runs of this event will fail to plan"
                ));
        }
    }
    filters
}

fn read_schedule(r: &mut Reader, node: &Node) -> Vec<Cron> {
    let Some(items) = r.sequence(node, "on.schedule") else {
        return Vec::new();
    };
    let mut crons = Vec::new();
    for item in items {
        let Some(fields) = r.fields(item, "on.schedule", &["cron", "timezone"], &[]) else {
            continue;
        };
        r.required(&fields, "cron");
        let timezone = fields
            .get("timezone")
            .and_then(|n| r.literal_non_empty(n, "timezone"))
            .map(|s| s.value);
        if let Some(cron) = fields
            .get("cron")
            .and_then(|n| r.literal_non_empty(n, "cron"))
        {
            if let Err(problem) = crate::cron::CronSchedule::parse(&cron.value) {
                r.diags
                    .error(cron.span, format!("Invalid cron expression '{}': {problem}", cron.value))
                    .with_help("use five fields: minute hour day-of-month month day-of-week, e.g. '30 5 * * 1-5'");
            }
            crons.push(Cron { cron, timezone });
        }
    }
    crons
}

fn read_inputs(r: &mut Reader, node: &Node, is_call: bool) -> IndexMap<String, InputDef> {
    let mut inputs = IndexMap::new();
    let Some(entries) = r.mapping(node, "inputs") else {
        return inputs;
    };
    let known: &[&str] = if is_call {
        &["description", "type", "required", "default"]
    } else {
        &["description", "type", "required", "default", "options"]
    };
    for (key, value) in entries {
        let Some(name) = r.key(key) else { continue };
        let Some(fields) = r.fields(value, &format!("inputs.{name}"), known, &[]) else {
            continue;
        };
        let mut input = InputDef {
            name: name.to_string(),
            span: key.span,
            description: None,
            input_type: InputType::String,
            type_written: false,
            required: false,
            default: None,
            options: Vec::new(),
        };
        if let Some(n) = fields.get("description") {
            input.description = r.literal_string(n, "description").map(|s| s.value);
        }
        if is_call {
            r.required(&fields, "type");
        }
        if let Some(n) = fields.get("type")
            && let Some(t) = r.literal_string(n, "type")
        {
            let allowed: &[InputType] = if is_call {
                &[InputType::String, InputType::Boolean, InputType::Number]
            } else {
                &[
                    InputType::String,
                    InputType::Boolean,
                    InputType::Number,
                    InputType::Choice,
                    InputType::Environment,
                ]
            };
            match InputType::parse(&t.value).filter(|it| allowed.contains(it)) {
                Some(it) => {
                    input.input_type = it;
                    input.type_written = true;
                }
                None => {
                    let names: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
                    r.diags
                        .error(t.span, format!("Unexpected value '{}'", t.value))
                        .with_help(format!("an input's type is one of: {}", names.join(", ")));
                }
            }
        }
        if let Some(n) = fields.get("required") {
            input.required = r.literal_bool(n, "required").unwrap_or(false);
        }
        if let Some(n) = fields.get("options") {
            input.options = r
                .literal_list(n, "options")
                .into_iter()
                .map(|s| s.value)
                .collect();
        }
        if let Some(n) = fields.get("default") {
            let token = if is_call {
                r.token(n, "default", Expect::Scalar, &contexts::CALL_INPUT_DEFAULT)
            } else {
                r.literal_token(n)
            };
            check_default(r, &input, &token);
            input.default = Some(token);
        }
        if input.input_type == InputType::Choice && input.options.is_empty() {
            r.diags
                .error(
                    key.span,
                    format!("Input '{name}' is a choice but has no options"),
                )
                .with_help("add `options:` with the values to choose from");
        }
        inputs.insert(name.to_string(), input);
    }
    inputs
}

fn check_default(r: &mut Reader, input: &InputDef, default: &crate::token::Token) {
    if default.has_expression() {
        return;
    }
    let fits = match (input.input_type, &default.kind) {
        (InputType::Boolean, TokenKind::Boolean(_)) => true,
        (InputType::Boolean, TokenKind::String(s)) => s == "true" || s == "false",
        (InputType::Boolean, _) => false,
        (InputType::Number, TokenKind::Number(_)) => true,
        (InputType::Number, TokenKind::String(s)) => s.trim().parse::<f64>().is_ok(),
        (InputType::Number, _) => false,
        (InputType::Choice, TokenKind::String(s)) => input.options.contains(s),
        _ => true,
    };
    if !fits {
        r.diags
            .error(
                default.span,
                format!(
                    "The default of input '{}' does not fit its type {}",
                    input.name,
                    input.input_type.as_str()
                ),
            )
            .with_help(match input.input_type {
                InputType::Choice => {
                    format!("use one of the options: {}", input.options.join(", "))
                }
                other => format!("give a {} default", other.as_str()),
            });
    }
}

fn read_secrets(r: &mut Reader, node: &Node) -> IndexMap<String, SecretDef> {
    let mut secrets = IndexMap::new();
    let Some(entries) = r.mapping(node, "secrets") else {
        return secrets;
    };
    for (key, value) in entries {
        let Some(name) = r.key(key) else { continue };
        let mut secret = SecretDef {
            name: name.to_string(),
            span: key.span,
            description: None,
            required: false,
        };
        let is_null = value
            .scalar_text()
            .is_some_and(|t| t.is_empty() || t == "~" || t == "null");
        if !is_null
            && let Some(fields) = r.fields(
                value,
                &format!("secrets.{name}"),
                &["description", "required"],
                &[],
            )
        {
            if let Some(n) = fields.get("description") {
                secret.description = r.literal_string(n, "description").map(|s| s.value);
            }
            if let Some(n) = fields.get("required") {
                secret.required = r.literal_bool(n, "required").unwrap_or(false);
            }
        }
        secrets.insert(name.to_string(), secret);
    }
    secrets
}

fn read_outputs(r: &mut Reader, node: &Node) -> IndexMap<String, OutputDef> {
    let mut outputs = IndexMap::new();
    let Some(entries) = r.mapping(node, "outputs") else {
        return outputs;
    };
    for (key, value) in entries {
        let Some(name) = r.key(key) else { continue };
        let Some(fields) = r.fields(
            value,
            &format!("outputs.{name}"),
            &["description", "value"],
            &[],
        ) else {
            continue;
        };
        r.required(&fields, "value");
        let description = fields
            .get("description")
            .and_then(|n| r.literal_string(n, "description"))
            .map(|s| s.value);
        if let Some(v) = fields.get("value") {
            let value = r.token(v, "value", Expect::String, &contexts::CALL_OUTPUT_VALUE);
            outputs.insert(
                name.to_string(),
                OutputDef {
                    name: name.to_string(),
                    span: key.span,
                    description,
                    value,
                },
            );
        }
    }
    outputs
}

//! `jobs.<job_id>.container` and `jobs.<job_id>.services`.

use indexmap::IndexMap;

use crate::contexts;
use crate::model::Service;
use crate::reader::{Expect, Reader};
use crate::token::Token;
use crate::yaml::{Node, NodeKind};

const CONTAINER_KEYS: &[&str] = &["image", "options", "env", "ports", "volumes", "credentials"];
const SERVICE_KEYS: &[&str] = &[
    "image",
    "options",
    "env",
    "ports",
    "volumes",
    "credentials",
    "entrypoint",
    "command",
];
/// Sluice's native services: a command and a health check instead of an image.
const SERVICE_EXTENSIONS: &[&str] = &["run", "healthcheck"];
const HEALTHCHECK_KEYS: &[&str] = &["cmd", "interval", "timeout", "retries", "start-period"];

pub(crate) fn read_container(r: &mut Reader, node: &Node) -> Option<Token> {
    let avail = contexts::JOB_MATRIX.named("jobs.<job_id>.container");
    if let NodeKind::Scalar(_) = node.kind {
        let token = r.token(node, "container", Expect::String, &avail);
        if token.as_str().is_some_and(str::is_empty) {
            empty_image(r, node);
        }
        return Some(token);
    }
    let fields = r.fields(node, "container", CONTAINER_KEYS, &[])?;
    if fields
        .get("image")
        .is_none_or(|n| n.scalar_text() == Some(""))
    {
        empty_image(r, node);
    }
    if let Some(image) = fields.get("image") {
        r.token(image, "image", Expect::String, &avail);
    }
    if let Some(options) = fields.get("options") {
        r.token(options, "options", Expect::String, &avail);
    }
    check_container_fields(r, &fields);
    // Each part was checked with its own contexts above.
    Some(r.unchecked_token(node))
}

fn empty_image(r: &mut Reader, node: &Node) {
    r.diags
        .error(node.span, "Container image cannot be empty")
        .with_help("give `image:` the container image to use");
}

fn check_container_fields(r: &mut Reader, fields: &crate::reader::Fields) {
    if let Some(env) = fields.get("env") {
        r.token(env, "env", Expect::StringMap, &contexts::CONTAINER_ENV);
    }
    if let Some(credentials) = fields.get("credentials")
        && r.fields(credentials, "credentials", &["username", "password"], &[])
            .is_some()
    {
        r.token(
            credentials,
            "credentials",
            Expect::StringMap,
            &contexts::CONTAINER_CREDENTIALS,
        );
    }
    for key in ["ports", "volumes"] {
        if let Some(list) = fields.get(key) {
            r.sequence(list, key);
        }
    }
}

pub(crate) fn read_services(r: &mut Reader, node: &Node) -> IndexMap<String, Service> {
    let mut services = IndexMap::new();
    let Some(entries) = r.mapping(node, "services") else {
        return services;
    };
    let avail = contexts::JOB_MATRIX.named("jobs.<job_id>.services");
    for (key, value) in entries {
        let Some(name) = r.key(key) else { continue };
        let mut service = Service {
            name: name.to_string(),
            span: key.span,
            image: None,
            run: None,
            env: None,
            ports: Vec::new(),
            options: None,
            volumes: Vec::new(),
            credentials: None,
            healthcheck: None,
            command: None,
            entrypoint: None,
        };
        if let NodeKind::Scalar(_) = value.kind {
            let image = r.token(value, "image", Expect::String, &avail);
            if image.as_str().is_some_and(str::is_empty) {
                empty_image(r, value);
            }
            service.image = Some(image);
            services.insert(name.to_string(), service);
            continue;
        }
        let Some(fields) = r.fields(
            value,
            &format!("services.{name}"),
            SERVICE_KEYS,
            SERVICE_EXTENSIONS,
        ) else {
            continue;
        };
        let has_image = fields
            .get("image")
            .is_some_and(|n| n.scalar_text() != Some(""));
        let has_run = fields.has("run");
        match (has_image, has_run) {
            (false, false) => {
                r.diags
                    .error(value.span, "Container image cannot be empty")
                    .with_help("give the service an `image:`, or a native command with `run:` and a `healthcheck:`");
            }
            (true, true) => {
                let span = fields.key_span("run").unwrap_or(value.span);
                r.diags
                    .error(span, "A service has either `image` or `run`, not both")
                    .with_help("`run:` starts a native process; remove `image:` to use it");
            }
            _ => {}
        }
        check_container_fields(r, &fields);
        let mut token =
            |key: &str, expect| fields.get(key).map(|n| r.token(n, key, expect, &avail));
        service.image = token("image", Expect::NonEmptyString);
        service.run = token("run", Expect::NonEmptyString);
        service.options = token("options", Expect::String);
        service.command = token("command", Expect::String);
        service.entrypoint = token("entrypoint", Expect::String);
        let list = |token: Option<Token>| match token {
            Some(Token {
                kind: crate::token::TokenKind::Sequence(items),
                ..
            }) => items,
            _ => Vec::new(),
        };
        service.ports = list(token("ports", Expect::Any));
        service.volumes = list(token("volumes", Expect::Any));
        service.env = fields
            .get("env")
            .map(|n| r.token(n, "env", Expect::StringMap, &contexts::CONTAINER_ENV));
        service.credentials = fields.get("credentials").map(|n| {
            r.token(
                n,
                "credentials",
                Expect::StringMap,
                &contexts::CONTAINER_CREDENTIALS,
            )
        });
        if let Some(check) = fields.get("healthcheck") {
            service.healthcheck = read_healthcheck(r, check);
        }
        services.insert(name.to_string(), service);
    }
    services
}

fn read_healthcheck(r: &mut Reader, node: &Node) -> Option<Token> {
    let avail = contexts::JOB_MATRIX.named("services.<name>.healthcheck");
    if let NodeKind::Scalar(_) = node.kind {
        return Some(r.token(node, "healthcheck", Expect::NonEmptyString, &avail));
    }
    let fields = r.fields(node, "healthcheck", HEALTHCHECK_KEYS, &[])?;
    r.required(&fields, "cmd");
    for key in ["interval", "timeout", "start-period"] {
        if let Some(value) = fields.get(key).and_then(|n| n.scalar_text())
            && parse_duration(value).is_none()
            && !value.contains("${{")
        {
            let span = fields.get(key).map_or(node.span, |n| n.span);
            r.diags
                .error(span, format!("'{value}' is not a duration"))
                .with_help("write a duration such as 500ms, 2s, 1m or 1m30s");
        }
    }
    if let Some(retries) = fields.get("retries") {
        r.literal_number(retries, "retries");
    }
    Some(r.token(node, "healthcheck", Expect::Any, &avail))
}

/// Parses durations as Docker writes them: `1m30s`, `500ms`, `2s`, `1h`;
/// a bare number is seconds.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        // `try_`: a number too large for a Duration is no duration.
        return std::time::Duration::try_from_secs_f64(seconds).ok();
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * factor;
        rest = &rest[unit_len..];
    }
    std::time::Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("1e300"), None, "too large, not a panic");
        assert_eq!(parse_duration("99999999999999999999h"), None);
    }
}

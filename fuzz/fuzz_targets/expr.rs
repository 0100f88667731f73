//! Feeds arbitrary text to the expression parser, the evaluator and the
//! template splitter. Nothing may panic, hang or exhaust memory; errors are
//! fine.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sluice_expr::{Allowed, MapHost, Template, Value, evaluate, parse, split_template};

fn host() -> &'static MapHost {
    static HOST: OnceLock<MapHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let contexts = r#"{
            "github": {"ref": "refs/heads/main", "event_name": "push",
                       "event": {"commits": [{"message": "fix: a", "id": 1}, {"message": "b", "id": 2.5}],
                                 "labels": [{"name": "bug"}, {"name": "CI"}], "draft": false}},
            "matrix": {"os": ["ubuntu", "macos"], "n": 3, "nested": [[1, [2]], {"k": null}]},
            "env": {"A": "1", "EMPTY": "", "HEX": " 0x1F "},
            "steps": {}, "inputs": {"flag": true}, "n": 12345.678, "s": "Ünïcode ς"
        }"#;
        let json: serde_json::Value = serde_json::from_str(contexts).expect("valid JSON");
        MapHost::from_json(&json)
            .expect("contexts are an object")
            .with_function("hashFiles", |args| Ok(Value::String(format!("hash-of-{}-patterns", args.len()))))
            .with_function("success", |_| Ok(Value::Boolean(true)))
            .with_function("failure", |_| Ok(Value::Boolean(false)))
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let char_count = text.chars().count();
    let allowed = Allowed::any();

    match parse(text, &allowed) {
        Ok(expr) => {
            for named_value in expr.named_values() {
                assert!(named_value.position >= 1 && named_value.position <= char_count);
            }
            for call in expr.function_calls() {
                assert!(call.position >= 1 && call.position <= char_count);
            }
            if let Ok(value) = evaluate(&expr, host()) {
                let _ = value.to_json_string();
                let _ = value.to_display_string();
            }
        }
        Err(error) => {
            if let Some(position) = error.position {
                assert!(position >= 1 && position <= char_count + 1, "{error:?}");
            }
        }
    }

    if split_template(text).is_ok() {
        if let Ok(template) = Template::parse(text, &allowed) {
            let _ = template.evaluate(host());
        }
    }
});

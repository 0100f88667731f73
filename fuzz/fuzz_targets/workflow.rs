//! Arbitrary text as a workflow file: loading, validation and planning must
//! never panic, hang or use unbounded memory.
#![no_main]

use indexmap::IndexMap;
use libfuzzer_sys::fuzz_target;
use sluice_plan::{Event, PlanRequest, Repository, build_plan};
use sluice_workflow::{ParseOptions, parse_str};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for (name, strict) in [(".github/workflows/fuzz.yml", true), (".sluice/workflows/fuzz.yml", false)] {
        let options = ParseOptions { strict, ..ParseOptions::default() };
        let parsed = parse_str(name, text, &options);
        for d in &parsed.diagnostics {
            let _ = d.short();
        }
        let Some(workflow) = parsed.workflow else { continue };
        let repo = Repository {
            full_name: "octo/app".into(),
            default_branch: "main".into(),
            sha: "0123456789abcdef0123456789abcdef01234567".into(),
            branch: Some("main".into()),
            actor: "octo".into(),
            workspace: "/work".into(),
            before: "0000000000000000000000000000000000000000".into(),
            changed_files: Some(vec!["src/main.rs".into(), "docs/a.md".into()]),
            head_message: "m".into(),
            head_author: "a".into(),
            head_timestamp: "t".into(),
        };
        let vars = IndexMap::new();
        for event in [Event::push(&repo), Event::pull_request(&repo, None, None)] {
            let _ = build_plan(&PlanRequest {
                workflow: &workflow,
                workflow_path: name,
                event: &event,
                repo: &repo,
                vars: &vars,
            });
        }
    }
});

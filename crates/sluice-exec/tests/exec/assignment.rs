//! The job assignment's wire shape: what a runner elsewhere would read.

use indexmap::IndexMap;
use serde_json::json;
use sluice_exec::assignment::{ASSIGNMENT_FORMAT_VERSION, JobAssignment};
use sluice_exec::events::JobKey;
use sluice_plan::JobOrigin;

fn called_job() -> JobAssignment {
    JobAssignment {
        version: ASSIGNMENT_FORMAT_VERSION,
        run_id: "1733230000000123".into(),
        key: JobKey::new("deploy", Some(1)).called("smoke", None),
        origin: JobOrigin {
            calls: vec![("deploy".into(), 1)],
            local_id: "smoke".into(),
        },
        inputs: json!({"environment": "staging"}),
        secrets: Some(IndexMap::from([("TOKEN".into(), "s3cr3t-value".into())])),
        matrix: json!({}),
        strategy: json!({"fail-fast": true, "job-index": 0, "job-total": 1, "max-parallel": 1}),
        needs: json!({"build": {"result": "success", "outputs": {"image": "app:1"}}}),
        upstream_keys: IndexMap::from([(JobKey::new("build", None), vec!["3f2a".to_string()])]),
    }
}

#[test]
fn an_assignment_is_json_without_its_secrets() {
    let assignment = called_job();
    let text = serde_json::to_string(&assignment).unwrap();
    assert!(!text.contains("s3cr3t-value"), "{text}");
    insta::assert_json_snapshot!(assignment);
}

#[test]
fn an_assignment_reads_back_what_it_wrote_except_secrets() {
    let assignment = called_job();
    let back: JobAssignment =
        serde_json::from_str(&serde_json::to_string(&assignment).unwrap()).unwrap();
    assert_eq!(back.secrets, None);
    assert_eq!(
        back,
        JobAssignment {
            secrets: None,
            ..assignment
        }
    );
}

#[test]
fn a_malformed_key_is_refused() {
    let mut value = serde_json::to_value(called_job()).unwrap();
    value["key"] = json!("deploy[one]/smoke");
    let error = serde_json::from_value::<JobAssignment>(value).unwrap_err();
    assert!(error.to_string().contains("deploy[one]/smoke"), "{error}");
}

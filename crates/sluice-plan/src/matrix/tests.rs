//! Table tests for matrix expansion. Every worked example of GitHub's
//! "Using a matrix for your jobs" / workflow syntax reference is here with
//! the jobs GitHub documents, in GitHub's order. Matrices and jobs are
//! written as JSON, the shape of the workflow's YAML.

use serde_json::{Value as Json, json};
use sluice_expr::Value;

use super::*;

/// Builds a definition from JSON written like the workflow's YAML:
/// `{"os": [...], "include": [...], "exclude": [...]}`.
fn matrix(spec: Json) -> MatrixDefinition {
    let Json::Object(entries) = spec else {
        panic!("a matrix is an object")
    };
    let mut definition = MatrixDefinition::default();
    for (key, value) in entries {
        let Json::Array(items) = value else {
            panic!("`{key}` must be an array")
        };
        match key.as_str() {
            "include" => definition.include = items.into_iter().map(object).collect(),
            "exclude" => definition.exclude = items.into_iter().map(object).collect(),
            _ => {
                let values = items.iter().map(Value::from_json).collect();
                definition.vectors.insert(key, values);
            }
        }
    }
    definition
}

fn object(json: Json) -> MatrixObject {
    match json {
        Json::Object(entries) => entries
            .iter()
            .map(|(key, value)| (key.clone(), Value::from_json(value)))
            .collect(),
        other => panic!("expected an object, got {other}"),
    }
}

/// Expands and returns each job's `matrix` context as JSON.
fn expand(spec: Json) -> Vec<Json> {
    expand_matrix(&matrix(spec))
        .unwrap_or_else(|error| panic!("unexpected error: {error}"))
        .into_iter()
        .map(|instance| Value::Object(instance.matrix).to_json())
        .collect()
}

fn expect(spec: Json, jobs: Json) {
    let Json::Array(jobs) = jobs else {
        panic!("expected jobs as an array")
    };
    assert_eq!(expand(spec), jobs);
}

#[test]
fn docs_order_of_jobs() {
    // "the above matrix will create the jobs in the following order"
    expect(
        json!({"version": [10, 12, 14], "os": ["ubuntu-latest", "windows-latest"]}),
        json!([
            {"version": 10, "os": "ubuntu-latest"},
            {"version": 10, "os": "windows-latest"},
            {"version": 12, "os": "ubuntu-latest"},
            {"version": 12, "os": "windows-latest"},
            {"version": 14, "os": "ubuntu-latest"},
            {"version": 14, "os": "windows-latest"},
        ]),
    );
}

#[test]
fn docs_single_dimension_matrix() {
    expect(
        json!({"version": [10, 12, 14]}),
        json!([{"version": 10}, {"version": 12}, {"version": 14}]),
    );
}

#[test]
fn docs_multi_dimension_matrix() {
    let jobs = expand(json!({"os": ["ubuntu-22.04", "ubuntu-20.04"], "version": [10, 12, 14]}));
    assert_eq!(jobs.len(), 6);
    assert_eq!(jobs[0], json!({"os": "ubuntu-22.04", "version": 10}));
    assert_eq!(jobs[5], json!({"os": "ubuntu-20.04", "version": 14}));
}

#[test]
fn docs_vector_of_objects() {
    expect(
        json!({
            "os": ["ubuntu-latest", "macos-latest"],
            "node": [
                {"version": 14},
                {"version": 20, "env": "NODE_OPTIONS=--openssl-legacy-provider"},
            ],
        }),
        json!([
            {"os": "ubuntu-latest", "node": {"version": 14}},
            {"os": "ubuntu-latest", "node": {"version": 20, "env": "NODE_OPTIONS=--openssl-legacy-provider"}},
            {"os": "macos-latest", "node": {"version": 14}},
            {"os": "macos-latest", "node": {"version": 20, "env": "NODE_OPTIONS=--openssl-legacy-provider"}},
        ]),
    );
}

#[test]
fn docs_expanding_or_adding_matrix_configurations() {
    // The fruit/animal example and its six documented jobs.
    expect(
        json!({
            "fruit": ["apple", "pear"],
            "animal": ["cat", "dog"],
            "include": [
                {"color": "green"},
                {"color": "pink", "animal": "cat"},
                {"fruit": "apple", "shape": "circle"},
                {"fruit": "banana"},
                {"fruit": "banana", "animal": "cat"},
            ],
        }),
        json!([
            {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
            {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
            {"fruit": "pear", "animal": "cat", "color": "pink"},
            {"fruit": "pear", "animal": "dog", "color": "green"},
            {"fruit": "banana"},
            {"fruit": "banana", "animal": "cat"},
        ]),
    );
}

#[test]
fn docs_example_expanding_configurations() {
    // "When the job for the os value of windows-latest and node value of 16
    // runs, an additional variable called npm with the value of 6 will be
    // included in the job."
    expect(
        json!({
            "os": ["windows-latest", "ubuntu-latest"],
            "node": [14, 16],
            "include": [{"os": "windows-latest", "node": 16, "npm": 6}],
        }),
        json!([
            {"os": "windows-latest", "node": 14},
            {"os": "windows-latest", "node": 16, "npm": 6},
            {"os": "ubuntu-latest", "node": 14},
            {"os": "ubuntu-latest", "node": 16},
        ]),
    );
}

#[test]
fn docs_example_adding_configurations() {
    // "this matrix will run 10 jobs, one for each combination of os and
    // version in the matrix, plus a job for the os value of windows-latest
    // and version value of 17."
    let jobs = expand(json!({
        "os": ["macos-latest", "windows-latest", "ubuntu-latest"],
        "version": [12, 14, 16],
        "include": [{"os": "windows-latest", "version": 17}],
    }));
    assert_eq!(jobs.len(), 10);
    assert_eq!(jobs[9], json!({"os": "windows-latest", "version": 17}));
}

#[test]
fn docs_include_only_matrix() {
    // "If you don't specify any matrix variables, all configurations under
    // include will run."
    expect(
        json!({
            "include": [
                {"site": "production", "datacenter": "site-a"},
                {"site": "staging", "datacenter": "site-b"},
            ],
        }),
        json!([
            {"site": "production", "datacenter": "site-a"},
            {"site": "staging", "datacenter": "site-b"},
        ]),
    );
}

#[test]
fn docs_excluding_matrix_configurations() {
    // "one job for each of the 12 configurations, minus the one excluded job
    // that matches {os: macos-latest, version: 12, environment: production},
    // and the two excluded jobs that match {os: windows-latest, version: 16}."
    expect(
        json!({
            "os": ["macos-latest", "windows-latest"],
            "version": [12, 14, 16],
            "environment": ["staging", "production"],
            "exclude": [
                {"os": "macos-latest", "version": 12, "environment": "production"},
                {"os": "windows-latest", "version": 16},
            ],
        }),
        json!([
            {"os": "macos-latest", "version": 12, "environment": "staging"},
            {"os": "macos-latest", "version": 14, "environment": "staging"},
            {"os": "macos-latest", "version": 14, "environment": "production"},
            {"os": "macos-latest", "version": 16, "environment": "staging"},
            {"os": "macos-latest", "version": 16, "environment": "production"},
            {"os": "windows-latest", "version": 12, "environment": "staging"},
            {"os": "windows-latest", "version": 12, "environment": "production"},
            {"os": "windows-latest", "version": 14, "environment": "staging"},
            {"os": "windows-latest", "version": 14, "environment": "production"},
        ]),
    );
}

#[test]
fn docs_include_adds_back_excluded_combinations() {
    // "All include combinations are processed after exclude. This allows you
    // to use include to add back combinations that were previously
    // excluded."
    expect(
        json!({
            "os": ["linux", "windows"],
            "arch": ["x64", "arm64"],
            "exclude": [{"os": "windows", "arch": "arm64"}],
            "include": [{"os": "windows", "arch": "arm64", "experimental": true}],
        }),
        json!([
            {"os": "linux", "arch": "x64"},
            {"os": "linux", "arch": "arm64"},
            {"os": "windows", "arch": "x64"},
            {"os": "windows", "arch": "arm64", "experimental": true},
        ]),
    );
}

#[test]
fn docs_fail_fast_and_continue_on_error_examples() {
    // strategy.fail-fast: "the following workflow will start four jobs".
    expect(
        json!({
            "version": [6, 7, 8],
            "experimental": [false],
            "include": [{"version": 9, "experimental": true}],
        }),
        json!([
            {"version": 6, "experimental": false},
            {"version": 7, "experimental": false},
            {"version": 8, "experimental": false},
            {"version": 9, "experimental": true},
        ]),
    );
    // continue-on-error: the experimental node 15 job is a fifth job.
    let jobs = expand(json!({
        "node": [13, 14],
        "os": ["macos-latest", "ubuntu-latest"],
        "experimental": [false],
        "include": [{"node": 15, "os": "ubuntu-latest", "experimental": true}],
    }));
    assert_eq!(jobs.len(), 5);
    assert_eq!(
        jobs[4],
        json!({"node": 15, "os": "ubuntu-latest", "experimental": true})
    );
}

#[test]
fn include_rules_in_detail() {
    // An entry whose conditions hold for several combinations extends all
    // of them; later entries overwrite earlier additions, not originals.
    expect(
        json!({
            "os": ["linux", "mac"],
            "include": [
                {"shell": "bash"},
                {"os": "mac", "shell": "zsh"},
                {"os": "linux", "os-label": "ubuntu"},
            ],
        }),
        json!([
            {"os": "linux", "shell": "bash", "os-label": "ubuntu"},
            {"os": "mac", "shell": "zsh"},
        ]),
    );
    // An entry that only repeats an existing combination adds nothing and
    // creates nothing.
    expect(
        json!({"os": ["linux"], "include": [{"os": "linux"}]}),
        json!([{"os": "linux"}]),
    );
    // Unmatched entries become new combinations in entry order, conditions
    // first, and are never extended by later entries.
    expect(
        json!({
            "os": ["linux"],
            "include": [
                {"extra": 1, "os": "bsd"},
                {"os": "bsd", "more": 2},
                {"os": "linux", "flag": true},
            ],
        }),
        json!([
            {"os": "linux", "flag": true},
            {"os": "bsd", "extra": 1},
            {"os": "bsd", "more": 2},
        ]),
    );
    // When every combination is excluded, include entries stand alone.
    expect(
        json!({
            "os": ["linux"],
            "exclude": [{"os": "linux"}],
            "include": [{"color": "red"}],
        }),
        json!([{"color": "red"}]),
    );
}

#[test]
fn values_compare_as_github_compares_them() {
    // A string and a number compare numerically; strings ignore case.
    expect(
        json!({
            "version": [12, 14],
            "os": ["Ubuntu-Latest", "windows"],
            "exclude": [{"version": "12", "os": "ubuntu-latest"}],
        }),
        json!([
            {"version": 12, "os": "windows"},
            {"version": 14, "os": "Ubuntu-Latest"},
            {"version": 14, "os": "windows"},
        ]),
    );
    // Objects compare deeply and partially, by their leaves.
    expect(
        json!({
            "node": [{"version": 14, "lts": true}, {"version": 20}],
            "exclude": [{"node": {"version": 14}}],
        }),
        json!([{"node": {"version": 20}}]),
    );
    // Object keys inside values are case-insensitive too.
    expect(
        json!({
            "node": [{"Version": 14}, {"version": 20}],
            "exclude": [{"node": {"VERSION": 14}}],
        }),
        json!([{"node": {"version": 20}}]),
    );
    // Arrays compare element by element (a prefix is a partial match).
    expect(
        json!({
            "flags": [["-O2", "-g"], ["-O0"]],
            "exclude": [{"flags": ["-O2"]}],
        }),
        json!([{"flags": ["-O0"]}]),
    );
    // An empty object constrains nothing: it matches every combination.
    expect(
        json!({"os": ["a", "b"], "exclude": [{"os": {}}], "include": [{"x": 1}]}),
        json!([{"x": 1}]),
    );
    // A scalar never equals an object or array.
    expect(
        json!({"node": [{"version": 14}], "exclude": [{"node": 14}]}),
        json!([{"node": {"version": 14}}]),
    );
    // null in a filter matches null (and, as in expressions, 0, "" and false).
    expect(
        json!({"v": [null, 0, "", false, 1], "exclude": [{"v": null}]}),
        json!([{"v": 1}]),
    );
    // Matrix keys are case-insensitive in include and exclude.
    expect(
        json!({
            "os": ["linux", "mac"],
            "exclude": [{"OS": "mac"}],
            "include": [{"Os": "linux", "extra": true}],
        }),
        json!([{"os": "linux", "extra": true}]),
    );
}

#[test]
fn job_limit_and_cross_product_limit() {
    let values = |n: usize| Json::Array((0..n).map(|i| json!(i)).collect());
    // 16 x 16 = 256 is allowed.
    assert_eq!(expand(json!({"a": values(16), "b": values(16)})).len(), 256);
    // 16 x 17 = 272 is not.
    let error = expand_matrix(&matrix(json!({"a": values(16), "b": values(17)}))).unwrap_err();
    assert_eq!(error, MatrixError::TooManyJobs { count: 272 });
    assert_eq!(
        error.to_string(),
        "the matrix produces 272 jobs; at most 256 are allowed"
    );
    // ... unless exclusions bring it back under the limit.
    let trimmed = json!({"a": values(16), "b": values(17), "exclude": [{"b": 16}]});
    assert_eq!(expand(trimmed).len(), 256);
    // Include entries count too.
    let over = json!({"a": values(16), "b": values(16), "include": [{"a": 99}]});
    assert_eq!(
        expand_matrix(&matrix(over)).unwrap_err(),
        MatrixError::TooManyJobs { count: 257 }
    );
    // A huge cross product is refused before it is enumerated, also when
    // its size overflows.
    let largest = json!({"a": values(256), "b": values(256), "exclude": [{"b": 0}]});
    assert_eq!(
        expand_matrix(&matrix(largest)).unwrap_err(),
        MatrixError::TooManyJobs { count: 256 * 255 }
    );
    let huge = json!({"a": values(256), "b": values(257)});
    assert_eq!(
        expand_matrix(&matrix(huge)).unwrap_err(),
        MatrixError::CrossProductTooLarge
    );
    let mut overflowing = MatrixDefinition::default();
    for key in 0..20 {
        let values = (0..100).map(|i| Value::Number(f64::from(i))).collect();
        overflowing.vectors.insert(format!("k{key}"), values);
    }
    assert_eq!(
        expand_matrix(&overflowing).unwrap_err(),
        MatrixError::CrossProductTooLarge
    );
}

#[test]
fn invalid_matrices_are_errors() {
    let cases = [
        (
            json!({"os": ["linux"], "node": []}),
            MatrixError::EmptyVector { key: "node".into() },
            "matrix vector `node` does not contain any values",
        ),
        (
            json!({}),
            MatrixError::NoVectors,
            "the matrix must define at least one vector or `include` entry",
        ),
        (
            json!({"exclude": [{"os": "linux"}]}),
            MatrixError::NoVectors,
            "the matrix must define at least one vector or `include` entry",
        ),
        (
            json!({"os": ["a"], "OS": ["b"]}),
            MatrixError::DuplicateKey {
                first: "os".into(),
                second: "OS".into(),
            },
            "matrix keys `os` and `OS` differ only in letter case, \
             and matrix keys are case-insensitive",
        ),
        (
            json!({"os": ["a"], "include": [{"x": 1}, {}]}),
            MatrixError::EmptyInclude { index: 1 },
            "matrix `include[1]` does not contain any values",
        ),
        (
            json!({"os": ["a"], "exclude": [{}]}),
            MatrixError::EmptyExclude { index: 0 },
            "matrix `exclude[0]` must not be empty",
        ),
        (
            json!({"os": ["a"], "exclude": [{"os": "a", "arch": "x64"}]}),
            MatrixError::UnknownExcludeKey {
                key: "arch".into(),
                index: 0,
            },
            "matrix exclude key `arch` (in `exclude[0]`) does not match any key within the matrix",
        ),
    ];
    for (spec, expected, message) in cases {
        let error = expand_matrix(&matrix(spec.clone())).unwrap_err();
        assert_eq!(error, expected, "{spec}");
        assert_eq!(error.to_string(), message);
    }
}

#[test]
fn job_names() {
    let names = |spec: Json, job: &str| -> Vec<String> {
        expand_matrix(&matrix(spec))
            .unwrap()
            .iter()
            .map(|instance| instance.display_name(job))
            .collect()
    };
    assert_eq!(
        names(json!({"os": ["ubuntu"], "node": [18, 20]}), "build"),
        ["build (ubuntu, 18)", "build (ubuntu, 20)"]
    );
    // Values added by include to a combination are not part of its name;
    // a combination made by include shows all of its values.
    assert_eq!(
        names(
            json!({
                "node": [13],
                "os": ["ubuntu-latest"],
                "experimental": [false],
                "include": [
                    {"node": 13, "npm": 6},
                    {"node": 15, "os": "ubuntu-latest", "experimental": true},
                ],
            }),
            "test"
        ),
        [
            "test (13, ubuntu-latest, false)",
            "test (15, ubuntu-latest, true)"
        ]
    );
    // Objects and arrays show their leaves; null and "" are left out;
    // numbers print as GitHub prints them.
    assert_eq!(
        names(
            json!({
                "node": [{"version": 14, "env": "X"}],
                "flags": [["-O2", "-g"]],
                "python": [3.10],
                "empty": [""],
                "nothing": [null],
            }),
            "ci"
        ),
        ["ci (14, X, -O2, -g, 3.1)"]
    );
    assert_eq!(
        names(
            json!({"include": [{"site": "production", "datacenter": "site-a"}]}),
            "deploy"
        ),
        ["deploy (production, site-a)"]
    );
}

#[test]
fn job_instance_name_directly() {
    let text = |s: &str| Value::String(s.to_owned());
    assert_eq!(job_instance_name("build", []), "build");
    assert_eq!(
        job_instance_name("build", [&Value::Null, &text("")]),
        "build"
    );
    assert_eq!(
        job_instance_name("build", [&Value::Object(MatrixObject::new())]),
        "build"
    );
    assert_eq!(
        job_instance_name(
            "b",
            [
                &Value::Number(1e21),
                &Value::Number(-0.5),
                &Value::Number(0.00001),
                &Value::Boolean(true)
            ]
        ),
        "b (1E+21, -0.5, 1E-05, true)"
    );
    assert_eq!(
        job_instance_name("b", [&text("\u{e9}t\u{e9}")]),
        "b (\u{e9}t\u{e9})"
    );
    // Longer than 100 characters: cut to 97 plus "...".
    let long = text(&"x".repeat(200));
    let name = job_instance_name("build", [&long]);
    assert_eq!(name.chars().count(), 100);
    assert!(name.starts_with("build (xxx"));
    assert!(name.ends_with("x..."));
    // Exactly 100 characters are kept whole.
    let fits = text(&"y".repeat(100 - "build ()".len()));
    assert_eq!(job_instance_name("build", [&fits]).chars().count(), 100);
    assert!(!job_instance_name("build", [&fits]).ends_with("..."));
}

#[test]
fn deeply_nested_values_are_walked_without_recursion() {
    // Filters and names walk values with explicit stacks. The values' own
    // clone and drop recurse, so the depth here stays modest; it is still
    // far beyond what YAML or JSON parsers hand over.
    let nested = |leaf: f64| {
        let mut value = Value::Number(leaf);
        for _ in 0..1_000 {
            value = Value::Array(vec![value]);
        }
        value
    };
    let definition = MatrixDefinition {
        vectors: [("deep".to_owned(), vec![nested(1.0), nested(2.0)])]
            .into_iter()
            .collect(),
        exclude: vec![[("deep".to_owned(), nested(1.0))].into_iter().collect()],
        include: vec![],
    };
    let jobs = expand_matrix(&definition).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].display_name("deep"), "deep (2)");
}

#[test]
fn the_largest_enumerated_matrix_stays_fast() {
    use std::time::{Duration, Instant};
    let values = |n: usize| Json::Array((0..n).map(|i| json!(format!("v{i}"))).collect());
    let entries = |n: usize| -> Json {
        Json::Array(
            (0..n)
                .map(|i| json!({"a": format!("v{i}"), "b": {"deep": [i, i]}}))
                .collect(),
        )
    };
    let spec = json!({
        "a": values(256),
        "b": values(256),
        "exclude": entries(32),
        "include": entries(32),
    });
    let started = Instant::now();
    let error = expand_matrix(&matrix(spec)).unwrap_err();
    assert!(matches!(error, MatrixError::TooManyJobs { .. }), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

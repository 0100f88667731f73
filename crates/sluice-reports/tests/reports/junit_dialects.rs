//! Dialects and hostile files, written as their runners write them.

use sluice_reports::{TestOutcome, parse_junit};

fn outcomes(xml: &str) -> Vec<(String, TestOutcome)> {
    parse_junit(xml.as_bytes())
        .unwrap()
        .cases
        .into_iter()
        .map(|c| (c.name, c.outcome))
        .collect()
}

#[test]
fn surefire_reruns_tell_flaky_from_failed() {
    let xml = r#"<testsuite name="com.acme.AppTest" tests="2">
  <testcase name="flaky" classname="com.acme.AppTest" time="0.1">
    <flakyFailure message="first try" type="java.lang.AssertionError"><stackTrace>at App</stackTrace></flakyFailure>
  </testcase>
  <testcase name="broken" classname="com.acme.AppTest" time="0.2">
    <failure message="always"/>
    <rerunFailure message="again"/>
  </testcase>
</testsuite>"#;
    assert_eq!(
        outcomes(xml),
        [
            ("flaky".into(), TestOutcome::Flaky),
            ("broken".into(), TestOutcome::Failed)
        ]
    );
}

#[test]
fn a_test_repeated_in_one_report_is_one_test() {
    // pytest-rerunfailures and jest's retries write the test again.
    let xml = r#"<testsuites><testsuite name="s">
  <testcase classname="t" name="retried" time="1"><failure message="boom"/></testcase>
  <testcase classname="t" name="retried" time="2"/>
  <testcase classname="t" name="twice_failed" time="1"><failure/></testcase>
  <testcase classname="t" name="twice_failed" time="1"><error/></testcase>
  <testcase classname="t" name="skip_then_pass"><skipped/></testcase>
  <testcase classname="t" name="skip_then_pass"/>
</testsuite></testsuites>"#;
    let report = parse_junit(xml.as_bytes()).unwrap();
    assert_eq!(report.runs, 6);
    let got: Vec<(String, TestOutcome, u32, f64)> = report
        .cases
        .iter()
        .map(|c| (c.name.clone(), c.outcome, c.runs, c.time))
        .collect();
    assert_eq!(
        got,
        [
            ("retried".into(), TestOutcome::Flaky, 2, 3.0),
            ("twice_failed".into(), TestOutcome::Error, 2, 2.0),
            ("skip_then_pass".into(), TestOutcome::Skipped, 2, 0.0)
        ]
    );
    let totals = report.totals();
    assert_eq!(
        (totals.tests, totals.flaky, totals.errors, totals.skipped),
        (3, 1, 1, 1)
    );
    assert_eq!(report.cases[0].message.as_deref(), Some("boom"));
}

#[test]
fn the_same_name_in_another_suite_or_file_is_another_test() {
    let xml = r#"<testsuites>
  <testsuite name="unit"><testcase classname="c" name="n" file="a_test.py"/></testsuite>
  <testsuite name="integration"><testcase classname="c" name="n" file="a_test.py"><failure/></testcase></testsuite>
  <testsuite name="unit"><testcase classname="c" name="n" file="b_test.py"/></testsuite>
</testsuites>"#;
    assert_eq!(parse_junit(xml.as_bytes()).unwrap().cases.len(), 3);
}

#[test]
fn phpunit_nested_suites_and_tst_statuses_are_read() {
    let xml = r#"<testsuites>
  <testsuite name="All"><testsuite name="Unit" file="tests/Unit">
    <testsuite name="Tests\Unit\MathTest" file="tests/Unit/MathTest.php">
      <testcase name="testAdd" class="Tests\Unit\MathTest" classname="Tests.Unit.MathTest" file="tests/Unit/MathTest.php" line="12" assertions="1" time="0.001"/>
      <testcase name="testDiv" class="Tests\Unit\MathTest" classname="Tests.Unit.MathTest" file="tests/Unit/MathTest.php" line="20" time="0.002">
        <failure type="PHPUnit\Framework\ExpectationFailedException">Failed asserting that 2 is 3.</failure>
      </testcase>
    </testsuite></testsuite></testsuite>
  <testsuite name="tst"><testcase name="off" status="disabled" time="0"/></testsuite>
</testsuites>"#;
    let report = parse_junit(xml.as_bytes()).unwrap();
    let div = &report.cases[1];
    assert_eq!(
        (div.file.as_deref(), div.line),
        (Some("tests/Unit/MathTest.php"), Some(20))
    );
    assert_eq!(
        div.details.as_deref(),
        Some("Failed asserting that 2 is 3.")
    );
    assert_eq!(div.suite, "Tests\\Unit\\MathTest");
    assert_eq!(report.cases[2].outcome, TestOutcome::Skipped);
}

#[test]
fn odd_times_are_clamped_with_warnings_never_a_crash() {
    let xml = r#"<testsuite name="s">
  <testcase name="a" time=""/>
  <testcase name="b" time="1,234.5"/>
  <testcase name="c" time="0,010"/>
  <testcase name="d" time="-4"/>
  <testcase name="e" time="soon"/>
</testsuite>"#;
    let report = parse_junit(xml.as_bytes()).unwrap();
    let times: Vec<f64> = report.cases.iter().map(|c| c.time).collect();
    assert_eq!(times, [0.0, 1234.5, 0.01, 0.0, 0.0]);
    assert_eq!(report.warnings.len(), 4, "{:?}", report.warnings);
    assert!(report.warnings.iter().any(|w| w.contains("negative")));
}

#[test]
fn xxe_and_billion_laughs_are_refused_before_anything_expands() {
    let xxe = r#"<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<testsuite><testcase name="&x;"/></testsuite>"#;
    let error = parse_junit(xxe.as_bytes()).unwrap_err();
    assert_eq!(error.line, 2);
    assert!(error.problem.contains("DOCTYPE"), "{error}");
    let laughs = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">{}]>\n<testsuite/>",
        (1..10)
            .map(|i| format!(
                "<!ENTITY lol{i} \"{}\">",
                format!("&lol{};", i - 1).repeat(10)
            ))
            .collect::<String>()
    );
    assert!(
        parse_junit(laughs.as_bytes())
            .unwrap_err()
            .problem
            .contains("DOCTYPE")
    );
    let unknown_entity = r#"<testsuite><testcase name="&nope;"/></testsuite>"#;
    let error = parse_junit(unknown_entity.as_bytes()).unwrap_err();
    assert_eq!((error.line, error.column), (1, 12), "{error}");
}

#[test]
fn files_that_are_not_reports_say_where() {
    let not_xml = parse_junit(b"hello").unwrap_err();
    assert!(
        not_xml.problem.contains("no XML element") || not_xml.problem.contains("XML"),
        "{not_xml}"
    );
    let other_root = parse_junit(b"<?xml version=\"1.0\"?>\n<coverage/>").unwrap_err();
    assert_eq!(other_root.line, 2);
    assert!(other_root.problem.contains("<coverage>"), "{other_root}");
    let not_utf8 = parse_junit(b"<testsuite name=\"\xff\"/>").unwrap_err();
    assert_eq!((not_utf8.line, not_utf8.column), (1, 18));
    let deep = format!("<testsuite>{}", "<a>".repeat(1000));
    assert!(
        parse_junit(deep.as_bytes())
            .unwrap_err()
            .problem
            .contains("deeper")
    );
    let unclosed = parse_junit(b"<testsuite>\n  <testcase name=\"a\">\n").unwrap_err();
    assert!(unclosed.line >= 2, "{unclosed}");
}

#[test]
fn node_test_runner_writes_testcases_without_a_suite() {
    let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites>
	<testcase name="adds" time="0.001606" classname="test"/>
	<testcase name="fails" time="0.001958" classname="test" failure="Expected 1 !== 2">
		<failure type="testCodeFailure" message="Expected 1 !== 2">at a.test.js:4:28</failure>
	</testcase>
</testsuites>"#;
    assert_eq!(
        outcomes(xml),
        [
            ("adds".into(), TestOutcome::Passed),
            ("fails".into(), TestOutcome::Failed)
        ]
    );
}

//! Several reports as one set of tests: a test written in more than one
//! report (a runner's retry written to a new file, shards writing the
//! same suite) is one test, merged by the same rules as repeats within a
//! report.

use crate::fast_hash::FxHashMap;
use sluice_events::{TestCase, TestOutcome};

type Identity = (String, String, String, Option<String>);

/// The tests of `reports`, in the order first seen.
pub fn combine<'r>(reports: impl IntoIterator<Item = &'r [TestCase]>) -> Vec<TestCase> {
    let mut tests: Vec<TestCase> = Vec::new();
    let mut index: FxHashMap<Identity, usize> = FxHashMap::default();
    for report in reports {
        for case in report {
            let key = (
                case.suite.clone(),
                case.classname.clone(),
                case.name.clone(),
                case.file.clone(),
            );
            match index.get(&key) {
                None => {
                    index.insert(key, tests.len());
                    tests.push(case.clone());
                }
                Some(&at) => merge_into(&mut tests[at], case),
            }
        }
    }
    tests
}

fn merge_into(test: &mut TestCase, other: &TestCase) {
    let failed = |o: TestOutcome| o.is_failure() || o == TestOutcome::Flaky;
    let passed = |o: TestOutcome| matches!(o, TestOutcome::Passed | TestOutcome::Flaky);
    let flaky = (failed(test.outcome) && passed(other.outcome))
        || (passed(test.outcome) && failed(other.outcome));
    test.outcome = if flaky {
        TestOutcome::Flaky
    } else {
        test.outcome.max(other.outcome)
    };
    test.runs += other.runs;
    test.time += other.time;
    if test.message.is_none() {
        test.message.clone_from(&other.message);
        test.details.clone_from(&other.details);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, outcome: TestOutcome) -> TestCase {
        TestCase {
            suite: "s".into(),
            classname: "c".into(),
            name: name.into(),
            file: None,
            line: None,
            outcome,
            time: 1.0,
            message: None,
            details: None,
            runs: 1,
        }
    }

    #[test]
    fn a_failure_in_one_report_and_a_pass_in_another_is_flaky() {
        let first = [
            case("a", TestOutcome::Failed),
            case("b", TestOutcome::Passed),
        ];
        let second = [
            case("a", TestOutcome::Passed),
            case("b", TestOutcome::Skipped),
        ];
        let tests = combine([&first[..], &second[..]]);
        assert_eq!(tests[0].outcome, TestOutcome::Flaky);
        assert_eq!((tests[0].runs, tests[0].time), (2, 2.0));
        assert_eq!(tests[1].outcome, TestOutcome::Skipped);
    }
}

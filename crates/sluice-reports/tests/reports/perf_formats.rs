//! Benchmark formats: each read from a small file of its own shape, told
//! apart without being named, units normalised.

use sluice_reports::perf::{BenchMetric, PerfError, PerfFormat, parse_benchmarks};

fn read(text: &str) -> Vec<BenchMetric> {
    let format = PerfFormat::detect(text).unwrap_or_else(|| panic!("not detected:\n{text}"));
    parse_benchmarks(text.as_bytes(), Some(format), "group/bench").unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
}

#[test]
fn bencher_metric_format() {
    let metrics = read(
        r#"{"parse": {"latency": {"value": 2500.0, "lower_value": 2400.0}, "throughput": {"value": 400.0}}}"#,
    );
    assert_eq!(metrics.len(), 2);
    assert!(close(metrics[0].values[0], 2.5e-6));
    assert!(metrics[1].bigger_is_better && metrics[1].unit == "ops/s");
}

#[test]
fn criterion_files_and_messages() {
    let estimates = read(
        r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":99.0,"upper_bound":101.0},"point_estimate":100.0,"standard_error":0.5},"median":{"point_estimate":99.5}}"#,
    );
    assert_eq!(estimates[0].benchmark, "group/bench");
    assert!(close(estimates[0].values[0], 100e-9));
    let sample = read(r#"{"sampling_mode":"Linear","iters":[10.0,20.0],"times":[1000.0,2200.0]}"#);
    assert_eq!(sample[0].values.len(), 2);
    assert!(close(sample[0].values[1], 110e-9));
    let messages = read(
        "{\"reason\":\"group-complete\"}\n{\"reason\":\"benchmark-complete\",\"id\":\"fib/20\",\"unit\":\"ns\",\"iteration_count\":[5,10],\"measured_values\":[500.0,1100.0]}\n",
    );
    assert_eq!(messages[0].benchmark, "fib/20");
    assert_eq!(messages[0].values.len(), 2);
}

#[test]
fn hyperfine_pytest_and_google_benchmark() {
    let hyperfine = read(
        r#"{"results":[{"command":"sleep 0.1","mean":0.1,"stddev":0.001,"times":[0.1,0.101,0.099]}]}"#,
    );
    assert_eq!(
        (hyperfine[0].benchmark.as_str(), hyperfine[0].values.len()),
        ("sleep 0.1", 3)
    );
    let pytest = read(
        r#"{"machine_info":{},"benchmarks":[{"name":"test_a","fullname":"tests/test_b.py::test_a","stats":{"median":0.002,"mean":0.0021}}]}"#,
    );
    assert_eq!(pytest[0].benchmark, "tests/test_b.py::test_a");
    assert!(close(pytest[0].values[0], 0.002));
    let google = read(
        r#"{"context":{"num_cpus":2},"benchmarks":[
        {"name":"BM_sort/8","run_name":"BM_sort/8","run_type":"iteration","repetitions":2,"repetition_index":0,"real_time":120.0,"cpu_time":119.0,"time_unit":"us","items_per_second":5000.0},
        {"name":"BM_sort/8","run_name":"BM_sort/8","run_type":"iteration","repetitions":2,"repetition_index":1,"real_time":130.0,"cpu_time":129.0,"time_unit":"us","items_per_second":4800.0},
        {"name":"BM_sort/8_mean","run_name":"BM_sort/8","run_type":"aggregate","aggregate_name":"mean","real_time":125.0,"time_unit":"us"}]}"#,
    );
    assert_eq!(google[0].values.len(), 2, "aggregates are not repetitions");
    assert!(close(google[0].values[0], 120e-6));
    assert!(google[1].bigger_is_better);
}

#[test]
fn go_bench_with_count() {
    let text = "goos: linux\npkg: example.com/m\nBenchmarkParse-8   \t 1000000\t      1200 ns/op\t     256 B/op\t       3 allocs/op\nBenchmarkParse-8   \t 1000000\t      1300 ns/op\t     256 B/op\t       3 allocs/op\nPASS\n";
    let metrics = read(text);
    let latency = metrics.iter().find(|m| m.measure == "latency").unwrap();
    assert_eq!(latency.benchmark, "BenchmarkParse");
    assert_eq!(latency.values.len(), 2);
    assert!(close(latency.values[1], 1.3e-6));
    assert!(
        metrics
            .iter()
            .any(|m| m.measure == "memory" && m.unit == "B")
    );
}

#[test]
fn go_sub_benchmarks_ending_in_numbers_stay_apart() {
    // GOMAXPROCS 1: Go writes no -N, and these names end in numbers of their own.
    let text =
        "BenchmarkSort/n-100 \t 50000\t 2000 ns/op\nBenchmarkSort/n-1000 \t 5000\t 25000 ns/op\n";
    let metrics = read(text);
    let names: Vec<&str> = metrics.iter().map(|m| m.benchmark.as_str()).collect();
    assert_eq!(names, vec!["BenchmarkSort/n-100", "BenchmarkSort/n-1000"]);
}

#[test]
fn k6_summaries_old_and_new() {
    let old = read(
        r#"{"metrics":{"http_req_duration":{"avg":120.5,"med":110.0,"p(90)":180.0,"p(95)":210.0,"min":50.0,"max":400.0},"http_reqs":{"count":1000,"rate":33.3}}}"#,
    );
    let p95 = old.iter().find(|m| m.measure == "p(95)").unwrap();
    assert!(close(p95.values[0], 0.21));
    assert!(
        old.iter()
            .any(|m| m.benchmark == "http_reqs" && m.bigger_is_better)
    );
    let new = read(
        r#"{"metrics":{"http_req_duration":{"type":"trend","contains":"time","values":{"avg":100.0,"med":90.0,"p(95)":150.0}},"http_req_failed":{"type":"rate","contains":"default","values":{"rate":0.01}}}}"#,
    );
    assert!(
        new.iter()
            .any(|m| m.benchmark == "http_req_failed" && !m.bigger_is_better)
    );
}

#[test]
fn github_action_benchmark_tools() {
    let cargo = read("test parse_big   ... bench:       1,234 ns/iter (+/- 56)\ntest result: ok\n");
    assert!(close(cargo[0].values[0], 1234e-9));
    let js = read("fib(20) x 11,465 ops/sec ±1.12% (91 runs sampled)\n");
    assert!(js[0].bigger_is_better && close(js[0].values[0], 11465.0));
    let jmh = read(
        r#"[{"benchmark":"org.demo.Bench.run","mode":"thrpt","primaryMetric":{"score":1000.0,"scoreUnit":"ops/ms","rawData":[[990.0,1010.0]]}}]"#,
    );
    assert!(jmh[0].bigger_is_better && close(jmh[0].values[0], 990_000.0));
    let custom = parse_benchmarks(
        br#"[{"name":"requests","unit":"req/s","value":500}]"#,
        Some(PerfFormat::named("customBiggerIsBetter").unwrap()),
        "",
    )
    .unwrap();
    assert!(custom[0].bigger_is_better);
    let dotnet = read(
        r#"{"Benchmarks":[{"FullName":"Demo.Run","Statistics":{"Median":2000.0,"OriginalValues":[1900.0,2100.0]}}]}"#,
    );
    assert_eq!(dotnet[0].values.len(), 2);
}

#[test]
fn bad_input_is_named_not_guessed() {
    assert_eq!(
        parse_benchmarks(b"hello", None, ""),
        Err(PerfError::UnknownFormat)
    );
    let error = parse_benchmarks(
        b"{\"results\": [{\"command\": \"x\"}]}",
        Some(PerfFormat::Hyperfine),
        "",
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("results[0].mean is missing"),
        "{error}"
    );
    assert!(
        PerfFormat::named("catch2")
            .unwrap_err()
            .to_string()
            .contains("not read")
    );
    let broken = parse_benchmarks(b"{\"results\": [", Some(PerfFormat::Hyperfine), "").unwrap_err();
    assert!(broken.to_string().starts_with("1:"), "{broken}");
}

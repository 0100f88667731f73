//! Behaviour the conformance data does not cover: templates, positions,
//! limits, laziness, identity, host functions, and robustness on odd input.

use sluice_expr::{
    Allowed, ErrorKind, ExprError, MapHost, Template, TemplatePart, Value, evaluate,
    limits::MAX_DEPTH, parse, split_template,
};

fn host() -> MapHost {
    MapHost::from_json(&serde_json::json!({
        "github": {"ref": "refs/heads/main", "event": {"labels": [{"name": "bug"}, {"name": "ci"}]}},
        "matrix": {"os": "linux", "n": 3, "list": [1, 2]},
        "env": {"EMPTY": ""},
    }))
    .unwrap()
    .with_function("hashFiles", |args| Ok(Value::String(format!("hash:{}", args.len()))))
    .with_function("success", |_| Ok(Value::Boolean(true)))
}

fn allowed() -> Allowed {
    Allowed::everything_for_contexts(["github", "matrix", "env"])
}

fn eval(source: &str) -> Result<Value, ExprError> {
    let expr = parse(source, &allowed())?;
    evaluate(&expr, &host())
}

fn json(value: serde_json::Value) -> Value {
    Value::from_json(&value)
}

// ---------------------------------------------------------------- templates

#[test]
fn template_without_expressions_is_one_literal() {
    assert_eq!(
        split_template("plain $ { text }").unwrap(),
        vec![TemplatePart::Literal("plain $ { text }")]
    );
    assert_eq!(split_template("").unwrap(), vec![]);
}

#[test]
fn template_splits_literals_and_trimmed_expressions_with_char_offsets() {
    let parts = split_template("ü ${{  matrix.os }}-${{github.ref}}!").unwrap();
    assert_eq!(
        parts,
        vec![
            TemplatePart::Literal("ü "),
            TemplatePart::Expression {
                source: "matrix.os",
                offset: 7
            },
            TemplatePart::Literal("-"),
            TemplatePart::Expression {
                source: "github.ref",
                offset: 23
            },
            TemplatePart::Literal("!"),
        ]
    );
}

#[test]
fn template_closing_braces_inside_strings_do_not_end_the_expression() {
    let parts = split_template("${{ format('}}{0}', 'x') }}").unwrap();
    assert_eq!(
        parts,
        vec![TemplatePart::Expression {
            source: "format('}}{0}', 'x')",
            offset: 4
        }]
    );
}

#[test]
fn template_unclosed_and_empty_expressions_use_githubs_messages() {
    let unclosed = split_template("ab ${{ 'x }}").unwrap_err();
    assert_eq!(
        unclosed.message,
        "The expression is not closed. An unescaped ${{ sequence was found, but the closing }} sequence was not found."
    );
    assert_eq!(unclosed.position, Some(4));
    assert_eq!(unclosed.kind, ErrorKind::Parsing);

    let empty = split_template("x${{   }}").unwrap_err();
    assert_eq!(empty.message, "An expression was expected");
    assert_eq!(empty.position, Some(2));
}

#[test]
fn template_that_is_one_expression_keeps_its_type() {
    let template = Template::parse("${{ matrix.n }}", &allowed()).unwrap();
    assert_eq!(template.evaluate(&host()).unwrap(), Value::Number(3.0));
    let template = Template::parse("${{ matrix.list }}", &allowed()).unwrap();
    assert_eq!(
        template.evaluate(&host()).unwrap(),
        json(serde_json::json!([1, 2]))
    );
}

#[test]
fn template_with_text_concatenates_string_forms() {
    let template = Template::parse(
        "n=${{ matrix.n }} list=${{ matrix.list }} none=${{ null }} ${{ 0.5 }}",
        &allowed(),
    )
    .unwrap();
    assert!(!template.is_literal());
    assert_eq!(template.expressions().count(), 4);
    assert_eq!(
        template.evaluate(&host()).unwrap(),
        Value::from("n=3 list=Array none= 0.5")
    );
}

#[test]
fn template_errors_are_positioned_in_the_template() {
    let error = Template::parse("abc ${{ 1 == nope }}", &allowed()).unwrap_err();
    assert_eq!(
        error.message,
        "Unrecognized named-value: 'nope'. Located at position 6 within expression: 1 == nope"
    );
    assert_eq!(error.position, Some(14));
}

// ----------------------------------------------------------- AST and names

#[test]
fn iterators_report_named_values_and_calls_with_positions() {
    let expr = parse(
        "success() && contains(github.event.labels.*.name, matrix.os) || hashFiles('a', 'b')",
        &allowed(),
    )
    .unwrap();
    let names: Vec<_> = expr.named_values().map(|n| (n.name, n.position)).collect();
    assert_eq!(names, vec![("github", 23), ("matrix", 51)]);
    let calls: Vec<_> = expr
        .function_calls()
        .map(|c| (c.name, c.position, c.arg_count, c.is_host_function))
        .collect();
    assert_eq!(
        calls,
        vec![
            ("success", 1, 0, true),
            ("contains", 14, 2, false),
            ("hashFiles", 65, 2, true)
        ]
    );
}

#[test]
fn names_are_case_insensitive_and_report_as_written() {
    let expr = parse("GitHub.REF", &allowed()).unwrap();
    assert_eq!(expr.named_values().next().unwrap().name, "GitHub");
    assert_eq!(
        evaluate(&expr, &host()).unwrap(),
        Value::from("refs/heads/main")
    );
}

#[test]
fn empty_expression_is_null() {
    assert_eq!(eval("").unwrap(), Value::Null);
    assert_eq!(eval("  \n\t ").unwrap(), Value::Null);
}

// ----------------------------------------------------------- host functions

#[test]
fn host_functions_need_to_be_allowed_and_respect_arity() {
    assert_eq!(
        eval("hashFiles('**/*.lock', 'x')").unwrap(),
        Value::from("hash:2")
    );
    assert_eq!(eval("SUCCESS()").unwrap(), Value::Boolean(true));

    let error = parse("hashFiles('x')", &Allowed::new().with_named_value("github")).unwrap_err();
    assert_eq!(
        error.message,
        "Unrecognized function: 'hashFiles'. Located at position 1 within expression: hashFiles('x')"
    );
    let error = parse("success(1)", &allowed()).unwrap_err();
    assert_eq!(
        error.message,
        "Too many parameters supplied: 'success'. Located at position 1 within expression: success(1)"
    );
    let error = parse("hashFiles()", &allowed()).unwrap_err();
    assert!(
        error
            .message
            .starts_with("Too few parameters supplied: 'hashFiles'")
    );
}

#[test]
fn host_function_errors_become_evaluation_errors() {
    let expr = parse("failure()", &allowed()).unwrap();
    let error = evaluate(&expr, &host()).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Evaluation);
    assert_eq!(error.position, Some(1));
}

#[test]
fn allowing_any_name_checks_syntax_only() {
    let expr = parse("whatever.x && anyFunction(1, 2, 3)", &Allowed::any()).unwrap();
    assert_eq!(evaluate(&expr, &MapHost::new()).unwrap(), Value::Null);
    assert!(parse("a ==", &Allowed::any()).is_err());
}

// --------------------------------------------------------------- semantics

#[test]
fn context_objects_are_equal_to_themselves_but_computed_ones_are_not() {
    assert_eq!(
        eval("github.event == github.event").unwrap(),
        Value::Boolean(true)
    );
    assert_eq!(
        eval("github.event.labels[0] == github.event.labels[0]").unwrap(),
        Value::Boolean(true)
    );
    assert_eq!(
        eval("fromJSON('{}') == fromJSON('{}')").unwrap(),
        Value::Boolean(false)
    );
    assert_eq!(
        eval("contains(github.event.labels, github.event.labels[1])").unwrap(),
        Value::Boolean(true)
    );
}

#[test]
fn filtered_arrays_stay_filtered_through_groups_and_logic() {
    assert_eq!(
        eval("(github.event.labels.*)['name']").unwrap(),
        json(serde_json::json!(["bug", "ci"]))
    );
    assert_eq!(
        eval("(true && github.event.labels.*).name").unwrap(),
        json(serde_json::json!(["bug", "ci"]))
    );
    // A plain array indexed by a name yields nothing.
    assert_eq!(eval("github.event.labels.name").unwrap(), Value::Null);
}

#[test]
fn indexes_are_floored_and_bounded() {
    assert_eq!(eval("matrix.list[1.9]").unwrap(), Value::Number(2.0));
    assert_eq!(eval("matrix.list[-0.5]").unwrap(), Value::Null);
    assert_eq!(eval("matrix.list[4294967296]").unwrap(), Value::Null);
}

#[test]
fn evaluation_is_lazy_where_githubs_is() {
    // Unreferenced format arguments, untaken case branches, the right side
    // of a decided && / ||, and the index of a non-container are never
    // evaluated, so their errors never happen.
    assert_eq!(
        eval("format('{0}', 'a', fromJSON(''))").unwrap(),
        Value::from("a")
    );
    assert_eq!(
        eval("case(true, 1, fromJSON(''))").unwrap(),
        Value::Number(1.0)
    );
    assert_eq!(
        eval("false && fromJSON('')").unwrap(),
        Value::Boolean(false)
    );
    assert_eq!(eval("env.EMPTY[fromJSON('')]").unwrap(), Value::Null);
    assert_eq!(eval("join(matrix.list)").unwrap(), Value::from("1,2"));
}

#[test]
fn format_rejects_specifiers() {
    let error = eval("format('{0:yyyy}', 1)").unwrap_err();
    assert_eq!(
        error.message,
        "The format specifiers 'yyyy' are not valid for objects of type 'Number'"
    );
}

#[test]
fn from_json_reports_invalid_input() {
    let error = eval("fromJSON('{')").unwrap_err();
    assert_eq!(error.kind, ErrorKind::Evaluation);
    assert!(
        error
            .message
            .starts_with("Error parsing JSON when evaluating fromJson")
    );
    let deep = format!("fromJSON('{}')", "[".repeat(1000));
    assert!(eval(&deep).is_err());
}

#[test]
fn numbers_print_like_github() {
    assert_eq!(
        eval("format('{0}', 1234567890123456)").unwrap(),
        Value::from("1.23456789012346E+15")
    );
    assert_eq!(eval("format('{0}', 0.1 )").unwrap(), Value::from("0.1"));
    assert_eq!(
        eval("toJSON(fromJSON('[1e21, 0.5, -0]'))").unwrap(),
        Value::from("[\n  1e+21,\n  0.5,\n  0\n]")
    );
}

#[test]
fn to_json_helper_matches_the_function() {
    let value = json(serde_json::json!({"a": [1, {"b": null}]}));
    assert_eq!(
        sluice_expr::to_json_string(&value),
        "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ]\n}"
    );
}

// ------------------------------------------------------------------ limits

fn is_depth_error(result: Result<sluice_expr::Expr, ExprError>) -> bool {
    matches!(result, Err(error) if error.message == "Exceeded max expression depth 50" && error.position.is_none())
}

#[test]
fn depth_limit_counts_tree_levels() {
    let nots = |n: usize| format!("{}true", "!".repeat(n));
    assert!(parse(&nots(MAX_DEPTH - 1), &Allowed::new()).is_ok());
    assert!(is_depth_error(parse(&nots(MAX_DEPTH), &Allowed::new())));

    // Comparison chains nest to the left; GitHub counts them too.
    let chain = |n: usize| vec!["1"; n].join(" == ");
    assert!(parse(&chain(MAX_DEPTH), &Allowed::new()).is_ok());
    assert!(is_depth_error(parse(
        &chain(MAX_DEPTH + 1),
        &Allowed::new()
    )));

    // Flattened && chains are one level however long.
    assert!(parse(&vec!["1"; 4000].join(" && "), &Allowed::new()).is_ok());
}

#[test]
fn depth_limit_bounds_pathological_nesting_without_overflowing_the_stack() {
    let allowed = Allowed::everything_for_contexts(["a"]);
    for source in [
        format!("{}1{}", "(".repeat(100_000 / 10), ")".repeat(100_000 / 10)),
        "!".repeat(20_000),
        format!("a{}", ".b".repeat(10_000)),
        format!("a{}", "[0]".repeat(6_000)),
        format!("{}1{}", "format(".repeat(2_500), ")".repeat(2_500)),
        format!("{}1", "1 < ".repeat(5_000)),
        format!("{}1{}", "a[".repeat(5_000), "]".repeat(5_000)),
    ] {
        assert!(
            is_depth_error(parse(&source, &allowed)),
            "{}",
            &source[..20]
        );
    }
}

#[test]
fn overlong_expressions_are_rejected() {
    let source = "a".repeat(21_001);
    let error = parse(&source, &Allowed::any()).unwrap_err();
    assert_eq!(error.message, "Exceeded max expression length 21000");
}

#[test]
fn memory_limit_stops_exponential_growth() {
    // Each level multiplies the length by 200: it would reach 10^18 bytes.
    let mut source = "'x'".to_owned();
    for _ in 0..8 {
        source = format!("format('{}', {source})", "{0}".repeat(200));
    }
    let error = eval(&source).unwrap_err();
    assert!(
        error
            .message
            .starts_with("The maximum allowed memory size was exceeded while evaluating the following expression: format(")
    );
    assert_eq!(error.kind, ErrorKind::Evaluation);

    // Growth through toJSON (indentation grows with depth) and join is
    // bounded the same way.
    let deep = format!(
        "{}{}0{}",
        "[".repeat(100),
        "1,".repeat(5_000),
        "]".repeat(100)
    );
    let error = eval(&format!("toJSON(fromJSON('{deep}'))")).unwrap_err();
    assert!(
        error
            .message
            .starts_with("The maximum allowed memory size was exceeded")
    );
    let wide = format!("fromJSON(format('[{}0]', 1))", "{0},".repeat(250));
    let error = eval(&format!(
        "join({wide}, format('{}', 'separator'))",
        "{0}".repeat(250)
    ))
    .unwrap_err();
    assert!(
        error
            .message
            .starts_with("The maximum allowed memory size was exceeded")
    );
}

#[test]
fn large_results_within_the_budget_are_fine() {
    // 300 KB string: well within 1 MiB.
    let source = format!(
        "format('{}', format('{}', 'xyz'))",
        "{0}".repeat(250),
        "{0}".repeat(400)
    );
    match eval(&source).unwrap() {
        Value::String(s) => assert_eq!(s.len(), 300_000),
        other => panic!("unexpected {other:?}"),
    }
}

// -------------------------------------------------------------- robustness

#[test]
fn odd_inputs_never_panic() {
    let inputs = [
        "'",
        "''",
        "'''",
        "(",
        ")",
        "[",
        "]",
        ".",
        "..",
        "*",
        ",",
        "!",
        "!=",
        "=",
        "&",
        "|",
        "&&",
        "||",
        "<",
        ">=",
        "a.",
        "a.*.",
        "a[",
        "a[*",
        "a[*]]",
        "a[]",
        "f(",
        "f(,",
        "format(",
        "format('{0}',)",
        "format(1 2)",
        "matrix.*.*[*][0]",
        "-",
        "+",
        "-.",
        "+.5",
        "0x",
        "0o8",
        "1e",
        "1e+",
        "..5",
        "NaN.x",
        "true.x",
        "null[0]",
        "'a'[0]",
        "(1)[0]",
        "(1).x",
        "toJSON(matrix)[0]",
        "fromJSON('[1,2]')[*]",
        "case(",
        "case(true,1)",
        "case(1,2,3)",
        "join(fromJSON('[]'), fromJSON('{}'))",
        "\u{0}",
        "\u{feff}1",
        "1\u{a0}== 1",
        "🙂.x",
        "github.event.labels[*].name[0]",
        "format('{255}')",
        "format('{0:')",
        "format('}')",
        "contains(matrix, 1)",
        "startsWith(matrix.list, 1)",
        "${{",
        "}}",
        "${{ }}",
        "${{ 'a }}",
        "${{ x }} ${{",
    ];
    for input in inputs {
        let _ = parse(input, &Allowed::any()).map(|expr| evaluate(&expr, &host()));
        let _ = parse(input, &allowed()).map(|expr| evaluate(&expr, &host()));
        let _ = Template::parse(input, &allowed()).map(|template| template.evaluate(&host()));
    }
}

#[test]
fn error_positions_count_characters() {
    let error = parse("'ü' == nope", &allowed()).unwrap_err();
    assert_eq!(error.position, Some(8));
    assert!(
        error
            .message
            .contains("Located at position 8 within expression")
    );
}

#[test]
fn unexpected_end_reports_the_last_token() {
    let error = parse("format('a',", &allowed()).unwrap_err();
    assert_eq!(
        error.message,
        "Unexpected end of expression: ','. Located at position 11 within expression: format('a',"
    );
    let error = parse("matrix.", &allowed()).unwrap_err();
    assert!(
        error
            .message
            .starts_with("Unexpected end of expression: '.'")
    );
}

#[test]
fn trailing_commas_in_calls_are_rejected() {
    let error = parse("format('a',)", &allowed()).unwrap_err();
    assert!(error.message.starts_with("Unexpected symbol: ')'"));
}

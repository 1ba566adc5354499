//! What the client subcommands read from and print on the terminal:
//! arguments as JSON values, results and events as JSON lines, errors as
//! `URI: args kwargs`.

use std::io::Write as _;

use wamp::{ApplicationError, Dict, List, Value};

/// One command-line argument as a WAMP value: JSON when it parses (`2`, `true`,
/// `"quoted"`, `{"a": 1}`), a string otherwise. An argument that starts
/// like a JSON object or array (`{`, `[`) must parse: a typo there is an
/// error rather than a string nobody meant to send. `strings` sends every
/// argument as it is, as a string (Autobahn's CLI does only that).
pub(crate) fn parse_arg(what: &str, text: &str, strings: bool) -> Result<Value, String> {
    if strings {
        return Ok(Value::Str(text.to_owned()));
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => Ok(Value::from(v)),
        Err(e) if text.trim_start().starts_with(['{', '[']) => Err(format!(
            "{what} {text:?} is not valid JSON ({e}); pass --strings to send it as text"
        )),
        Err(_) => Ok(Value::Str(text.to_owned())),
    }
}

/// Positional arguments and `--keyword NAME VALUE` pairs as a payload.
pub(crate) fn parse_payload(
    args: &[String],
    keywords: &[String],
    strings: bool,
) -> Result<(List, Dict), String> {
    let list = args
        .iter()
        .enumerate()
        .map(|(i, a)| parse_arg(&format!("argument {}", i + 1), a, strings))
        .collect::<Result<List, _>>()?;
    let mut dict = Dict::new();
    for pair in keywords.chunks(2) {
        let [name, value] = pair else {
            return Err("--keyword takes a NAME and a VALUE".into());
        };
        if name.is_empty() {
            return Err("--keyword: the NAME is empty".into());
        }
        let value = parse_arg(&format!("--keyword {name}"), value, strings)?;
        dict.insert(name.clone(), value);
    }
    Ok((list, dict))
}

/// A value as JSON (binary values as the spec's `"\0" + base64`).
pub(crate) fn json(v: &impl serde::Serialize, pretty: bool) -> String {
    let out = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    out.unwrap_or_else(|e| format!("\"<not representable as JSON: {e}>\""))
}

/// A result (or progressive result): its single positional value when that
/// is all it has, `null` when it has nothing, `{"args": [...], "kwargs": {...}}`
/// otherwise.
pub(crate) fn result_json(args: &List, kwargs: &Dict, pretty: bool) -> String {
    match (args.as_slice(), kwargs.is_empty()) {
        ([], true) => "null".into(),
        ([one], true) => json(one, pretty),
        _ => payload_json(args, kwargs, pretty),
    }
}

/// `{"args": [...], "kwargs": {...}}`, as Autobahn's CLI prints events.
pub(crate) fn payload_json(args: &List, kwargs: &Dict, pretty: bool) -> String {
    let mut m = Dict::new();
    m.insert("args".into(), Value::List(args.clone()));
    m.insert("kwargs".into(), Value::Dict(kwargs.clone()));
    json(&Value::Dict(m), pretty)
}

/// An ERROR as one line: `URI: [args] {kwargs}`, each part only when present.
pub(crate) fn error_line(e: &ApplicationError) -> String {
    let mut line = format!("{}:", e.error);
    if !e.args.is_empty() {
        line.push(' ');
        line.push_str(&json(&e.args, false));
    }
    if !e.kwargs.is_empty() {
        line.push(' ');
        line.push_str(&json(&e.kwargs, false));
    }
    line
}

/// Prints a line on stdout and flushes it (a pipe sees each line at once);
/// `false` when stdout is gone (the reader went away).
pub(crate) fn say(line: &str) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|_| out.flush()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_json_when_they_parse() {
        assert_eq!(parse_arg("a", "2", false).unwrap(), Value::UInt(2));
        assert_eq!(parse_arg("a", "-2.5", false).unwrap(), Value::Float(-2.5));
        assert_eq!(
            parse_arg("a", "hello", false).unwrap(),
            Value::Str("hello".into())
        );
        assert_eq!(parse_arg("a", "\"2\"", false).unwrap(), Value::Str("2".into()));
        assert_eq!(parse_arg("a", "2", true).unwrap(), Value::Str("2".into()));
        assert!(matches!(
            parse_arg("a", r#"{"a":1}"#, false).unwrap(),
            Value::Dict(_)
        ));
        let e = parse_arg("argument 1", "{\"a\":", false).unwrap_err();
        assert!(e.contains("argument 1") && e.contains("not valid JSON"), "{e}");
        assert_eq!(parse_arg("a", "{oops", true).unwrap(), Value::Str("{oops".into()));
    }

    #[test]
    fn results_print_as_json() {
        let one = vec![Value::UInt(5)];
        assert_eq!(result_json(&one, &Dict::new(), false), "5");
        assert_eq!(result_json(&List::new(), &Dict::new(), false), "null");
        let mut kw = Dict::new();
        kw.insert("c".into(), Value::Bool(true));
        assert_eq!(
            result_json(&one, &kw, false),
            r#"{"args":[5],"kwargs":{"c":true}}"#
        );
        let e = ApplicationError::new("com.x.error")
            .with_arg("no")
            .with_kwarg("n", 1);
        assert_eq!(error_line(&e), r#"com.x.error: ["no"] {"n":1}"#);
        assert_eq!(error_line(&ApplicationError::new("com.x.e")), "com.x.e:");
    }
}

//! Small helpers for the examples' `check` functions, which say what a
//! frontend must print against any backend that behaves like Autobahn's.

/// `got` must be exactly `expected`.
pub fn lines(got: &[String], expected: &[&str]) -> Result<(), String> {
    if got == expected {
        return Ok(());
    }
    Err(format!("expected lines {expected:#?}\ngot {got:#?}"))
}

/// `cond` must hold; `what` explains the failure.
pub fn that(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    cond.then_some(()).ok_or_else(what)
}

/// The numbers ending the lines that start with `prefix`.
pub fn trailing_numbers(lines: &[String], prefix: &str) -> Vec<i64> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix(prefix))
        .filter_map(|rest| rest.rsplit(' ').next()?.parse().ok())
        .collect()
}

/// Whether each number is one more than the one before.
pub fn consecutive(numbers: &[i64]) -> bool {
    numbers.windows(2).all(|w| w[1] == w[0] + 1)
}

//! Time service (Autobahn's `rpc/timeservice`): the backend registers
//! `com.timeservice.now`, which answers the current UTC time as
//! `YYYY-MM-DDTHH:MM:SSZ`; the frontend calls it once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wamp::Session;

use crate::{describe_call_error, expect, Backend, BoxError, Transcript};

/// The time service.
pub struct TimeService;

#[wamp::service]
impl TimeService {
    /// The current time in UTC, formatted like Python's
    /// `datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")`.
    #[wamp::procedure("com.timeservice.now")]
    async fn now(&self) -> String {
        utc_timestamp(SystemTime::now())
    }
}

/// Formats a time as `YYYY-MM-DDTHH:MM:SSZ` in UTC.
pub fn utc_timestamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`), to need no date crate.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Registers the time service.
pub async fn backend(session: Session, _interval: Duration) -> Result<Backend, BoxError> {
    let log = Transcript::new();
    let attached = session.attach(TimeService).await?;
    log.say("Registered com.timeservice.now");
    Ok(Backend::new(log).with_attached(attached))
}

/// Asks the time service for the time.
pub async fn frontend(session: Session, _interval: Duration) -> Result<Vec<String>, BoxError> {
    let out = Transcript::new();
    match TimeServiceClient::new(session).now().await {
        Ok(now) => out.say(format!("Current time from time service: {now}")),
        Err(e) => out.say(format!("Error: {}", describe_call_error(&e))),
    }
    Ok(out.lines())
}

/// Checks the frontend's output: the current UTC time (within five minutes
/// of this machine's clock) as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn check(lines: &[String]) -> Result<(), String> {
    let now = lines
        .first()
        .and_then(|l| l.strip_prefix("Current time from time service: "));
    let now = now.ok_or_else(|| format!("no time in {lines:?}"))?;
    let around = |secs: u64, later: bool| {
        let d = Duration::from_secs(secs);
        utc_timestamp(if later {
            SystemTime::now() + d
        } else {
            SystemTime::now() - d
        })
    };
    // These timestamps sort as text.
    let (earliest, latest) = (around(300, false), around(300, true));
    expect::that(
        lines.len() == 1 && now.len() == 20 && earliest.as_str() <= now && now <= latest.as_str(),
        || format!("{now:?} is not the current UTC time as YYYY-MM-DDTHH:MM:SSZ"),
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps() {
        let at = |s| super::utc_timestamp(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}

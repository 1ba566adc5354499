//! Unit tests of the `[[components]]` entries: every key, the secrets'
//! sources, and the errors.

use super::*;

const KEY: &str = "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510";

/// A component's resolution with a fake environment.
fn resolve(file: &ConfigFile, name: &str, env: &[(&str, &str)]) -> Result<ComponentConfig, String> {
    let entry = file
        .sections
        .components
        .iter()
        .find(|c| c.name() == name)
        .unwrap();
    let lookup = |var: &str| env.iter().find(|(k, _)| *k == var).map(|(_, v)| v.to_string());
    entry.resolve(&file.source, &lookup).map_err(|e| e.to_string())
}

fn parse_err(text: &str) -> String {
    ConfigFile::parse(text).unwrap_err().to_string()
}

fn ticket_of(c: &Credentials) -> &str {
    match c {
        Credentials::Ticket(t) | Credentials::WampCra(t) => t,
        other => panic!("no secret in {other:?}"),
    }
}

#[test]
fn every_key_is_read() {
    let file = ConfigFile::parse(&format!(
        r#"
[[components]]
name = "full"
realm = "realm1"
serializers = ["cbor", "json"]
authid = "alice"
authrole = "backend"
authextra = {{ tier = "gold", quota = 7, debt = -3, ratio = 0.5, beta = true, tags = ["a"], nested = {{ k = "v" }}, since = 2026-01-02 }}

[[components.transports]]
url = "ws://127.0.0.1:8080/ws"
max_retries = 5
initial_retry_delay = 0.25
retry_delay_growth = 2
retry_delay_jitter = 0
max_retry_delay = 10

[[components.transports]]
url = "rs://unix:/run/wamp.sock"

[components.auth]
cryptosign = {{ private_key = "{KEY}" }}
wampcra = {{ secret = "cra-secret" }}
ticket = "the-ticket"
anonymous = true
"#
    ))
    .unwrap();
    let c = file.component("full").unwrap();
    assert_eq!((c.name.as_str(), c.realm.as_str()), ("full", "realm1"));
    assert_eq!(c.transports.len(), 2);
    let t = &c.transports[0];
    assert_eq!(t.url, "ws://127.0.0.1:8080/ws");
    assert_eq!(
        t.reconnect,
        ReconnectPolicy {
            max_retries: 5,
            initial_retry_delay: Duration::from_millis(250),
            retry_delay_growth: 2.0,
            retry_delay_jitter: 0.0,
            max_retry_delay: Duration::from_secs(10),
        }
    );
    assert_eq!(c.transports[1].url, "rs://unix:/run/wamp.sock");
    assert_eq!(c.transports[1].reconnect, ReconnectPolicy::default());

    let s = &c.session;
    assert_eq!(s.serializers, [Serializer::Cbor, Serializer::Json]);
    assert_eq!(s.authid.as_deref(), Some("alice"));
    assert_eq!(s.authrole.as_deref(), Some("backend"));
    let x = &s.authextra;
    assert_eq!(x["tier"], Value::Str("gold".into()));
    assert_eq!(x["quota"], Value::UInt(7));
    assert_eq!(x["debt"], Value::Int(-3));
    assert_eq!(x["ratio"], Value::Float(0.5));
    assert_eq!(x["beta"], Value::Bool(true));
    assert_eq!(x["tags"], Value::List(vec![Value::Str("a".into())]));
    assert_eq!(x["nested"].as_dict().unwrap()["k"], Value::Str("v".into()));
    assert_eq!(x["since"], Value::Str("2026-01-02".into()));

    // Strongest method first, whatever the order in the file.
    let methods: Vec<&str> = s.auth.iter().map(Credentials::method).collect();
    assert_eq!(methods, ["cryptosign", "wampcra", "ticket", "anonymous"]);
    let Credentials::Cryptosign(key) = &s.auth[0] else {
        unreachable!()
    };
    assert_eq!(key.private_key_hex(), KEY);
    assert_eq!(ticket_of(&s.auth[1]), "cra-secret");
    assert_eq!(ticket_of(&s.auth[2]), "the-ticket");
}

#[test]
fn defaults_are_the_sessions_and_autobahns() {
    let file = ConfigFile::parse(
        "[[components]]\nname = \"c\"\nrealm = \"r\"\ntransports = [{ url = \"rs://127.0.0.1:8081\" }]\n",
    )
    .unwrap();
    let c = file.component("c").unwrap();
    let default = SessionConfig::default();
    assert_eq!(c.session.serializers, default.serializers);
    assert!(c.session.auth.is_empty() && c.session.authid.is_none() && c.session.authextra.is_empty());
    assert_eq!(c.transports[0].reconnect, ReconnectPolicy::default());
}

#[test]
fn secrets_come_from_the_environment_and_files() {
    let dir = std::env::temp_dir().join(format!("wamp-config-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("plain.key");
    std::fs::write(&plain, format!("{KEY}\n")).unwrap();
    // The format of Crossbar.io's and Autobahn's key files.
    let crossbar = dir.join("crossbar.key");
    std::fs::write(
        &crossbar,
        format!("# a comment\ncreator: test\npublic-key-ed25519: 00\nprivate-key-ed25519: {KEY}\n"),
    )
    .unwrap();
    let text = format!(
        r#"
[[components]]
name = "env"
realm = "r"
authid = "joe"
transports = [{{ url = "ws://h/ws" }}]
auth = {{ ticket_env = "T", wampcra = {{ secret_env = "S" }}, cryptosign = {{ private_key_env = "K" }} }}

[[components]]
name = "plain-file"
realm = "r"
transports = [{{ url = "ws://h/ws" }}]
auth = {{ cryptosign = {{ private_key_file = "{}" }} }}

[[components]]
name = "crossbar-file"
realm = "r"
transports = [{{ url = "ws://h/ws" }}]
auth = {{ cryptosign = {{ private_key_file = "{}" }} }}

[[components]]
name = "missing-file"
realm = "r"
transports = [{{ url = "ws://h/ws" }}]
auth = {{ cryptosign = {{ private_key_file = "{}" }} }}
"#,
        plain.display(),
        crossbar.display(),
        dir.join("nope.key").display()
    );
    let file = ConfigFile::parse(&text).unwrap();
    let c = resolve(&file, "env", &[("T", "tick"), ("S", "cra"), ("K", KEY)]).unwrap();
    let methods: Vec<&str> = c.session.auth.iter().map(Credentials::method).collect();
    assert_eq!(methods, ["cryptosign", "wampcra", "ticket"]);
    assert_eq!(ticket_of(&c.session.auth[1]), "cra");
    assert_eq!(ticket_of(&c.session.auth[2]), "tick");

    let e = resolve(&file, "env", &[("S", "cra"), ("K", KEY)]).unwrap_err();
    assert!(
        e.contains("line 7") && e.contains("`components.auth.ticket_env`"),
        "{e}"
    );
    assert!(
        e.contains("environment variable T is not set") && e.contains("\"env\""),
        "{e}"
    );
    let e = resolve(&file, "env", &[("T", "tick"), ("S", " "), ("K", KEY)]).unwrap_err();
    assert!(e.contains("environment variable S is empty"), "{e}");
    let e = resolve(&file, "env", &[("T", "t"), ("S", "s"), ("K", "beef")]).unwrap_err();
    assert!(
        e.contains("private_key_env") && e.contains("2 bytes, expected 32"),
        "{e}"
    );

    for name in ["plain-file", "crossbar-file"] {
        let c = resolve(&file, name, &[]).unwrap();
        let [Credentials::Cryptosign(key)] = &c.session.auth[..] else {
            panic!("{:?}", c.session.auth)
        };
        assert_eq!(key.private_key_hex(), KEY, "{name}");
    }
    let e = resolve(&file, "missing-file", &[]).unwrap_err();
    assert!(
        e.contains("line 25") && e.contains("cannot read") && e.contains("nope.key"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_component_names_list_the_names_there_are() {
    let file = ConfigFile::parse(
        "[[components]]\nname = \"a\"\nrealm = \"r\"\ntransports = [{ url = \"ws://h/ws\" }]\n\
         [[components]]\nname = \"b\"\nrealm = \"r\"\ntransports = [{ url = \"ws://h/ws\" }]\n",
    )
    .unwrap();
    let e = file.component("c").unwrap_err();
    assert!(matches!(&e, ConfigError::NoSuchComponent { name, .. } if name == "c"));
    assert_eq!(
        e.to_string(),
        "no component named \"c\"; the file has [\"a\", \"b\"]"
    );
    let e = ConfigFile::parse("").unwrap().component("c").unwrap_err();
    assert_eq!(
        e.to_string(),
        "no component named \"c\"; the file has no [[components]]"
    );
}

#[test]
fn mistakes_name_the_key_and_line() {
    let head = "[[components]]\nname = \"c\"\nrealm = \"r\"\n";
    let with = |rest: &str| parse_err(&format!("{head}{rest}"));
    let url = "transports = [{ url = \"ws://h/ws\" }]\n";
    let cases: Vec<(String, &[&str])> = vec![
        // Unknown keys, wrong types, unknown names.
        (with(&format!("{url}colour = \"blue\"\n")), &["line 5", "colour"]),
        (
            with("[[components.transports]]\nurl = \"ws://h/ws\"\nmax_retry = 3\n"),
            &["line 6", "max_retry", "`components.transports`"],
        ),
        (
            with("transports = [{ url = 8080 }]\n"),
            &["line 4", "`components.transports.url`", "expected a string"],
        ),
        (
            with("transports = [{ url = \"ws://h/ws\", max_retries = \"forever\" }]\n"),
            &["line 4", "`components.transports.max_retries`", "expected i64"],
        ),
        (
            with(&format!("{url}serializers = [\"xml\"]\n")),
            &["line 5", "`components.serializers`", "xml", "msgpack"],
        ),
        (
            with(&format!("{url}auth = {{ kerberos = true }}\n")),
            &["line 5", "kerberos", "`components.auth`"],
        ),
        (
            with(&format!("{url}auth = {{ wampcra = \"secret\" }}\n")),
            &["line 5", "`components.auth.wampcra`"],
        ),
        (
            parse_err("[[components]]\nrealm = \"r\"\ntransports = []\n"),
            &["line 1", "missing field `name`"],
        ),
        (with(""), &["missing field `transports`"]),
        // Bad values.
        (
            with("transports = [{ url = \"http://h/ws\" }]\n"),
            &[
                "line 4",
                "`components.transports.url`",
                "component \"c\"",
                "http://h/ws",
                "ws://",
            ],
        ),
        (
            with("transports = [{ url = \"ws:///ws\" }]\n"),
            &["line 4", "`components.transports.url`", "no host"],
        ),
        (with("transports = []\n"), &["line 4", "no transports"]),
        (
            with("transports = [{ url = \"ws://h/ws\", max_retries = -2 }]\n"),
            &["line 4", "max_retries", "-2"],
        ),
        (
            with("transports = [{ url = \"ws://h/ws\", initial_retry_delay = -1 }]\n"),
            &["line 4", "initial_retry_delay", "not a delay"],
        ),
        (
            with("transports = [{ url = \"ws://h/ws\", max_retry_delay = nan }]\n"),
            &["line 4", "max_retry_delay", "not a delay"],
        ),
        (
            with("transports = [{ url = \"ws://h/ws\", retry_delay_growth = 0.5 }]\n"),
            &["line 4", "retry_delay_growth"],
        ),
        (
            with("transports = [{ url = \"ws://h/ws\", retry_delay_jitter = 2 }]\n"),
            &["line 4", "retry_delay_jitter"],
        ),
        (
            with(&format!("{url}serializers = []\n")),
            &["line 5", "no serializers"],
        ),
        (
            parse_err(&format!("{head}{url}{head}{url}")),
            &["line 6", "`components.name`", "second component named \"c\""],
        ),
        (
            with(&format!(
                "{url}[components.auth]\nticket = \"a\"\nticket_env = \"B\"\n"
            )),
            &["line 6", "`components.auth.ticket`", "not both"],
        ),
        (
            with(&format!("{url}authid = \"u\"\nauth = {{ wampcra = {{}} }}\n")),
            &["line 6", "`components.auth.wampcra`", "secret, secret_env"],
        ),
        (
            with(&format!("{url}auth = {{ wampcra = {{ secret = \"s\" }} }}\n")),
            &["line 5", "needs an `authid`"],
        ),
        (
            with(&format!(
                "{url}auth = {{ cryptosign = {{ private_key = \"{KEY}\", private_key_env = \"K\" }} }}\n"
            )),
            &["line 5", "`components.auth.cryptosign`", "not several"],
        ),
        (
            with(&format!(
                "{url}auth = {{ cryptosign = {{ private_key = \"xyz\" }} }}\n"
            )),
            &["line 5", "`components.auth.cryptosign.private_key`", "not hex"],
        ),
        (
            with(&format!("{url}auth = {{ ticket = \"\" }}\n")),
            &["line 5", "`components.auth.ticket`", "empty"],
        ),
    ];
    for (e, wanted) in cases {
        for w in wanted {
            assert!(e.contains(w), "{w:?} not in: {e}");
        }
    }
}

#[test]
fn a_component_from_a_file_keeps_its_settings() {
    let dir = std::env::temp_dir().join(format!("wamp-config-component-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wamp.toml");
    std::fs::write(
        &path,
        "[[components]]\nname = \"c\"\nrealm = \"realm9\"\ntransports = [{ url = \"ws://h:1/ws\" }]\n",
    )
    .unwrap();
    let c = Component::from_config_file(&path, "c").unwrap();
    let debug = format!("{c:?}");
    assert!(
        debug.contains("realm9") && debug.contains("ws://h:1/ws"),
        "{debug}"
    );
    let e = Component::from_config_file(&path, "d").unwrap_err().to_string();
    assert!(
        e.starts_with(&path.display().to_string()) && e.contains("[\"c\"]"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

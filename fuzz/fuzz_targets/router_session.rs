//! One in-process session driven by an arbitrary sequence of messages
//! against the embedded router, with a well-behaved bystander session
//! (a registered procedure, a subscribed topic) beside it.
//!
//! Invariants: no panic; every request that needs an answer gets it
//! (SUBSCRIBED, RESULT, ERROR, ...) unless the router ended the session
//! with an ABORT or GOODBYE carrying a reason; no answer comes for a
//! request never made; the bystander stays joined and can still call its
//! own procedure. Current-thread runtime, paused time, at most 64 steps.
#![no_main]

use std::collections::{HashMap, HashSet};
use std::time::Duration;
use wamp_proto::msg;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tokio::sync::{mpsc, oneshot};
use wamp_proto::transport::Connection;
use wamp_proto::uri::MatchPolicy;
use wamp_proto::{
    CallOptions, CancelMode, CancelOptions, Dict, HelloDetails, Id, InvokePolicy, Message, MessageType,
    PublishOptions, RegisterOptions, SubscribeOptions, Value, YieldOptions,
};
use wamp_router::{Router, RouterConfig};

const REALM: &str = "realm1";
const BYSTANDER_PROC: &str = "com.bystander.proc";
const BYSTANDER_TOPIC: &str = "com.bystander.topic";
/// A small alphabet of URIs, so that subscriptions, registrations, calls
/// and publications meet; a few are invalid.
const URIS: [&str; 10] = [
    "com.a",
    "com.a.b",
    "com",
    BYSTANDER_PROC,
    BYSTANDER_TOPIC,
    "com..b",
    "com.bystander",
    "",
    "com.A!",
    "wamp.session.x",
];
const MAX_STEPS: usize = 64;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum ReqId {
    /// The session's next request ID, as a well-behaved client picks it.
    Next,
    /// Any ID at all (zero, reused, above 2^53).
    Raw(u64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Which {
    /// The n-th ID the router gave this session (subscription,
    /// registration, invocation, call), modulo how many there are.
    Known(u8),
    Raw(u64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Policy {
    Default,
    Exact,
    Prefix,
    Wildcard,
}

#[derive(Arbitrary, Debug)]
enum Arg {
    Nothing,
    Int(i64),
    Float(f64),
    Uri(u8),
    Bytes(Vec<u8>),
    Nested(u8),
}

#[derive(Arbitrary, Debug)]
enum Step {
    Hello {
        realm_ok: bool,
        roles: bool,
    },
    Goodbye,
    Abort,
    Subscribe {
        id: ReqId,
        topic: u8,
        policy: Policy,
    },
    Unsubscribe {
        id: ReqId,
        which: Which,
    },
    Publish {
        id: ReqId,
        topic: u8,
        acknowledge: bool,
        exclude_me: Option<bool>,
        arg: Arg,
    },
    Register {
        id: ReqId,
        procedure: u8,
        policy: Policy,
        invoke: u8,
        concurrency: Option<u8>,
    },
    Unregister {
        id: ReqId,
        which: Which,
    },
    Call {
        id: ReqId,
        procedure: u8,
        timeout: Option<u16>,
        progress: bool,
        arg: Arg,
    },
    Cancel {
        which: Which,
        mode: u8,
    },
    Yield {
        which: Which,
        progress: bool,
        arg: Arg,
    },
    InvocationError {
        which: Which,
    },
    /// A message only a router sends, or one that answers nothing.
    Stray {
        kind: u8,
        id: u64,
    },
    /// Lets `ms` of (paused) time pass: call timeouts, the HELLO timeout.
    Wait {
        ms: u16,
    },
}

/// What kind of answer a request waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Subscribe,
    Unsubscribe,
    Publish,
    Register,
    Unregister,
    Call,
}

/// What the harness knows of the fuzzed session.
#[derive(Default)]
struct State {
    next_id: Id,
    outstanding: HashMap<Id, Kind>,
    /// IDs used for two requests at once: their answers are not checked.
    ambiguous: HashSet<Id>,
    subscriptions: Vec<Id>,
    registrations: Vec<Id>,
    invocations: Vec<Id>,
    calls: Vec<Id>,
    /// The ABORT or GOODBYE the router ended the session with.
    closed_by_router: Option<String>,
    /// This side sent GOODBYE or ABORT.
    left: bool,
    /// The receiver ended.
    ended: bool,
}

impl State {
    fn id(&mut self, id: ReqId) -> Id {
        match id {
            ReqId::Next => {
                self.next_id += 1;
                self.next_id
            }
            ReqId::Raw(id) => id,
        }
    }

    fn expect(&mut self, id: Id, kind: Kind) {
        if self.outstanding.insert(id, kind).is_some() || self.ambiguous.contains(&id) {
            self.ambiguous.insert(id);
        }
    }

    fn pick(&self, ids: &[Id], which: Which) -> Id {
        match which {
            Which::Known(n) if !ids.is_empty() => ids[n as usize % ids.len()],
            Which::Known(n) => n as Id,
            Which::Raw(id) => id,
        }
    }

    /// An answer to request `id` of `kind`: it must be one this session is waiting for.
    fn answered(&mut self, id: Id, kind: Kind, last: bool, msg: &Message) {
        if self.ambiguous.contains(&id) {
            if last {
                self.outstanding.remove(&id);
            }
            return;
        }
        match self.outstanding.get(&id) {
            Some(k) if *k == kind => {
                if last {
                    self.outstanding.remove(&id);
                }
            }
            other => panic!("{msg:?} answers no request (waiting for {other:?} under {id})"),
        }
    }

    /// Whether an UNSUBSCRIBED or UNREGISTERED for `request` is the
    /// router's revocation rather than an answer.
    fn revocation(&self, request: Id, kind: Kind) -> bool {
        request == 0 && self.outstanding.get(&0) != Some(&kind)
    }

    fn receive(&mut self, msg: Message) {
        match &msg {
            Message::Welcome(_) => {}
            Message::Abort(msg::Abort { reason, .. }) | Message::Goodbye(msg::Goodbye { reason, .. }) => {
                assert!(!reason.is_empty(), "the session ended without a reason: {msg:?}");
                self.closed_by_router.get_or_insert(reason.clone());
            }
            Message::Subscribed(msg::Subscribed {
                request,
                subscription,
            }) => {
                self.subscriptions.push(*subscription);
                self.answered(*request, Kind::Subscribe, true, &msg);
            }
            // Request 0 is also how the router revokes (no request): an
            // answer only if this session sent a request 0 of that kind.
            Message::Unsubscribed(msg::Unsubscribed { request, .. })
                if !self.revocation(*request, Kind::Unsubscribe) =>
            {
                self.answered(*request, Kind::Unsubscribe, true, &msg)
            }
            Message::Published(msg::Published { request, .. }) => {
                self.answered(*request, Kind::Publish, true, &msg)
            }
            Message::Registered(msg::Registered {
                request,
                registration,
            }) => {
                self.registrations.push(*registration);
                self.answered(*request, Kind::Register, true, &msg);
            }
            Message::Unregistered(msg::Unregistered { request, .. })
                if !self.revocation(*request, Kind::Unregister) =>
            {
                self.answered(*request, Kind::Unregister, true, &msg)
            }
            Message::Result(msg::Result { request, details, .. }) => {
                let last = details.progress != Some(true);
                self.answered(*request, Kind::Call, last, &msg);
            }
            Message::Error(msg::Error {
                request_type,
                request,
                ..
            }) => {
                let kind = match request_type {
                    MessageType::Subscribe => Kind::Subscribe,
                    MessageType::Unsubscribe => Kind::Unsubscribe,
                    MessageType::Publish => Kind::Publish,
                    MessageType::Register => Kind::Register,
                    MessageType::Unregister => Kind::Unregister,
                    MessageType::Call => Kind::Call,
                    other => panic!("ERROR for a {other} from the router: {msg:?}"),
                };
                self.answered(*request, kind, true, &msg);
            }
            Message::Invocation(m) => self.invocations.push(m.request),
            Message::Interrupt(msg::Interrupt { .. }) | Message::Event(_) => {}
            Message::Unsubscribed(msg::Unsubscribed { .. })
            | Message::Unregistered(msg::Unregistered { .. }) => {} // revocations
            other => panic!("a router sent a client {other:?}"),
        }
    }
}

fn uri(n: u8) -> String {
    URIS[n as usize % URIS.len()].to_owned()
}

fn policy(p: Policy) -> Option<MatchPolicy> {
    match p {
        Policy::Default => None,
        Policy::Exact => Some(MatchPolicy::Exact),
        Policy::Prefix => Some(MatchPolicy::Prefix),
        Policy::Wildcard => Some(MatchPolicy::Wildcard),
    }
}

fn args(arg: Arg) -> Vec<Value> {
    match arg {
        Arg::Nothing => vec![],
        Arg::Int(i) => vec![Value::Int(i)],
        Arg::Float(f) => vec![Value::Float(f)],
        Arg::Uri(n) => vec![Value::Str(uri(n))],
        Arg::Bytes(mut b) => {
            b.truncate(64);
            vec![Value::Bytes(b)]
        }
        Arg::Nested(depth) => {
            let mut v = Value::Null;
            for _ in 0..depth % 32 {
                v = Value::List(vec![v]);
            }
            vec![v]
        }
    }
}

fn hello(realm: &str, roles: bool) -> Message {
    let mut details = HelloDetails::default();
    if roles {
        let mut r = Dict::new();
        for role in ["caller", "callee", "publisher", "subscriber"] {
            r.insert(role.into(), Value::Dict(Dict::new()));
        }
        details.roles = Some(r);
    }
    Message::from(msg::Hello {
        realm: realm.into(),
        details,
    })
}

/// The message a step sends, if any, and the answer it waits for.
fn message(step: Step, st: &mut State) -> Option<(Message, Option<(Id, Kind)>)> {
    Some(match step {
        Step::Hello { realm_ok, roles } => (hello(if realm_ok { REALM } else { "nowhere" }, roles), None),
        Step::Goodbye => {
            st.left = true;
            (Message::goodbye("wamp.close.normal"), None)
        }
        Step::Abort => {
            st.left = true;
            (Message::abort("wamp.close.normal", "fuzz"), None)
        }
        Step::Subscribe { id, topic, policy: p } => {
            let request = st.id(id);
            let options = SubscribeOptions {
                match_policy: policy(p),
                ..Default::default()
            };
            let msg = Message::Subscribe(msg::Subscribe {
                request,
                options,
                topic: uri(topic),
            });
            (msg, Some((request, Kind::Subscribe)))
        }
        Step::Unsubscribe { id, which } => {
            let request = st.id(id);
            let subscription = st.pick(&st.subscriptions, which);
            (
                Message::Unsubscribe(msg::Unsubscribe {
                    request,
                    subscription,
                }),
                Some((request, Kind::Unsubscribe)),
            )
        }
        Step::Publish {
            id,
            topic,
            acknowledge,
            exclude_me,
            arg,
        } => {
            let request = st.id(id);
            let options = PublishOptions {
                acknowledge: Some(acknowledge),
                exclude_me,
                ..Default::default()
            };
            let msg = Message::from(msg::Publish {
                request,
                options,
                topic: uri(topic),
                payload: wamp_proto::Payload::new(args(arg), Dict::new()),
            });
            (msg, acknowledge.then_some((request, Kind::Publish)))
        }
        Step::Register {
            id,
            procedure,
            policy: p,
            invoke,
            concurrency,
        } => {
            let request = st.id(id);
            let invoke = [
                None,
                Some(InvokePolicy::Single),
                Some(InvokePolicy::RoundRobin),
                Some(InvokePolicy::Random),
                Some(InvokePolicy::First),
                Some(InvokePolicy::Last),
            ][invoke as usize % 6];
            let options = RegisterOptions {
                match_policy: policy(p),
                invoke,
                concurrency: concurrency.map(u64::from),
                ..Default::default()
            };
            let msg = Message::Register(msg::Register {
                request,
                options,
                procedure: uri(procedure),
            });
            (msg, Some((request, Kind::Register)))
        }
        Step::Unregister { id, which } => {
            let request = st.id(id);
            let registration = st.pick(&st.registrations, which);
            (
                Message::Unregister(msg::Unregister {
                    request,
                    registration,
                }),
                Some((request, Kind::Unregister)),
            )
        }
        Step::Call {
            id,
            procedure,
            timeout,
            progress,
            arg,
        } => {
            let request = st.id(id);
            st.calls.push(request);
            let options = CallOptions {
                timeout: timeout.map(u64::from),
                receive_progress: Some(progress),
                ..Default::default()
            };
            let msg = Message::from(msg::Call {
                request,
                options,
                procedure: uri(procedure),
                payload: wamp_proto::Payload::new(args(arg), Dict::new()),
            });
            (msg, Some((request, Kind::Call)))
        }
        Step::Cancel { which, mode } => {
            let request = st.pick(&st.calls, which);
            let mode = [
                None,
                Some(CancelMode::Skip),
                Some(CancelMode::Kill),
                Some(CancelMode::KillNoWait),
            ][mode as usize % 4];
            (
                Message::Cancel(msg::Cancel {
                    request,
                    options: CancelOptions {
                        mode,
                        ..Default::default()
                    },
                }),
                None,
            )
        }
        Step::Yield { which, progress, arg } => {
            let request = st.pick(&st.invocations, which);
            let options = YieldOptions {
                progress: Some(progress),
                ..Default::default()
            };
            let msg = Message::Yield(msg::Yield {
                request,
                options,
                payload: wamp_proto::Payload::new(args(arg), Dict::new()),
            });
            (msg, None)
        }
        Step::InvocationError { which } => {
            let request = st.pick(&st.invocations, which);
            let msg = Message::error(
                MessageType::Invocation,
                request,
                "com.error.x",
                vec![],
                Dict::new(),
            );
            (msg, None)
        }
        Step::Stray { kind, id } => {
            let msg = match kind % 8 {
                0 => Message::from(msg::Welcome {
                    session: id,
                    details: Default::default(),
                }),
                1 => Message::Subscribed(msg::Subscribed {
                    request: id,
                    subscription: id,
                }),
                2 => Message::Result(msg::Result {
                    request: id,
                    details: Default::default(),
                    payload: wamp_proto::Payload::new(vec![], Dict::new()),
                }),
                3 => Message::from(msg::Invocation {
                    request: id,
                    registration: id,
                    details: Default::default(),
                    payload: wamp_proto::Payload::new(vec![], Dict::new()),
                }),
                4 => Message::from(msg::Event {
                    subscription: id,
                    publication: id,
                    details: Default::default(),
                    payload: wamp_proto::Payload::new(vec![], Dict::new()),
                }),
                5 => Message::Authenticate(msg::Authenticate {
                    signature: "x".into(),
                    extra: Dict::new(),
                }),
                6 => Message::error(MessageType::Call, id, "com.error.x", vec![], Dict::new()),
                _ => Message::Interrupt(msg::Interrupt {
                    request: id,
                    options: Default::default(),
                }),
            };
            (msg, None)
        }
        Step::Wait { .. } => return None,
    })
}

/// Takes every message the router has for the session until nothing more
/// comes (1 ms of paused time passes only once every task waits).
async fn settle(conn: &mut Connection, st: &mut State) {
    while !st.ended {
        match tokio::time::timeout(Duration::from_millis(1), conn.receiver.recv()).await {
            Ok(Some(msg)) => st.receive(msg),
            Ok(None) => st.ended = true,
            Err(_) => return,
        }
    }
}

/// Requests to the bystander's task.
enum Ask {
    /// Call the bystander's own procedure; answers whether RESULT came.
    CallSelf(oneshot::Sender<bool>),
}

/// A well-behaved session: joins, registers BYSTANDER_PROC, subscribes to
/// BYSTANDER_TOPIC, answers every INVOCATION, and can call itself.
async fn bystander(router: &Router) -> (mpsc::Sender<Ask>, tokio::task::JoinHandle<String>) {
    let mut conn = router.connect_local();
    conn.sender
        .send(hello(REALM, true))
        .await
        .expect("bystander HELLO");
    assert!(matches!(
        conn.receiver.recv().await,
        Some(Message::Welcome(_))
    ));
    let register = Message::Register(msg::Register {
        request: 1,
        options: Default::default(),
        procedure: BYSTANDER_PROC.into(),
    });
    conn.sender.send(register).await.unwrap();
    assert!(matches!(
        conn.receiver.recv().await,
        Some(Message::Registered(msg::Registered { .. }))
    ));
    let subscribe = Message::Subscribe(msg::Subscribe {
        request: 2,
        options: Default::default(),
        topic: BYSTANDER_TOPIC.into(),
    });
    conn.sender.send(subscribe).await.unwrap();
    assert!(matches!(
        conn.receiver.recv().await,
        Some(Message::Subscribed(msg::Subscribed { .. }))
    ));
    let (tx, mut rx) = mpsc::channel(1);
    let task = tokio::spawn(async move {
        let mut request = 2;
        let mut waiting: Option<(Id, oneshot::Sender<bool>)> = None;
        loop {
            tokio::select! {
                ask = rx.recv() => match ask {
                    Some(Ask::CallSelf(done)) => {
                        request += 1;
                        let call = Message::from(msg::Call {
                            request,
                            options: Default::default(),
                            procedure: BYSTANDER_PROC.into(),                            payload: wamp_proto::Payload::new(vec![Value::Str("ping".into())], Dict::new()),
                        });
                        if conn.sender.send(call).await.is_err() {
                            return "bystander's connection closed".to_owned();
                        }
                        waiting = Some((request, done));
                    }
                    None => return String::new(),
                },
                msg = conn.receiver.recv() => match msg {
                    Some(Message::Invocation(m)) => {
                        let answer = Message::Yield(msg::Yield {
                            request: m.request,
                            options: Default::default(),
                            payload: m.payload,
                        });
                        let _ = conn.sender.send(answer).await;
                    }
                    Some(Message::Result(msg::Result { request, .. })) => {
                        if let Some((id, done)) = waiting.take() {
                            let _ = done.send(id == request);
                        }
                    }
                    Some(Message::Event(_)) | Some(Message::Interrupt(msg::Interrupt { .. })) => {}
                    Some(other) => return format!("bystander got {other:?}"),
                    None => return format!("bystander's connection ended: {:?}", conn.close_reason.get()),
                },
            }
        }
    });
    (tx, task)
}

async fn run(steps: Vec<Step>) {
    let router = Router::new(RouterConfig::default().realm(REALM));
    let (ask, bystander_task) = bystander(&router).await;
    let mut conn = router.connect_local();
    let mut st = State::default();
    for step in steps.into_iter().take(MAX_STEPS) {
        if st.ended {
            break;
        }
        if let Step::Wait { ms } = step {
            tokio::time::sleep(Duration::from_millis(ms.into())).await;
        } else if let Some((msg, expect)) = message(step, &mut st) {
            if let Some((id, kind)) = expect {
                st.expect(id, kind);
            }
            let _ = conn.sender.send(msg).await;
        }
        settle(&mut conn, &mut st).await;
    }
    // Behave at last: answer every invocation, then give pending calls
    // time to finish (timeouts included).
    for request in std::mem::take(&mut st.invocations) {
        let _ = conn
            .sender
            .send(Message::Yield(msg::Yield {
                request,
                options: Default::default(),
                payload: wamp_proto::Payload::new(vec![], Dict::new()),
            }))
            .await;
        settle(&mut conn, &mut st).await;
    }
    tokio::time::sleep(Duration::from_secs(120)).await;
    settle(&mut conn, &mut st).await;
    if st.closed_by_router.is_none() && !st.left {
        let unanswered: Vec<_> = st
            .outstanding
            .iter()
            .filter(|(id, _)| !st.ambiguous.contains(id))
            .collect();
        assert!(
            unanswered.is_empty(),
            "requests left unanswered: {unanswered:?} (ended: {})",
            st.ended
        );
        assert!(
            !st.ended,
            "the router dropped the session without ABORT or GOODBYE"
        );
    }
    drop(conn);
    let (done, answer) = oneshot::channel();
    ask.send(Ask::CallSelf(done))
        .await
        .expect("the bystander is running");
    let called = tokio::time::timeout(Duration::from_secs(60), answer).await;
    if !matches!(called, Ok(Ok(true))) {
        drop(ask);
        let why = bystander_task
            .await
            .unwrap_or_else(|e| format!("bystander panicked: {e}"));
        panic!("the bystander cannot call itself any more: {called:?}; {why}");
    }
}

fuzz_target!(|steps: Vec<Step>| {
    wamp_fuzz::paused_runtime().block_on(run(steps));
});

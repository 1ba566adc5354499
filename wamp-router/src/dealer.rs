//! The dealer: registrations (exact, prefix, wildcard; shared with invoke
//! policies), call routing, progressive results, cancellation, timeouts, and
//! cleanup when a callee or caller goes away mid-call. The router itself
//! can call too (dynamic authenticators and authorizers): such a call has
//! no caller session, its answer goes to a channel.

use std::sync::Arc;
use std::time::{Duration, SystemTime};
use wamp_proto::msg;

use tokio::sync::oneshot;
use wamp_proto::repr::ReprError;
use wamp_proto::uri::{self, MatchPolicy, UriRule};
use wamp_proto::{
    error_uri, id, meta_uri, CancelMode, Dict, Id, IdMap, InterruptOptions, InvocationDetails, InvokePolicy,
    List, Message, MessageType, ResultDetails, Value,
};

use crate::broker::Broker;
use crate::matching::PatternIndex;
use crate::meta;
use crate::realm::{send_error, send_to, Realm, Sessions, Violation};
use crate::transcode::Payload;

#[derive(Debug)]
pub(crate) struct Registration {
    pub uri: String,
    pub policy: MatchPolicy,
    pub invoke: InvokePolicy,
    disclose_caller: bool,
    /// Callees in registration order.
    pub callees: Vec<Id>,
    next: usize,
    /// When it was created, for the meta API.
    pub created: SystemTime,
}

#[derive(Debug)]
struct PendingCall {
    caller: Id,
    call_request: Id,
    receive_progress: bool,
    timer: Option<tokio::task::AbortHandle>,
    /// Where the answer goes when the router itself is the caller.
    internal: Option<oneshot::Sender<InternalOutcome>>,
    /// A call with progressive invocations (its first CALL had `progress`).
    progressive: Option<Box<ProgressiveInput>>,
}

/// What continuing a call with progressive invocations needs.
#[derive(Debug)]
struct ProgressiveInput {
    /// Continuations must name the same procedure.
    procedure: String,
    registration: Id,
    /// More CALLs may come (the last one had no `progress`, or the call
    /// was canceled: later ones are dropped).
    open: bool,
}

/// How many ended calls with progressive invocations the dealer remembers,
/// so that continuations sent before their caller learnt of the end are
/// dropped rather than taken for new calls.
const ENDED_INPUTS: usize = 4096;

/// The caller ID of calls the router makes itself; session IDs start at 1.
pub(crate) const ROUTER_CALLER: Id = 0;

/// An ERROR answering a call the router made.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InternalError {
    pub error: String,
    pub args: List,
    pub kwargs: Dict,
}

impl InternalError {
    fn new(error: &str, message: String) -> Self {
        InternalError {
            error: error.to_owned(),
            args: vec![Value::Str(message)],
            kwargs: Dict::new(),
        }
    }

    /// The error's message (its first argument, when a string).
    pub fn message(&self) -> Option<String> {
        self.args.first().map(|a| match a {
            Value::Str(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

/// The answer to a call the router made: RESULT (args, kwargs) or ERROR.
pub(crate) type InternalOutcome = Result<(List, Dict), InternalError>;

/// Hands an answer to the caller: its session, or the router's channel.
fn answer(sessions: &Sessions, call: PendingCall, msg: Message) {
    match call.internal {
        None => send_to(sessions, call.caller, msg),
        Some(tx) => {
            let outcome = match msg {
                Message::Result(msg::Result { payload, .. }) => payload.into_values().map_err(undecodable),
                Message::Error(msg::Error { error, payload, .. }) => match payload.into_values() {
                    Ok((args, kwargs)) => Err(InternalError { error, args, kwargs }),
                    Err(e) => Err(undecodable(e)),
                },
                _ => return,
            };
            let _ = tx.send(outcome);
        }
    }
}

/// An answer to the router's own call whose payload does not decode (the
/// decoders checked it on arrival, so this is not expected).
fn undecodable(e: wamp_proto::DecodeError) -> InternalError {
    InternalError::new(error_uri::INVALID_ARGUMENT, e.to_string())
}

/// Registrations and calls in flight of one realm.
#[derive(Debug, Default)]
pub(crate) struct Dealer {
    registrations: IdMap<Id, Registration>,
    index: PatternIndex,
    /// In-flight calls by (callee, invocation request).
    invocations: IdMap<(Id, Id), PendingCall>,
    /// In-flight calls by (caller, call request) -> (callee, invocation request).
    calls: IdMap<(Id, Id), (Id, Id)>,
    /// Request IDs of the router's own calls.
    internal_ids: wamp_proto::IdSequence,
    /// (caller, request) of calls with progressive invocations that ended,
    /// oldest first, at most [`ENDED_INPUTS`].
    ended_inputs: std::collections::VecDeque<(Id, Id)>,
    ended_lookup: std::collections::HashSet<(Id, Id)>,
}

impl Dealer {
    pub fn register(&mut self, sessions: &Sessions, broker: &Broker, sid: Id, msg: msg::Register) {
        let msg::Register {
            request,
            options,
            procedure,
        } = msg;
        let policy = options.match_policy.unwrap_or_default();
        let invoke = options.invoke.unwrap_or_default();
        let fail =
            |error: &str, msg: String| send_error(sessions, sid, MessageType::Register, request, error, msg);
        if let Err(e) = uri::validate_pattern(&procedure, policy, UriRule::Loose) {
            return fail(error_uri::INVALID_URI, e.to_string());
        }
        if uri::is_router_namespace(&procedure) {
            return fail(
                error_uri::INVALID_URI,
                format!("cannot register {procedure:?}: the wamp. namespace belongs to the router"),
            );
        }
        let (reg_id, created) = match self.index.get(&procedure, policy) {
            Some(existing) => {
                let reg = self
                    .registrations
                    .get_mut(&existing)
                    .expect("index and map agree");
                if reg.invoke != invoke {
                    return fail(
                        error_uri::PROCEDURE_EXISTS_WITH_DIFFERENT_INVOCATION_POLICY,
                        format!(
                            "{procedure:?} ({policy}) is registered with invoke policy {:?}, not {:?}",
                            reg.invoke.as_str(),
                            invoke.as_str()
                        ),
                    );
                }
                if reg.invoke == InvokePolicy::Single {
                    return fail(
                        error_uri::PROCEDURE_ALREADY_EXISTS,
                        format!(
                            "{procedure:?} ({policy}) is already registered with invoke policy {:?}",
                            reg.invoke.as_str()
                        ),
                    );
                }
                if reg.callees.contains(&sid) {
                    return fail(
                        error_uri::PROCEDURE_ALREADY_EXISTS,
                        format!("this session already registered {procedure:?}"),
                    );
                }
                reg.callees.push(sid);
                (existing, false)
            }
            None => {
                let reg_id = id::random_id();
                self.index.insert(procedure.clone(), policy, reg_id);
                self.registrations.insert(
                    reg_id,
                    Registration {
                        uri: procedure,
                        policy,
                        invoke,
                        disclose_caller: options.disclose_caller.unwrap_or(false),
                        callees: vec![sid],
                        next: 0,
                        created: SystemTime::now(),
                    },
                );
                (reg_id, true)
            }
        };
        send_to(
            sessions,
            sid,
            Message::Registered(msg::Registered {
                request,
                registration: reg_id,
            }),
        );
        if created {
            broker.publish_meta(sessions, meta_uri::REGISTRATION_ON_CREATE, || {
                let reg = &self.registrations[&reg_id];
                vec![
                    Value::UInt(sid),
                    Value::Dict(meta::registration_details(reg_id, reg)),
                ]
            });
        }
        broker.publish_meta(sessions, meta_uri::REGISTRATION_ON_REGISTER, || {
            vec![Value::UInt(sid), Value::UInt(reg_id)]
        });
    }

    pub fn unregister(&mut self, sessions: &Sessions, broker: &Broker, sid: Id, msg: msg::Unregister) {
        let msg::Unregister {
            request,
            registration,
        } = msg;
        if let Some(deleted) = self.detach(sid, registration) {
            send_to(
                sessions,
                sid,
                Message::Unregistered(msg::Unregistered {
                    request,
                    details: None,
                }),
            );
            announce_removal(sessions, broker, sid, registration, deleted);
        } else {
            send_error(
                sessions,
                sid,
                MessageType::Unregister,
                request,
                error_uri::NO_SUCH_REGISTRATION,
                format!("session holds no registration {registration}"),
            );
        }
    }

    /// Removes `sid` from a registration's callees, deleting it when none
    /// is left: says whether it was deleted, `None` when `sid` was no
    /// callee of it.
    fn detach(&mut self, sid: Id, registration: Id) -> Option<bool> {
        let reg = self.registrations.get_mut(&registration)?;
        let pos = reg.callees.iter().position(|c| *c == sid)?;
        reg.callees.remove(pos);
        let deleted = reg.callees.is_empty();
        if deleted {
            let reg = self.registrations.remove(&registration).expect("present above");
            self.index.remove(&reg.uri, reg.policy);
        }
        Some(deleted)
    }

    /// Removes `callee` from a registration on the router's initiative
    /// (`wamp.registration.remove_callee`), with the meta events of an
    /// UNREGISTER; a callee that announced `registration_revocation` gets
    /// UNREGISTERED with request 0. Calls it is running go on. `false`
    /// when it was no callee of the registration.
    pub fn revoke(
        &mut self,
        sessions: &Sessions,
        broker: &Broker,
        callee: Id,
        registration: Id,
        reason: Option<String>,
    ) -> bool {
        let Some(deleted) = self.detach(callee, registration) else {
            return false;
        };
        if sessions.get(&callee).is_some_and(|c| c.revocation.0) {
            let details = wamp_proto::RevokeDetails {
                registration: Some(registration),
                reason,
                ..Default::default()
            };
            send_to(
                sessions,
                callee,
                Message::Unregistered(msg::Unregistered {
                    request: 0,
                    details: Some(details),
                }),
            );
        }
        announce_removal(sessions, broker, callee, registration, deleted);
        true
    }

    /// The registrations, for the meta API.
    pub fn registrations(&self) -> &IdMap<Id, Registration> {
        &self.registrations
    }

    /// The registration of exactly this procedure and policy.
    pub fn lookup(&self, procedure: &str, policy: MatchPolicy) -> Option<Id> {
        self.index.get(procedure, policy)
    }

    /// The registration a call of `procedure` would reach.
    pub fn best_match(&self, procedure: &str) -> Option<Id> {
        self.index.best_match(procedure).map(|(id, _)| id)
    }

    /// The protocol errors of a CALL, found before it is handled (an
    /// in-process session's direct route gives such a message back to go
    /// through its task, which aborts the session): `progress` from a
    /// caller that did not announce progressive call invocations, or a
    /// continuation naming another procedure.
    pub fn precheck(&self, sessions: &Sessions, sid: Id, msg: &msg::Call) -> Result<(), Violation> {
        if !sessions.get(&sid).is_some_and(|s| s.progressive_invocations.0) {
            // It continues nothing: its reused request IDs are refused as ever.
            if msg.options.progress == Some(true) {
                return Err(Violation(format!(
                    "CALL {} with progress, but progressive_call_invocations was not announced",
                    msg.request
                )));
            }
            return Ok(());
        }
        let input = self
            .calls
            .get(&(sid, msg.request))
            .and_then(|key| self.invocations.get(key))
            .and_then(|c| c.progressive.as_ref());
        match input {
            Some(input) if input.procedure != msg.procedure => Err(Violation(format!(
                "CALL {} continues a call of {:?} with {:?}",
                msg.request, input.procedure, msg.procedure
            ))),
            _ => Ok(()),
        }
    }

    /// A CALL: a new call, or the continuation of one with progressive
    /// invocations (the same request ID). `Err` aborts the caller's session.
    pub fn call(
        &mut self,
        realm: &Arc<Realm>,
        sessions: &Sessions,
        sid: Id,
        msg: msg::Call,
    ) -> Result<(), Violation> {
        let request = msg.request;
        let streams = sessions.get(&sid).is_some_and(|s| s.progressive_invocations.0);
        if !streams {
            // A caller that continues no call: nothing to look up for it.
        } else if let Some(&(callee, invocation)) = self.calls.get(&(sid, request)) {
            let open = self
                .invocations
                .get(&(callee, invocation))
                .and_then(|c| c.progressive.as_ref())
                .map(|p| p.open);
            match open {
                Some(true) => return self.continue_call(sessions, sid, callee, invocation, msg),
                // After its last chunk (or a cancel): dropped.
                Some(false) => return Ok(()),
                None => {} // a reused request ID: refused below
            }
        } else if self.ended_lookup.contains(&(sid, request)) {
            // The continuation of a call that ended meanwhile: its caller
            // has (or will have) its outcome. Dropped, as the spec says.
            return Ok(());
        }
        let routed = self.route(realm, sessions, sid, msg, &mut None);
        if let Err((error, msg)) = routed {
            send_error(sessions, sid, MessageType::Call, request, error, msg);
        }
        Ok(())
    }

    /// Forwards a chunk of a call with progressive invocations to the
    /// callee of its first CALL, as an INVOCATION with the same request.
    fn continue_call(
        &mut self,
        sessions: &Sessions,
        sid: Id,
        callee: Id,
        invocation: Id,
        msg: msg::Call,
    ) -> Result<(), Violation> {
        let msg::Call {
            options,
            procedure,
            payload,
            ..
        } = msg;
        let Some(input) = self
            .invocations
            .get_mut(&(callee, invocation))
            .and_then(|c| c.progressive.as_mut())
        else {
            return Ok(());
        };
        debug_assert_eq!(input.procedure, procedure, "checked by precheck");
        let more = options.progress == Some(true);
        if !more {
            input.open = false;
        }
        let registration = input.registration;
        let checked = Payload {
            body: &payload,
            dicts: &[],
            strs: &[],
        };
        let caller_serializer = sessions.get(&sid).and_then(|c| c.serializer);
        let callee_serializer = sessions.get(&callee).and_then(|c| c.serializer);
        if let Some(e) = checked.refusal(caller_serializer, callee_serializer) {
            let cause = format!("a chunk of the call: {e}, which the callee uses");
            self.fail_undeliverable(sessions, callee, invocation, true, cause);
            return Ok(());
        }
        let details = InvocationDetails {
            progress: more.then_some(true),
            ..Default::default()
        };
        send_to(
            sessions,
            callee,
            Message::from(msg::Invocation {
                request: invocation,
                registration,
                details,
                payload,
            }),
        );
        Ok(())
    }

    /// A call made by the router itself; the answer (or the failure to
    /// route it) goes to `reply`. The call's request ID is the router's
    /// own, whatever `call.request` says; its `timeout` option is enforced
    /// as for any call.
    pub fn call_internal(
        &mut self,
        realm: &Arc<Realm>,
        sessions: &Sessions,
        mut call: msg::Call,
        reply: oneshot::Sender<InternalOutcome>,
    ) {
        call.request = self.internal_ids.next();
        let mut internal = Some(reply);
        let routed = self.route(realm, sessions, ROUTER_CALLER, call, &mut internal);
        if let (Err((error, msg)), Some(reply)) = (routed, internal) {
            let _ = reply.send(Err(InternalError::new(error, msg)));
        }
    }

    /// Routes a call to a callee, or says why it cannot (error URI, message).
    fn route(
        &mut self,
        realm: &Arc<Realm>,
        sessions: &Sessions,
        sid: Id,
        msg: msg::Call,
        internal: &mut Option<oneshot::Sender<InternalOutcome>>,
    ) -> Result<(), (&'static str, String)> {
        let msg::Call {
            request,
            options,
            procedure,
            payload,
        } = msg;
        if let Err(e) = uri::validate(&procedure, UriRule::Loose, false) {
            return Err((error_uri::INVALID_URI, e.to_string()));
        }
        if self.calls.contains_key(&(sid, request)) {
            // Reusing an in-flight request ID would misroute results.
            return Err((
                error_uri::PROTOCOL_VIOLATION,
                format!("call request ID {request} is already in flight"),
            ));
        }
        let Some((reg_id, _)) = self.index.best_match(&procedure) else {
            return Err((
                error_uri::NO_SUCH_PROCEDURE,
                format!("no callee registered procedure {procedure:?}"),
            ));
        };
        let reg = self.registrations.get_mut(&reg_id).expect("index and map agree");
        let callee = pick_callee(reg);
        let Some(callee_entry) = sessions.get(&callee) else {
            return Err((error_uri::NO_SUCH_PROCEDURE, "callee is gone".into()));
        };
        // A pattern registration's INVOCATION carries the procedure too.
        let procedure_str: &[(&str, &str)] = match reg.policy {
            MatchPolicy::Exact => &[],
            _ => &[("procedure", &procedure)],
        };
        let checked = Payload {
            body: &payload,
            dicts: &[],
            strs: procedure_str,
        };
        let caller_serializer = sessions.get(&sid).and_then(|c| c.serializer);
        if let Some(e) = checked.refusal(caller_serializer, callee_entry.serializer) {
            return Err((error_uri::INVALID_ARGUMENT, format!("{e}, which the callee uses")));
        }
        let progressive = options.progress == Some(true);
        if progressive && !(callee_entry.progressive_invocations.1 && callee_entry.callee_cancels) {
            return Err((
                error_uri::FEATURE_NOT_SUPPORTED,
                format!(
                    "the callee of {procedure:?} did not announce progressive_call_invocations and call_canceling"
                ),
            ));
        }
        let progressive = progressive.then(|| {
            Box::new(ProgressiveInput {
                procedure: procedure.clone(),
                registration: reg_id,
                open: true,
            })
        });
        let invocation = callee_entry.invocation_ids.next();

        let receive_progress = options.receive_progress.unwrap_or(false);
        let mut details = InvocationDetails::default();
        if progressive.is_some() {
            details.progress = Some(true);
        }
        if reg.policy != MatchPolicy::Exact {
            details.procedure = Some(procedure);
        }
        if receive_progress {
            details.receive_progress = Some(true);
        }
        if options.disclose_me.unwrap_or(false) || reg.disclose_caller {
            if let Some(caller) = sessions.get(&sid) {
                details.caller = Some(caller.id);
                details.caller_authid = Some(caller.authid.clone());
                details.caller_authrole = Some(caller.authrole.clone());
            }
        }
        let timer = match options.timeout {
            Some(ms) if ms > 0 => {
                details.timeout = Some(ms);
                let realm = Arc::downgrade(realm);
                Some(
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        if let Some(realm) = realm.upgrade() {
                            realm.call_timed_out(sid, request);
                        }
                    })
                    .abort_handle(),
                )
            }
            _ => None,
        };
        self.invocations.insert(
            (callee, invocation),
            PendingCall {
                caller: sid,
                call_request: request,
                receive_progress,
                timer,
                internal: internal.take(),
                progressive,
            },
        );
        self.calls.insert((sid, request), (callee, invocation));
        if let Some(caller) = sessions.get(&sid) {
            caller.outbound.call_started();
        }
        callee_entry.outbound.invocation_started();
        send_to(
            sessions,
            callee,
            Message::from(msg::Invocation {
                request: invocation,
                registration: reg_id,
                details,
                payload,
            }),
        );
        Ok(())
    }

    /// Forgets a finished call, stopping its timer.
    fn finish(&mut self, sessions: &Sessions, callee: Id, invocation: Id) -> Option<PendingCall> {
        let call = self.invocations.remove(&(callee, invocation))?;
        self.calls.remove(&(call.caller, call.call_request));
        if call.progressive.is_some() {
            let key = (call.caller, call.call_request);
            if self.ended_inputs.len() >= ENDED_INPUTS {
                if let Some(old) = self.ended_inputs.pop_front() {
                    self.ended_lookup.remove(&old);
                }
            }
            self.ended_inputs.push_back(key);
            self.ended_lookup.insert(key);
        }
        if let Some(caller) = sessions.get(&call.caller) {
            caller.outbound.call_ended();
        }
        if let Some(callee) = sessions.get(&callee) {
            callee.outbound.invocation_ended();
        }
        if let Some(t) = &call.timer {
            t.abort();
        }
        Some(call)
    }

    pub fn on_yield(&mut self, sessions: &Sessions, sid: Id, msg: msg::Yield) {
        let msg::Yield {
            request,
            options,
            payload,
        } = msg;
        let progress = options.progress.unwrap_or(false);
        let Some(call) = self.invocations.get(&(sid, request)) else {
            // A YIELD for a call already answered (canceled, timed out) is dropped.
            return;
        };
        if progress && !call.receive_progress {
            // Progressive results go only to callers that asked for them.
            return;
        }
        let checked = Payload {
            body: &payload,
            dicts: &[],
            strs: &[],
        };
        if let Some(e) = self.refusal(sessions, sid, call.caller, &checked) {
            let what = if progress { "progressive result" } else { "result" };
            let cause = format!("the callee's {what}: {e}, which this caller uses");
            return self.fail_undeliverable(sessions, sid, request, progress, cause);
        }
        if progress {
            let details = ResultDetails {
                progress: Some(true),
                ..Default::default()
            };
            let msg = Message::Result(msg::Result {
                request: call.call_request,
                details,
                payload,
            });
            send_to(sessions, call.caller, msg);
            return;
        }
        if let Some(call) = self.finish(sessions, sid, request) {
            let msg = Message::Result(msg::Result {
                request: call.call_request,
                details: ResultDetails::default(),
                payload,
            });
            answer(sessions, call, msg);
        }
    }

    /// Why the answer of `callee` cannot go to `caller`, if it cannot.
    fn refusal(
        &self,
        sessions: &Sessions,
        callee: Id,
        caller: Id,
        payload: &Payload<'_>,
    ) -> Option<ReprError> {
        let sender = sessions.get(&callee).and_then(|c| c.serializer);
        // The router's own calls (no caller session) take values as they are.
        let receiver = sessions.get(&caller).and_then(|c| c.serializer);
        payload.refusal(sender, receiver)
    }

    /// Ends a call whose callee answered with something its caller cannot
    /// receive: the caller gets `wamp.error.invalid_argument` naming the
    /// cause, and a callee still `running` (it sent a progressive result),
    /// if it understands, an INTERRUPT.
    fn fail_undeliverable(
        &mut self,
        sessions: &Sessions,
        callee: Id,
        invocation: Id,
        running: bool,
        cause: String,
    ) {
        let Some(call) = self.finish(sessions, callee, invocation) else {
            return;
        };
        tracing::warn!(
            callee,
            caller = call.caller,
            "answer of a call not delivered, the call fails: {cause}"
        );
        if running {
            interrupt_if_understood(sessions, callee, invocation, error_uri::INVALID_ARGUMENT);
        }
        let msg = Message::error(
            MessageType::Call,
            call.call_request,
            error_uri::INVALID_ARGUMENT,
            vec![Value::Str(cause)],
            Dict::new(),
        );
        answer(sessions, call, msg);
    }

    /// An ERROR answering an INVOCATION (the caller checked `request_type`).
    pub fn on_invocation_error(&mut self, sessions: &Sessions, sid: Id, msg: msg::Error) {
        let msg::Error {
            request,
            details,
            error,
            payload,
            ..
        } = msg;
        let Some(call) = self.invocations.get(&(sid, request)) else {
            return;
        };
        // The error is a URI the caller's peer reads as one, whatever the
        // serializers (a JSON string starting with NUL would read as binary).
        if let Err(e) = uri::validate(&error, UriRule::Loose, false) {
            let cause = format!("the callee's error is not a URI: {e}");
            return self.fail_undeliverable(sessions, sid, request, false, cause);
        }
        let checked = Payload {
            body: &payload,
            dicts: &[("details", &details)],
            strs: &[("error", &error)],
        };
        if let Some(e) = self.refusal(sessions, sid, call.caller, &checked) {
            let cause = format!("the callee's error {error:?}: {e}, which this caller uses");
            return self.fail_undeliverable(sessions, sid, request, false, cause);
        }
        if let Some(call) = self.finish(sessions, sid, request) {
            let msg = Message::Error(msg::Error {
                request_type: MessageType::Call,
                request: call.call_request,
                details,
                error,
                payload,
            });
            answer(sessions, call, msg);
        }
    }

    pub fn cancel(&mut self, sessions: &Sessions, sid: Id, msg: msg::Cancel) {
        let msg::Cancel { request, options } = msg;
        let Some(&(callee, invocation)) = self.calls.get(&(sid, request)) else {
            return; // already answered: nothing to cancel
        };
        // A canceled call takes no more chunks.
        if let Some(p) = self
            .invocations
            .get_mut(&(callee, invocation))
            .and_then(|c| c.progressive.as_mut())
        {
            p.open = false;
        }
        let callee_cancels = sessions.get(&callee).is_some_and(|c| c.callee_cancels);
        let mut mode = options.mode.unwrap_or_default();
        if !callee_cancels {
            mode = CancelMode::Skip; // the callee would not understand INTERRUPT
        }
        if mode != CancelMode::Skip {
            interrupt(sessions, callee, invocation, mode, error_uri::CANCELED);
        }
        if mode != CancelMode::Kill {
            self.finish(sessions, callee, invocation);
            send_error(
                sessions,
                sid,
                MessageType::Call,
                request,
                error_uri::CANCELED,
                format!("call canceled by the caller (mode {})", mode.as_str()),
            );
        }
    }

    pub fn timeout(&mut self, sessions: &Sessions, caller: Id, request: Id) {
        let Some(&(callee, invocation)) = self.calls.get(&(caller, request)) else {
            return;
        };
        let Some(call) = self.finish(sessions, callee, invocation) else {
            return;
        };
        interrupt_if_understood(sessions, callee, invocation, error_uri::TIMEOUT);
        let msg = Message::error(
            MessageType::Call,
            request,
            error_uri::TIMEOUT,
            vec![Value::Str("call timed out in the router".into())],
            Dict::new(),
        );
        answer(sessions, call, msg);
    }

    /// Removes a leaving session's registrations; its calls in flight fail
    /// at once for their callers, and its own calls are interrupted at their
    /// callees.
    pub fn remove_session(&mut self, sessions: &Sessions, broker: &Broker, sid: Id) {
        let held: Vec<Id> = self
            .registrations
            .iter()
            .filter(|(_, r)| r.callees.contains(&sid))
            .map(|(id, _)| *id)
            .collect();
        for reg in held {
            if let Some(deleted) = self.detach(sid, reg) {
                announce_removal(sessions, broker, sid, reg, deleted);
            }
        }
        let as_callee: Vec<Id> = self
            .invocations
            .keys()
            .filter(|(c, _)| *c == sid)
            .map(|(_, i)| *i)
            .collect();
        for invocation in as_callee {
            if let Some(call) = self.finish(sessions, sid, invocation) {
                let msg = Message::error(
                    MessageType::Call,
                    call.call_request,
                    error_uri::CANCELED,
                    vec![Value::Str("callee disconnected from in-flight request".into())],
                    Dict::new(),
                );
                answer(sessions, call, msg);
            }
        }
        let as_caller: Vec<(Id, Id)> = self
            .calls
            .iter()
            .filter(|((caller, _), _)| *caller == sid)
            .map(|(_, v)| *v)
            .collect();
        for (callee, invocation) in as_caller {
            self.finish(sessions, callee, invocation);
            interrupt_if_understood(sessions, callee, invocation, error_uri::CANCELED);
        }
    }
}

/// Publishes `on_unregister`, then `on_delete` if the registration went.
fn announce_removal(sessions: &Sessions, broker: &Broker, sid: Id, registration: Id, deleted: bool) {
    let args = || vec![Value::UInt(sid), Value::UInt(registration)];
    broker.publish_meta(sessions, meta_uri::REGISTRATION_ON_UNREGISTER, args);
    if deleted {
        broker.publish_meta(sessions, meta_uri::REGISTRATION_ON_DELETE, args);
    }
}

/// Sends INTERRUPT for an invocation.
fn interrupt(sessions: &Sessions, callee: Id, invocation: Id, mode: CancelMode, reason: &str) {
    let options = InterruptOptions {
        mode: Some(mode),
        reason: Some(reason.to_owned()),
        ..Default::default()
    };
    send_to(
        sessions,
        callee,
        Message::Interrupt(msg::Interrupt {
            request: invocation,
            options,
        }),
    );
}

/// Interrupts (killnowait) an invocation whose answer nobody waits for any
/// more, if the callee announced `call_canceling`.
fn interrupt_if_understood(sessions: &Sessions, callee: Id, invocation: Id, reason: &str) {
    if sessions.get(&callee).is_some_and(|c| c.callee_cancels) {
        interrupt(sessions, callee, invocation, CancelMode::KillNoWait, reason);
    }
}

fn pick_callee(reg: &mut Registration) -> Id {
    let n = reg.callees.len();
    match reg.invoke {
        InvokePolicy::Single | InvokePolicy::First => reg.callees[0],
        InvokePolicy::Last => reg.callees[n - 1],
        InvokePolicy::Random => reg.callees[rand::random_range(0..n)],
        InvokePolicy::RoundRobin => {
            let i = reg.next % n;
            reg.next = (i + 1) % n;
            reg.callees[i]
        }
    }
}

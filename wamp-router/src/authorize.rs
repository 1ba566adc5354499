//! Authorization of CALL, REGISTER, PUBLISH and SUBSCRIBE: a role's static
//! permissions (the best match for the URI, in Crossbar.io's order: exact,
//! then wildcard, then the longest prefix), or its dynamic authorizer
//! procedure, asked for every action.

use std::sync::Arc;
use std::time::Duration;
use wamp_proto::msg;

use wamp_proto::uri::MatchPolicy;
use wamp_proto::{Dict, Id, List, Message, MessageType, Value};

use crate::auth::config::{Action, Allow, Role};
use crate::auth::Identity;
use crate::dealer::InternalError;
use crate::matching::PatternIndex;
use crate::realm::Realm;

/// A role's permissions, indexed for matching.
#[derive(Debug, Default)]
pub(crate) struct CompiledRole {
    /// Exact and prefix permissions.
    index: PatternIndex,
    /// Wildcard permissions.
    wildcards: PatternIndex,
    allows: Vec<Allow>,
    /// The permission for the empty prefix, which matches every URI.
    everything: Option<Allow>,
    authorizer: Option<String>,
}

/// What the static configuration says about an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allow,
    Deny,
    /// Ask this authorizer procedure.
    Ask(String),
}

impl CompiledRole {
    pub fn new(role: &Role) -> Self {
        let mut compiled = CompiledRole {
            authorizer: role.authorizer.clone(),
            ..Default::default()
        };
        for p in &role.permissions {
            if p.uri.is_empty() && p.match_policy == MatchPolicy::Prefix {
                compiled.everything = Some(p.allow);
                continue;
            }
            let n = compiled.allows.len() as Id;
            let index = match p.match_policy {
                MatchPolicy::Wildcard => &mut compiled.wildcards,
                _ => &mut compiled.index,
            };
            match index.get(&p.uri, p.match_policy) {
                // A repeated pattern: the later entry wins.
                Some(i) => compiled.allows[i as usize] = p.allow,
                None => {
                    index.insert(p.uri.clone(), p.match_policy, n);
                    compiled.allows.push(p.allow);
                }
            }
        }
        compiled
    }

    pub fn has_authorizer(&self) -> bool {
        self.authorizer.is_some()
    }

    /// Whether every action on every URI is allowed (an open realm's role):
    /// then nothing needs checking.
    pub fn allows_everything(&self) -> bool {
        self.authorizer.is_none()
            && self.index.is_empty()
            && self.wildcards.is_empty()
            && self.everything.is_some_and(|a| a == Allow::ALL)
    }

    pub fn check(&self, action: Action, uri: &str) -> Verdict {
        if let Some(procedure) = &self.authorizer {
            return Verdict::Ask(procedure.clone());
        }
        let best = self
            .index
            .get(uri, MatchPolicy::Exact)
            .or_else(|| self.wildcards.best_match(uri).map(|(i, _)| i))
            .or_else(|| self.index.best_match(uri).map(|(i, _)| i));
        let allow = match best {
            Some(i) => self.allows[i as usize],
            None => self.everything.unwrap_or(Allow::NONE),
        };
        if allow.allows(action) {
            Verdict::Allow
        } else {
            Verdict::Deny
        }
    }
}

/// The action and URI of a message that needs authorization.
pub(crate) fn target(msg: &Message) -> Option<(Action, &str)> {
    match msg {
        Message::Call(m) => Some((Action::Call, &m.procedure)),
        Message::Register(msg::Register { procedure, .. }) => Some((Action::Register, procedure)),
        Message::Publish(m) => Some((Action::Publish, &m.topic)),
        Message::Subscribe(msg::Subscribe { topic, .. }) => Some((Action::Subscribe, topic)),
        _ => None,
    }
}

/// The request's options, as the authorizer gets them.
fn options_of(msg: &Message) -> Dict {
    match msg {
        Message::Call(m) => m.options.to_dict(),
        Message::Register(msg::Register { options, .. }) => options.to_dict(),
        Message::Publish(m) => m.options.to_dict(),
        Message::Subscribe(msg::Subscribe { options, .. }) => options.to_dict(),
        _ => Dict::new(),
    }
}

/// The ERROR refusing a request, or `None` for a PUBLISH without
/// acknowledgement (dropped silently).
pub(crate) fn refusal(msg: &Message, error: &str, message: String) -> Option<Message> {
    let (ty, request) = match msg {
        Message::Call(m) => (MessageType::Call, m.request),
        Message::Register(msg::Register { request, .. }) => (MessageType::Register, *request),
        Message::Subscribe(msg::Subscribe { request, .. }) => (MessageType::Subscribe, *request),
        Message::Publish(m) if m.options.acknowledge == Some(true) => (MessageType::Publish, m.request),
        _ => return None,
    };
    Some(Message::error(
        ty,
        request,
        error,
        vec![Value::Str(message)],
        Dict::new(),
    ))
}

/// The message of a `wamp.error.not_authorized` refusal (Crossbar's wording).
pub(crate) fn denied_message(identity: &Identity, sid: Id, realm: &str, action: Action, uri: &str) -> String {
    let what = match action {
        Action::Call => "call procedure",
        Action::Register => "register procedure",
        Action::Publish => "publish to topic",
        Action::Subscribe => "subscribe to topic",
    };
    format!(
        "session (session_id={sid}, authid={}, authrole={}) is not authorized to {what} '{uri}' on realm '{realm}'",
        identity.authid, identity.authrole
    )
}

/// Asks a dynamic authorizer whether `msg` may go ahead. `Err` carries the
/// message of a `wamp.error.authorization_failed`.
pub(crate) async fn ask(
    realm: &Arc<Realm>,
    procedure: &str,
    identity: &Identity,
    sid: Id,
    msg: &Message,
    timeout: Duration,
) -> Result<bool, String> {
    let Some((action, uri)) = target(msg) else {
        return Ok(true);
    };
    let args: List = vec![
        Value::Dict(identity.details(sid, realm.name())),
        Value::Str(uri.to_owned()),
        Value::Str(action.as_str().to_owned()),
        Value::Dict(options_of(msg)),
    ];
    let failed = |why: String| format!("failed to authorize session for {action} on '{uri}': {why}");
    match realm.call(procedure, args, Dict::new(), timeout).await {
        Ok((args, _)) => match args.first() {
            Some(Value::Bool(allow)) => Ok(*allow),
            Some(Value::Dict(d)) => match d.get("allow") {
                Some(Value::Bool(allow)) => Ok(*allow),
                _ => Err(failed(format!(
                    "authorizer {procedure} returned no boolean \"allow\""
                ))),
            },
            other => Err(failed(format!(
                "authorizer {procedure} returned {}, not a boolean",
                other.map(Value::kind).unwrap_or("nothing")
            ))),
        },
        Err(InternalError { error, args, .. }) => {
            let detail = args.first().map(|a| format!(": {a}")).unwrap_or_default();
            Err(failed(format!("{error}{detail}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::config::Permission;

    #[test]
    fn best_match_decides() {
        let read = Allow {
            call: true,
            subscribe: true,
            ..Allow::NONE
        };
        let role = Role::new("r")
            .permit(Permission::prefix("com.example.", read))
            .permit(Permission::exact("com.example.admin.reset", Allow::NONE))
            .permit(Permission::wildcard("com..update", Allow::ALL));
        let c = CompiledRole::new(&role);
        assert_eq!(c.check(Action::Call, "com.example.add"), Verdict::Allow);
        assert_eq!(c.check(Action::Register, "com.example.add"), Verdict::Deny);
        assert_eq!(c.check(Action::Call, "com.example.admin.reset"), Verdict::Deny);
        assert_eq!(c.check(Action::Register, "com.other.update"), Verdict::Allow);
        // A matching wildcard beats a prefix, as in Crossbar.io.
        assert_eq!(c.check(Action::Register, "com.example.update"), Verdict::Allow);
        assert_eq!(c.check(Action::Call, "org.example.add"), Verdict::Deny);
    }

    #[test]
    fn empty_prefix_is_a_fallback() {
        let c =
            CompiledRole::new(&Role::full_access("a").permit(Permission::prefix("com.secret.", Allow::NONE)));
        assert_eq!(c.check(Action::Publish, "anything"), Verdict::Allow);
        assert_eq!(c.check(Action::Publish, "com.secret.x"), Verdict::Deny);
    }

    #[test]
    fn dynamic_roles_ask() {
        let c = CompiledRole::new(&Role::dynamic("d", "com.example.authorize"));
        assert_eq!(
            c.check(Action::Call, "x"),
            Verdict::Ask("com.example.authorize".into())
        );
    }
}

//! Service descriptions: every procedure and topic with its URI and the
//! JSON Schemas (schemars) of its parameters, result and errors, so that
//! other tools and languages can call a service correctly.

use serde::Serialize;

/// Where a parameter's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterSource {
    /// A component of the concrete URI (`<int:id>`, `<name>`, `<suffix:path>`).
    Uri,
    /// A positional argument.
    Positional,
    /// A keyword argument of the parameter's name.
    Keyword,
    /// All keyword arguments, as one object.
    Kwargs,
    /// The procedure's input stream (progressive call invocations): the
    /// schema is of each item, one positional argument of the call's later
    /// chunks (a `Streaming<T>` parameter).
    Input,
}

/// One parameter of a procedure or topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterDescription {
    /// The parameter's name.
    pub name: String,
    /// Where its value comes from.
    pub source: ParameterSource,
    /// The position among positional arguments, for positional parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
    /// The JSON Schema of its type.
    pub schema: serde_json::Value,
}

/// One error a procedure may answer with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorDescription {
    /// The error URI.
    pub uri: String,
    /// The Rust variant it maps to.
    pub variant: String,
    /// JSON Schema of the positional arguments (an array), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<serde_json::Value>,
    /// JSON Schema of the keyword arguments (an object), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kwargs: Option<serde_json::Value>,
}

/// A procedure of a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcedureDescription {
    /// The Rust method name.
    pub name: String,
    /// The URI pattern as written (`com.myapp.item.<int:id>.get_name`).
    pub uri: String,
    /// The URI registered on the wire (`com.myapp.item..get_name`).
    pub wire_uri: String,
    /// `exact`, `prefix` or `wildcard`.
    #[serde(rename = "match")]
    pub match_policy: String,
    /// The invoke policy, when not the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoke: Option<String>,
    /// Parameters, in declaration order.
    pub parameters: Vec<ParameterDescription>,
    /// JSON Schema of the result (of the single positional result, or of the
    /// whole `CallResult`); for a streaming procedure, of the final result.
    pub result: serde_json::Value,
    /// For a streaming procedure, JSON Schema of each progressive result
    /// (its single positional argument).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<serde_json::Value>,
    /// Error URIs the procedure may answer with.
    pub errors: Vec<ErrorDescription>,
}

/// A topic of a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicDescription {
    /// The Rust method name.
    pub name: String,
    /// The URI pattern as written.
    pub uri: String,
    /// The URI subscribed on the wire.
    pub wire_uri: String,
    /// `exact`, `prefix` or `wildcard`.
    #[serde(rename = "match")]
    pub match_policy: String,
    /// Parameters (event payload and URI components), in declaration order.
    pub parameters: Vec<ParameterDescription>,
}

/// A whole service: its procedures and topics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDescription {
    /// The service's Rust name.
    pub name: String,
    /// Its procedures.
    pub procedures: Vec<ProcedureDescription>,
    /// Its topics.
    pub topics: Vec<TopicDescription>,
}

impl ServiceDescription {
    /// The description as pretty JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The URI components that every procedure and topic of the service
    /// starts with, each URI's last component (its own name) and pattern
    /// components left out: `com.myapp` for `com.myapp.item..get_name` and
    /// `com.myapp...on_concert`. `None` when they share none.
    pub fn uri_prefix(&self) -> Option<String> {
        let uris = self
            .procedures
            .iter()
            .map(|p| p.wire_uri.as_str())
            .chain(self.topics.iter().map(|t| t.wire_uri.as_str()));
        let mut common: Option<Vec<&str>> = None;
        for uri in uris {
            let mut parts: Vec<&str> = uri.trim_end_matches('.').split('.').collect();
            parts.pop();
            let fixed: Vec<&str> = parts.into_iter().take_while(|c| !c.is_empty()).collect();
            common = Some(match common {
                None => fixed,
                Some(c) => c
                    .iter()
                    .zip(&fixed)
                    .take_while(|(a, b)| a == b)
                    .map(|(a, _)| *a)
                    .collect(),
            });
        }
        common.filter(|c| !c.is_empty()).map(|c| c.join("."))
    }

    /// A procedure by Rust method name.
    pub fn procedure(&self, name: &str) -> Option<&ProcedureDescription> {
        self.procedures.iter().find(|p| p.name == name)
    }

    /// A topic by Rust method name.
    pub fn topic(&self, name: &str) -> Option<&TopicDescription> {
        self.topics.iter().find(|t| t.name == name)
    }
}

/// The JSON Schema of a type (a root schema with its own definitions).
pub fn schema_of<T: schemars::JsonSchema + ?Sized>() -> serde_json::Value {
    schemars::SchemaGenerator::default()
        .into_root_schema_for::<T>()
        .to_value()
}

/// A parameter's description (generated code). Positions are given in
/// [`service_description`] order.
pub fn param(name: &str, source: ParameterSource, schema: serde_json::Value) -> ParameterDescription {
    ParameterDescription {
        name: name.to_owned(),
        source,
        position: None,
        schema,
    }
}

/// Numbers the positional parameters in order.
fn number(mut params: Vec<ParameterDescription>) -> Vec<ParameterDescription> {
    let positional = params
        .iter_mut()
        .filter(|p| p.source == ParameterSource::Positional);
    for (i, p) in positional.enumerate() {
        p.position = Some(i);
    }
    params
}

/// A procedure's description (generated code); `invoke` is empty for the default.
#[allow(clippy::too_many_arguments)]
pub fn procedure_description(
    name: &str,
    uri: &str,
    wire_uri: &str,
    match_policy: &str,
    invoke: &str,
    parameters: impl Into<Vec<ParameterDescription>>,
    result: serde_json::Value,
    progress: Option<serde_json::Value>,
    errors: Vec<ErrorDescription>,
) -> ProcedureDescription {
    ProcedureDescription {
        name: name.to_owned(),
        uri: uri.to_owned(),
        wire_uri: wire_uri.to_owned(),
        match_policy: match_policy.to_owned(),
        invoke: (!invoke.is_empty()).then(|| invoke.to_owned()),
        parameters: number(parameters.into()),
        result,
        progress,
        errors,
    }
}

/// A topic's description (generated code).
pub fn topic_description(
    name: &str,
    uri: &str,
    wire_uri: &str,
    match_policy: &str,
    parameters: impl Into<Vec<ParameterDescription>>,
) -> TopicDescription {
    TopicDescription {
        name: name.to_owned(),
        uri: uri.to_owned(),
        wire_uri: wire_uri.to_owned(),
        match_policy: match_policy.to_owned(),
        parameters: number(parameters.into()),
    }
}

/// A service's description (generated code).
pub fn service_description(
    name: &str,
    procedures: impl Into<Vec<ProcedureDescription>>,
    topics: impl Into<Vec<TopicDescription>>,
) -> ServiceDescription {
    ServiceDescription {
        name: name.to_owned(),
        procedures: procedures.into(),
        topics: topics.into(),
    }
}

//! The answers every operation shares, written once for the whole document
//! after the routes are merged: an operation is annotated with what is its
//! own (its success, its 403, 404, 409 and 422), and this adds what follows
//! from its shape alone, so a new route cannot forget it:
//!
//! - a route behind the bearer token answers 401 without one;
//! - a route with a path, query or body answers 400 when it cannot be read;
//! - a route with a JSON body answers 413 past the size limit and 422 for a
//!   date outside 1900-2200 (`api::extract::ApiJson`);
//! - every `/api` route reads the database, so it may answer 503.
//!
//! Every error answer without a description gets its status's sentence:
//! OpenAPI requires one on every response.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::Ref;
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, Response, ResponseBuilder};

const NOT_SIGNED_IN: &str =
    "Not signed in: the bearer token is missing, invalid or expired (unauthenticated)";

/// What an error status means on any route of this API.
fn status_sentence(status: &str) -> Option<&'static str> {
    Some(match status {
        "400" => {
            "The request could not be read: malformed JSON, a missing or mistyped field, \
             or a bad path or query parameter (malformed_request)"
        }
        "401" => NOT_SIGNED_IN,
        "403" => "Signed in, but this role may not do this (forbidden)",
        "404" => "No such record (not_found)",
        "409" => "The record's state does not allow this; the error code says why",
        "413" => "The request body is larger than the service accepts (payload_too_large)",
        "422" => {
            "The request was read but breaks a rule (e.g. invalid_field: a date outside \
             1900-2200); the error code and details say which"
        }
        "503" => {
            "The database does not answer (database_unavailable), or writes are stopped \
             because the ledger is inconsistent with its signed checkpoint (ledger_inconsistent)"
        }
        _ => return None,
    })
}

/// Adds the shared answers and the missing descriptions to every operation.
pub fn complete(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let reads_database = path.starts_with("/api/");
        for operation in operations(item) {
            complete_operation(operation, reads_database);
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
        item.query.as_mut(),
    ]
    .into_iter()
    .flatten()
    .chain(item.additional_operations.values_mut())
}

fn complete_operation(operation: &mut Operation, reads_database: bool) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let has_body = operation.request_body.is_some();
    let has_parameters = operation
        .parameters
        .as_ref()
        .is_some_and(|parameters| !parameters.is_empty());

    let mut shared = Vec::new();
    if has_body || has_parameters {
        shared.push("400");
    }
    if secured {
        shared.push("401");
    }
    if has_body {
        shared.extend(["413", "422"]);
    }
    if reads_database {
        shared.push("503");
    }
    let responses = &mut operation.responses.responses;
    for status in shared {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_response(status)));
    }

    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let Some(sentence) = status_sentence(status) else {
            continue;
        };
        if response.description.is_empty() {
            response.description = sentence.to_owned();
        } else if status == "401" && secured && !response.description.contains("signed in") {
            // e.g. "signature_invalid": the token can fail first.
            response.description = format!("{NOT_SIGNED_IN}; or {}", response.description);
        }
    }
}

fn error_response(status: &str) -> Response {
    ResponseBuilder::new()
        .description(status_sentence(status).unwrap_or_default())
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// A file's bytes (a label image, a PDF sheet), documented as what it is:
/// OpenAPI's binary string, not a JSON array of numbers.
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for FileBytes {}

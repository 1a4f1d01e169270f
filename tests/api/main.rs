//! Integration tests: the real application on a fresh database, over HTTP.
//! Every test runs twice, on SQLite and on PostgreSQL (from
//! `CELLTRAIL_TEST_PG_URL`; without it only the SQLite half runs, unless
//! `CI` is set, where a missing PostgreSQL is a failure).

mod clinic;
mod helpers;
mod processes;
mod readback;
mod story;

mod adverse_event_corrections;
mod adverse_events;
mod audit;
mod auth;
mod backup;
mod chain_of_identity;
mod checkpoints;
mod cli;
mod contract;
mod crash;
mod demoday;
mod demomark;
mod donors;
mod doses;
mod group_commit;
mod holds;
mod holes;
mod infusions;
mod instances;
mod label_pdf;
mod labels;
mod languages;
mod ledger;
mod lists;
mod lockout;
mod lots;
mod openapi;
mod patients;
mod platform;
mod printing;
mod printing_box;
mod printing_donation;
mod protocol;
mod replay;
mod safety;
mod scan;
mod sessions;
mod shipment_documents;
mod shipments;
mod site_lists;
mod sites;
mod statements;
mod storage;
mod temperature;
mod trace;
mod users;
mod web;
mod web_admin;
mod web_donors;
mod web_enrolment;
mod web_history;
mod web_lab;
mod web_lists;
mod web_pictures;
mod web_refusals;
mod web_scan_store;
mod web_shipments;
